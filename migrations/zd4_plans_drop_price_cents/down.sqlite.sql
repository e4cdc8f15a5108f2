-- Back to the schema zd3 left, exactly: price_cents INTEGER NOT NULL, without a default,
-- before price_minor. SQLite adds a column only at the end, and only NOT NULL with a default,
-- so plans is rebuilt under its own name. subscriptions references plans: its foreign key is
-- checked at COMMIT (defer_foreign_keys), once every plan is back.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE plans_before_zd4 AS SELECT id, code, name, price_minor FROM plans;
DROP TABLE plans;
CREATE TABLE plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code VARCHAR(50) NOT NULL UNIQUE,
    name VARCHAR(200) NOT NULL,
    price_cents INTEGER NOT NULL,
    price_minor BIGINT NOT NULL DEFAULT 0
);
INSERT INTO plans (id, code, name, price_cents, price_minor)
SELECT id, code, name, price_minor, price_minor FROM plans_before_zd4;
DROP TABLE plans_before_zd4;
CREATE INDEX ix_plans_price_minor ON plans (price_minor);
CREATE TRIGGER plans_price_minor_insert AFTER INSERT ON plans
WHEN NEW.price_minor = 0
BEGIN
    UPDATE plans SET price_minor = NEW.price_cents WHERE id = NEW.id;
END;
CREATE TRIGGER plans_price_minor_update AFTER UPDATE OF price_cents ON plans
WHEN NEW.price_cents <> OLD.price_cents AND NEW.price_minor = OLD.price_minor
BEGIN
    UPDATE plans SET price_minor = NEW.price_cents WHERE id = NEW.id;
END;
