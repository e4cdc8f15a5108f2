-- braid:backfill key=id batch=500 pause_ms=5
-- SQLite has one write lock, and a writer waiting for it is not queued: without a pause, each
-- batch takes the lock again as soon as the one before committed, and the application's writes
-- wait (until their busy timeout) for the whole backfill. 5 ms between batches lets them in.
UPDATE plans SET price_minor = price_cents WHERE price_minor <> price_cents;
