DROP TRIGGER plans_price_minor_update;
DROP TRIGGER plans_price_minor_insert;
-- SQLite has no online DDL: DROP COLUMN rewrites the table, holding the write lock meanwhile.
ALTER TABLE plans DROP COLUMN price_cents;
