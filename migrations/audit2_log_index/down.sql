-- Postgres and SQLite. MySQL needs the table name: see down.mysql.sql.
DROP INDEX ix_audit_log_occurred_at;
