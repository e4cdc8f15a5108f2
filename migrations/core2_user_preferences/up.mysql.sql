-- `name` rather than `key`: KEY is a reserved word in MySQL.
-- The index is declared inside CREATE TABLE: MySQL needs an index on a foreign key column and
-- would otherwise create one under its own name.
-- The foreign key is a table constraint: MySQL ignores `REFERENCES` written on a column.
CREATE TABLE user_preferences (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    name VARCHAR(100) NOT NULL,
    value VARCHAR(1000) NOT NULL,
    INDEX ix_user_preferences_user_id (user_id),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
