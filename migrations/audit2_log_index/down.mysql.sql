-- MySQL/MariaDB: an index belongs to its table, so DROP INDEX names the table.
DROP INDEX ix_audit_log_occurred_at ON audit_log;
