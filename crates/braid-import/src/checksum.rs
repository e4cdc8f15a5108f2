//! The checksums source tools keep, computed again from the imported files.
//!
//! Each function reproduces the tool's own computation byte for byte, so that a checksum
//! computed here from an imported `up.sql` equals the one the tool stored when it ran the same
//! file. Each is written out from the tool's source rather than by calling the tool, and each
//! is pinned by a test against a value computed independently of this crate.

use crate::{MapEntry, Tool};

/// The checksum `tool` would have recorded for a migration whose SQL is `up_sql`, written as
/// [`crate::SourceRow::checksum`] holds a stored one; `None` for tools that keep none
/// (Alembic, diesel, sea-orm-migration), and for a refinery entry whose key is not the `i32`
/// version refinery hashes (no refinery table can hold such a key).
///
/// * sqlx: SHA-384 of the SQL, as lowercase hex of the 48 bytes.
/// * Flyway: CRC-32 of the SQL's lines, the signed 32-bit value in decimal.
/// * refinery: SipHash-1-3 over `entry.name`, `entry.key` (the version) and the SQL, the
///   unsigned 64-bit value in decimal.
pub fn expected_checksum(tool: Tool, entry: &MapEntry, up_sql: &str) -> Option<String> {
    match tool {
        Tool::Sqlx => Some(hex(&sqlx(up_sql))),
        Tool::Flyway => Some(flyway(up_sql).to_string()),
        Tool::Refinery => {
            let version: i32 = entry.key.parse().ok()?;
            Some(refinery(&entry.name, version, up_sql).to_string())
        }
        Tool::Alembic | Tool::Diesel | Tool::SeaOrm => None,
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
/// SQL, in that order, each written as Rust's `Hash` impls write them.
///
/// `refinery_core` `Migration::unapplied` (`migration.rs`; `runner.rs` before the split) runs
/// `name.hash(&mut h); version.hash(&mut h); sql.hash(&mut h)` on a
/// `siphasher::sip::SipHasher13::new()`, with `name: String`, `version: i32` and `sql: &str`
/// (the `Option<String>` field refinery keeps is not what it hashes). Rust hashes a `str` as
/// its bytes followed by one `0xff` byte, and an `i32` as its 4 bytes; siphasher writes
/// integers little-endian on every platform. Those bytes are written out here rather than
/// through `Hash`, so that the value does not depend on how a future Rust chooses to hash a
/// `str`. refinery stores `checksum().to_string()`, the `u64` in decimal, in its `VARCHAR`
/// column.
pub(crate) fn refinery(name: &str, version: i32, sql: &str) -> u64 {
    use std::hash::Hasher as _;
    let mut hasher = siphasher::sip::SipHasher13::new();
    write_rust_str(&mut hasher, name);
    hasher.write(&version.to_le_bytes());
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
    fn the_str_bytes_match_rusts_own_hash_of_a_str() {
        use std::hash::{Hash, Hasher};
        let mut by_hand = siphasher::sip::SipHasher13::new();
        write_rust_str(&mut by_hand, "add_users");
        by_hand.write(&7i32.to_le_bytes());
        write_rust_str(&mut by_hand, "select 1;\n");
        let mut by_trait = siphasher::sip::SipHasher13::new();
        "add_users".hash(&mut by_trait);
        7i32.hash(&mut by_trait);
        "select 1;\n".hash(&mut by_trait);
        assert_eq!(by_hand.finish(), by_trait.finish());
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
