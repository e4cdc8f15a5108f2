//! The driver conformance suite: every test in `braid_tests::conformance`, once per target.
//! Adding a driver = adding one line here (and its `TestTarget` in `tests/src`).

braid_tests::conformance_suite!(sqlite, braid_tests::SqliteTarget);
braid_tests::conformance_suite!(postgres, braid_tests::PostgresTarget);
braid_tests::conformance_suite!(mysql, braid_tests::MysqlTarget);
braid_tests::conformance_suite!(sqlite_plugin, braid_tests::SqlitePluginTarget);
braid_tests::conformance_suite!(postgres_plugin, braid_tests::PostgresPluginTarget);
braid_tests::conformance_suite!(mysql_plugin, braid_tests::MysqlPluginTarget);
