-- Dropping the table drops its index and foreign key too, on every dialect.
DROP TABLE user_preferences;
