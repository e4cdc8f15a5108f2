-- The downgrade brings price_cents back from price_minor, and on SQLite rebuilds plans, which
-- subscriptions references: a subscribed plan comes back with its prices and its subscription.
-- braid:setup
INSERT INTO users (id, email) VALUES (9001, 'zd4@example.com');
INSERT INTO plans (id, code, name, price_cents) VALUES (9001, 'zd4-basic', 'Basic', 1250);
INSERT INTO subscriptions (id, user_id, plan_id) VALUES (9001, 9001, 9001);

-- braid:check
SELECT id, code, name, price_cents, price_minor FROM plans ORDER BY id;
SELECT id, user_id, plan_id FROM subscriptions ORDER BY id;
