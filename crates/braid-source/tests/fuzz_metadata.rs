//! The metadata parser must turn any input into a revision or an error naming the file — never
//! a panic.

use std::path::Path;

use proptest::prelude::*;

const KEYS: &[&str] = &[
    "id",
    "parents",
    "depends_on",
    "branch_labels",
    "message",
    "created",
    "transaction",
    "bogus",
];

const VALUES: &[&str] = &[
    "\"a\"",
    "[]",
    "[\"x\", \"y\"]",
    "2026-11-26T03:52:29Z",
    "2026-11-26T03:52:29",
    "03:52:29",
    "2026-11-26",
    "\"2026-11-26T03:52:29+01:00\"",
    "\"9999-99-99T99:99:99Z\"",
    "true",
    "-1",
    "1e400",
    "{ a = 1 }",
    "[1, \"a\"]",
    "\"\\u0000\"",
];

fn toml_ish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(KEYS),
            prop::sample::select(VALUES),
            any::<bool>(),
        ),
        0..10,
    )
    .prop_map(|lines| {
        lines
            .into_iter()
            .map(|(k, v, dup_newline)| {
                format!("{k} = {v}{}", if dup_newline { "\n\n" } else { "\n" })
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        if let Err(e) = braid_source::parse_metadata(&text, Path::new("d/revision.toml")) {
            prop_assert!(e.to_string().starts_with("d/revision.toml: "));
        }
    }

    #[test]
    fn toml_shaped_text_never_panics(text in toml_ish()) {
        if let Err(e) = braid_source::parse_metadata(&text, Path::new("d/revision.toml")) {
            prop_assert!(e.to_string().starts_with("d/revision.toml: "));
        }
    }
}
