-- SQLite has no online DDL: the database is locked for writes while the index is built (one
-- writer at a time is SQLite's model anyway; a writer with a busy timeout waits for it).
CREATE INDEX ix_plans_price_minor ON plans (price_minor);
