-- Same on every dialect, so one generic file.
DROP TABLE users;
