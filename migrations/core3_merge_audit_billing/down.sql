DROP VIEW subscriber_activity;
