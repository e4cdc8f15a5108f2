-- Standard SQL: one file serves every dialect.
-- braid:allow B201 audit_log is created one revision earlier and is still small when this runs; an index on a busy table would get CREATE INDEX CONCURRENTLY in a revision with `transaction = false`
-- braid:allow B208 the same: no long query holds audit_log yet, so the lock is not waited for
CREATE INDEX ix_audit_log_occurred_at ON audit_log (occurred_at);
