-- Standard SQL: one file serves every dialect.
CREATE INDEX ix_audit_log_occurred_at ON audit_log (occurred_at);
