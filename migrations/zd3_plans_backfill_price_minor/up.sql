-- braid:backfill key=id batch=500
UPDATE plans SET price_minor = price_cents WHERE price_minor <> price_cents;
