"""Repository-wide pytest set-up: the real-infrastructure fixtures of `swingflow_common.testing`
(nats_server, nats_url, js, postgres_url, database_url, blank_database_url, db_sessions)
are available to every test folder."""

pytest_plugins = ["swingflow_common.testing"]
