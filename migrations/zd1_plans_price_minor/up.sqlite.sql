ALTER TABLE plans ADD COLUMN price_minor BIGINT NOT NULL DEFAULT 0;

-- The release still running writes only price_cents: copy it into price_minor on insert (when
-- price_minor was left at its default) and on update (when price_cents changed and
-- price_minor did not). SQLite triggers cannot assign NEW, so they update the row after.
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
