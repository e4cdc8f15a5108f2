-- INSTANT: only the data dictionary changes, the rows are not copied.
-- braid:allow B503 MySQL has no ADD COLUMN IF NOT EXISTS (MariaDB has); a run stopped on this statement says so, and how to finish the revision (by hand, then `stamp`)
ALTER TABLE plans ADD COLUMN price_minor BIGINT NOT NULL DEFAULT 0, ALGORITHM=INSTANT;

-- The release still running writes only price_cents: copy it into price_minor on insert (when
-- price_minor was left at its default) and on update (when price_cents changed and
-- price_minor did not). One statement each, so no BEGIN … END and no DELIMITER.
CREATE TRIGGER plans_price_minor_insert BEFORE INSERT ON plans FOR EACH ROW
    SET NEW.price_minor = IF(NEW.price_minor = 0, NEW.price_cents, NEW.price_minor);
CREATE TRIGGER plans_price_minor_update BEFORE UPDATE ON plans FOR EACH ROW
    SET NEW.price_minor = IF(
        NEW.price_cents <> OLD.price_cents AND NEW.price_minor = OLD.price_minor,
        NEW.price_cents,
        NEW.price_minor
    );
