//! Migration scripts split into statements per dialect: never a panic, and no byte of a
//! statement is invented (every statement is a piece of the input).
#![no_main]

use braid_driver::{Dialect, split_statements};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    for dialect in Dialect::ALL {
        for statement in split_statements(sql, dialect) {
            assert!(
                sql.contains(statement.text.trim()),
                "{dialect}: {statement:?}"
            );
        }
    }
});
