//! `revision.toml` files as users write them: the parser must reject bad input with an error,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = braid_source::parse_metadata(text, std::path::Path::new("fuzz/revision.toml"));
});
