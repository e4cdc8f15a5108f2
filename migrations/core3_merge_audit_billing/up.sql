-- A merge needs no SQL, but it is the first revision that sees both branches' tables: this
-- view needs audit_log (audit) and subscriptions (billing).
CREATE VIEW subscriber_activity AS
SELECT s.id AS subscription_id, s.user_id, a.action, a.occurred_at
FROM subscriptions s
JOIN audit_log a ON a.user_id = s.user_id;
