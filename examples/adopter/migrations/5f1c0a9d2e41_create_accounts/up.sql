CREATE TABLE accounts (
    id BIGINT NOT NULL PRIMARY KEY,
    email VARCHAR(255) NOT NULL
);
CREATE UNIQUE INDEX ux_accounts_email ON accounts (email);
