//! Braid's MySQL/MariaDB driver as a driver plugin (`libbraid_mysql_plugin.so`): the static driver,
//! exported through the plugin C ABI. Its calls go through the host's blocking pool (they wait
//! on the network), and its connection tasks run on the plugin's own tokio runtime.

braid_plugin::export_driver!(dialect: Mysql, open: braid_mysql::open);
