//! The checksums source tools keep, computed again from the imported files.
//!
//! Each function reproduces the tool's own computation byte for byte, so that a checksum
//! computed here from an imported `up.sql` equals the one the tool stored when it ran the same
//! file. Each is written out from the tool's source rather than by calling the tool, and each
//! is pinned by a test against a value computed independently of this crate.

use crate::{MapEntry, Tool};

/// Every checksum `tool` may have recorded for a migration whose SQL is `up_sql`, each written
/// as [`crate::SourceRow::checksum`] holds a stored one; empty for tools that keep none
/// (Alembic, diesel, sea-orm-migration), and for a refinery entry whose key is not an integer
/// version. A stored checksum that equals none of them means the SQL changed.
///
/// * sqlx: one value, SHA-384 of the SQL as lowercase hex of the 48 bytes.
/// * Flyway: one value, CRC-32 of the SQL's lines, the signed 32-bit value in decimal.
/// * refinery: SipHash-1-3 over `entry.name`, `entry.key` (the version) and the SQL, the
///   unsigned 64-bit value in decimal. refinery hashes its version as it types it, an `i32`
///   by default and an `i64` with its `int8-versions` feature, and nothing in the migrations
///   directory says which a project built with; so this gives the `i32`-width hash when the
///   version fits an `i32`, then the `i64`-width hash (always: an `int8-versions` project may
///   use any version).
pub fn expected_checksums(tool: Tool, entry: &MapEntry, up_sql: &str) -> Vec<String> {
    match tool {
        Tool::Sqlx => vec![hex(&sqlx(up_sql))],
        Tool::Flyway => vec![flyway(up_sql).to_string()],
        Tool::Refinery => {
            let Ok(version) = entry.key.parse::<i64>() else {
                return Vec::new();
            };
            let mut sums = Vec::new();
            if let Ok(narrow) = i32::try_from(version) {
                sums.push(refinery(&entry.name, &narrow.to_le_bytes(), up_sql).to_string());
            }
            sums.push(refinery(&entry.name, &version.to_le_bytes(), up_sql).to_string());
            sums
        }
        Tool::Alembic | Tool::Diesel | Tool::SeaOrm => Vec::new(),
    }
}

/// sqlx's checksum: SHA-384 of the migration's SQL exactly as read from the file.
///
/// `sqlx-core` 0.9 `migrate/migration.rs` `checksum()` is `Sha384::digest(sql)`, and
/// `migrate/source.rs` `resolve_blocking_with_config` passes it the file as
/// `fs::read_to_string` returned it: no trimming, no line-ending or BOM normalisation. sqlx
/// 0.9 can leave characters out of the hash (`[migrate] ignored-chars` in `sqlx.toml`), but
/// only when a project asks for it; the default set is empty, and that default is what this
/// computes. The stored column is `BYTEA`/`BLOB`; the facade reads it as hex.
pub(crate) fn sqlx(sql: &str) -> [u8; 48] {
    use sha2::{Digest, Sha384};
    Sha384::digest(sql.as_bytes()).into()
}

/// Flyway's checksum: CRC-32 (IEEE) of the script's lines without their terminators, a BOM at
/// the very start removed, as Java's signed `int`.
///
/// Flyway's `ChecksumCalculator.calculateChecksumForResource` reads the script with a
/// `BufferedReader`, strips a leading U+FEFF from the first line (`BomFilter`), and feeds each
/// line from `readLine()` to `java.util.zip.CRC32` as UTF-8; the result is cast with
/// `(int) crc32.getValue()` into the `checksum INT` column of `flyway_schema_history`.
/// `readLine()` ends a line at `\n`, `\r` or `\r\n` and drops the terminator, so CRC-32 over the
/// lines one after another equals CRC-32 over the text with every `\r` and `\n` removed, which
/// is what this computes. Placeholders are not replaced first: Flyway hashes the file as it is.
/// Flyway 4 and 5 computed the same in `SqlMigrationResolver.calculateChecksum` (readLine
/// over the loaded text); Flyway 3 hashed raw bytes, and Flyway 4 recomputed the stored
/// checksums when it upgraded the table.
pub(crate) fn flyway(sql: &str) -> i32 {
    let text = sql.strip_prefix('\u{feff}').unwrap_or(sql);
    let mut crc = crc32fast::Hasher::new();
    for line in text.split(['\r', '\n']) {
        crc.update(line.as_bytes());
    }
    crc.finalize() as i32
}

/// refinery's checksum: SipHash-1-3 with zero keys over the migration's name, version and
/// SQL, in that order, each written as Rust's `Hash` impls write them; `version` is the
/// version's little-endian bytes, 4 of them or 8 (see below).
///
/// `refinery_core` `Migration::unapplied` (`migration.rs`; `runner.rs` before the split) runs
/// `name.hash(&mut h); version.hash(&mut h); sql.hash(&mut h)` on a
/// `siphasher::sip::SipHasher13::new()`, with `name: String`, `version` and `sql: &str` (the
/// `Option<String>` field refinery keeps is not what it hashes). The version's type is
/// `SchemaVersion` in `util.rs` (`refinery_core` 0.10.1; a plain `i32` in 0.8.16): `i32` by
/// default, `i64` with the `int8-versions` feature, so its `Hash` writes 4 bytes or 8. Rust hashes a
/// `str` as its bytes followed by one `0xff` byte, and an integer as its bytes; siphasher
/// writes integers little-endian on every platform. Those bytes are written out here rather
/// than through `Hash`, so that the value does not depend on how a future Rust chooses to hash
/// a `str`. refinery stores `checksum().to_string()`, the `u64` in decimal, in its `VARCHAR`
/// column.
pub(crate) fn refinery(name: &str, version: &[u8], sql: &str) -> u64 {
    use std::hash::Hasher as _;
    let mut hasher = siphasher::sip::SipHasher13::new();
    write_rust_str(&mut hasher, name);
    hasher.write(version);
    write_rust_str(&mut hasher, sql);
    hasher.finish()
}

/// What `<str as Hash>::hash` writes: the bytes, then `0xff` so that `("ab", "c")` and
/// `("a", "bc")` hash differently.
fn write_rust_str(hasher: &mut impl std::hash::Hasher, s: &str) {
    hasher.write(s.as_bytes());
    hasher.write(&[0xff]);
}

/// Lowercase hex, two digits a byte.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_match_rusts_own_hash_of_a_str_and_of_each_version_width() {
        use std::hash::{Hash, Hasher};
        let by_trait = |version: &dyn Fn(&mut siphasher::sip::SipHasher13)| {
            let mut hasher = siphasher::sip::SipHasher13::new();
            "add_users".hash(&mut hasher);
            version(&mut hasher);
            "select 1;\n".hash(&mut hasher);
            hasher.finish()
        };
        assert_eq!(
            refinery("add_users", &7i32.to_le_bytes(), "select 1;\n"),
            by_trait(&|h| 7i32.hash(h))
        );
        assert_eq!(
            refinery("add_users", &7i64.to_le_bytes(), "select 1;\n"),
            by_trait(&|h| 7i64.hash(h))
        );
        let wide = 20_240_101_120_000i64;
        assert_eq!(
            refinery("add_users", &wide.to_le_bytes(), "select 1;\n"),
            by_trait(&|h| wide.hash(h))
        );
    }

    fn entry(key: &str, name: &str) -> MapEntry {
        MapEntry {
            key: key.to_string(),
            id: crate::braid_id(key),
            name: name.to_string(),
            ..MapEntry::default()
        }
    }

    /// Every value was computed by `refinery_core` 0.10.1 itself
    /// (`Migration::unapplied(..).checksum()`), built without features for the `i32` width and
    /// with `int8-versions` for the `i64` width.
    #[test]
    fn refinery_gives_the_i32_width_when_the_version_fits_and_always_the_i64_width() {
        let cases: [(&str, &str, &str, &[&str]); 4] = [
            (
                "3",
                "add_brand_to_cars_table",
                "ALTER TABLE cars ADD brand VARCHAR(255);\n",
                &["626055753570155481", "88804742457049412"],
            ),
            (
                "20",
                "cafés_añadir",
                "-- refinery:noTransaction\nCREATE INDEX CONCURRENTLY ix ON t (c);\n",
                &["8401163131545904925", "6130953591397068997"],
            ),
            (
                "20240101120000",
                "dated",
                "select 1;",
                &["10640251388004828921"],
            ),
            (
                "9223372036854775807",
                "max",
                "select 1;\n",
                &["1941282739634232300"],
            ),
        ];
        for (key, name, sql, sums) in cases {
            assert_eq!(
                expected_checksums(Tool::Refinery, &entry(key, name), sql),
                sums,
                "{key} {name}"
            );
        }
    }

    /// The `int8-versions` values were computed by `refinery_core` 0.10.1 with that feature
    /// (`load_sql_migrations` on the fixture directory), the `i32` one without it.
    #[test]
    fn refinery_int8_fixture_checksums() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/refinery/int8");
        let history =
            crate::read(Tool::Refinery, &dir, &crate::ReadOptions::default()).expect("read");
        let sums: Vec<(String, Vec<String>)> = history
            .revisions
            .iter()
            .map(|r| {
                let crate::Body::Sql {
                    up: crate::Sql::Every(up),
                    ..
                } = &r.body
                else {
                    panic!("not a plain SQL body: {:?}", r.body);
                };
                let sums = expected_checksums(Tool::Refinery, &entry(&r.key, &r.name), up);
                (r.key.clone(), sums)
            })
            .collect();
        let expected: [(&str, &[&str]); 4] = [
            ("1", &["8887658048690560624", "3594978432635161372"]),
            ("20240101120000", &["10298428643271325075"]),
            ("20240215093000", &["6390623186129286224"]),
            ("20240301000000", &["17923760652227785851"]),
        ];
        let expected: Vec<(String, Vec<String>)> = expected
            .iter()
            .map(|(k, s)| (k.to_string(), s.iter().map(|s| s.to_string()).collect()))
            .collect();
        assert_eq!(sums, expected);
    }

    #[test]
    fn sqlx_and_flyway_give_their_one_checksum() {
        let e = entry("1", "x");
        for tool in [Tool::Sqlx, Tool::Flyway] {
            assert_eq!(
                expected_checksums(tool, &e, "select 1;\n").len(),
                1,
                "{tool}"
            );
        }
    }

    #[test]
    fn tools_without_checksums_and_non_integer_refinery_keys_give_none() {
        let e = entry("1", "x");
        for tool in [Tool::Alembic, Tool::Diesel, Tool::SeaOrm] {
            assert!(
                expected_checksums(tool, &e, "select 1;").is_empty(),
                "{tool}"
            );
        }
        for key in ["v1", "1.1", "9223372036854775808"] {
            let sums = expected_checksums(Tool::Refinery, &entry(key, "x"), "select 1;");
            assert!(sums.is_empty(), "{key}: {sums:?}");
        }
    }

    #[test]
    fn flyway_ignores_line_terminators_and_a_leading_bom_only() {
        let lf = flyway("a\nb\n");
        assert_eq!(flyway("a\r\nb\r\n"), lf);
        assert_eq!(flyway("a\rb"), lf);
        assert_eq!(flyway("\u{feff}a\nb"), lf);
        assert_ne!(flyway("a\n\u{feff}b"), lf);
        assert_eq!(flyway(""), 0);
        assert_eq!(flyway("\n"), 0);
    }

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab]), "000fab");
    }
}
