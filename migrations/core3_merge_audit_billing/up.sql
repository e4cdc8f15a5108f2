-- A merge needs no SQL, but it is the first revision that sees both branches' tables: this
-- view needs audit_log (audit) and subscriptions (billing).
-- braid:allow B503 no guard works on every dialect (SQLite has no OR REPLACE, Postgres and MySQL no IF NOT EXISTS for views); a MySQL run stopped here says so, and `stamp` settles it
CREATE VIEW subscriber_activity AS
SELECT s.id AS subscription_id, s.user_id, a.action, a.occurred_at
FROM subscriptions s
JOIN audit_log a ON a.user_id = s.user_id;
