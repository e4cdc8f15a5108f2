//! `revision.toml`: parsing and writing.

use std::path::Path;

use braid_graph::{Body, Phase, Revision};
use serde::Deserialize;

use crate::SourceError;

/// The on-disk shape of `revision.toml`. `deny_unknown_fields` so that a typo (`parent = …`)
/// is an error listing the allowed keys instead of a silently different graph.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct RawMetadata {
    id: String,
    parents: Vec<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    branch_labels: Vec<String>,
    message: String,
    #[serde(deserialize_with = "de_created")]
    created: jiff::Timestamp,
    #[serde(default = "default_true")]
    transaction: bool,
    /// A Rust body: the `.rs` file (in the revision directory) that the migrations crate
    /// compiles in. Absent for an SQL revision.
    #[serde(default)]
    rust: Option<String>,
    /// Why a merge revision joins branches that overlap: a record for whoever reads the
    /// history, which nothing else uses.
    #[serde(default)]
    allow_overlap: Option<String>,
    /// The deploy phase, `"expand"` or `"contract"`; absent to infer it from the statements.
    #[serde(default)]
    phase: Option<String>,
}

fn default_true() -> bool {
    true
}

/// Accepts a TOML offset date-time (`created = 2026-11-26T03:52:29Z`) or an RFC 3339 string.
/// The offset is required: a local time would order revisions differently on machines in
/// different time zones.
fn de_created<'de, D: serde::Deserializer<'de>>(d: D) -> Result<jiff::Timestamp, D::Error> {
    use serde::de::Error;
    match toml::Value::deserialize(d)? {
        toml::Value::Datetime(dt) => created_from_datetime(&dt),
        toml::Value::String(s) => created_from_text(&s),
        other => Err(format!(
            "`created` must be a date-time with offset ({CREATED_EXAMPLE}), found {}",
            other.type_str()
        )),
    }
    .map_err(D::Error::custom)
}

const CREATED_EXAMPLE: &str = "e.g. created = 2026-11-26T03:52:29Z";

/// `created` given as a TOML date-time.
fn created_from_datetime(dt: &toml::value::Datetime) -> Result<jiff::Timestamp, String> {
    check_complete(dt)?;
    created_from_text(&dt.to_string())
}

/// A `created` date-time must have a date, a time and an offset.
fn check_complete(dt: &toml::value::Datetime) -> Result<(), String> {
    if dt.date.is_none() || dt.time.is_none() || dt.offset.is_none() {
        return Err(format!(
            "`created` = {dt} needs a date, a time and a UTC offset ({CREATED_EXAMPLE})"
        ));
    }
    Ok(())
}

/// `created` given as text (a string, or a TOML date-time written back out).
fn created_from_text(text: &str) -> Result<jiff::Timestamp, String> {
    text.parse::<jiff::Timestamp>().map_err(|e| {
        format!(
            "`created` = {text:?} is not an RFC 3339 date-time with offset ({CREATED_EXAMPLE}): {e}"
        )
    })
}

/// Parses the text of a `revision.toml`. `file` is only used for messages and as the revision's
/// `origin`; the body is left as [`Body::None`] for the caller to fill in.
///
/// Never panics, whatever the input (there is a property test for that).
pub fn parse_metadata(text: &str, file: &Path) -> Result<Revision, SourceError> {
    parse_metadata_full(text, file).map(|(rev, _)| rev)
}

/// [`parse_metadata`], plus the `rust = "…"` body file when the revision declares one.
pub(crate) fn parse_metadata_full(
    text: &str,
    file: &Path,
) -> Result<(Revision, Option<String>), SourceError> {
    // Some Windows editors add a BOM; it is not content.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw = match plain::parse(text) {
        Some(raw) => raw,
        None => toml::from_str(text).map_err(|e| SourceError::Metadata {
            file: file.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', "\n  "),
        })?,
    };
    if let Some(rust) = &raw.rust {
        let plain = !rust.is_empty()
            && !rust.contains(['/', '\\'])
            && !rust.starts_with('.')
            && rust.ends_with(".rs");
        if !plain {
            return Err(SourceError::Metadata {
                file: file.to_path_buf(),
                message: format!(
                    "`rust = {rust:?}` must name a `.rs` file in this revision directory, e.g. \
                     rust = \"migration.rs\""
                ),
            });
        }
    }
    let phase = match raw.phase.as_deref().map(str::parse::<Phase>) {
        None => None,
        Some(Ok(phase)) => Some(phase),
        Some(Err(message)) => {
            return Err(SourceError::Metadata {
                file: file.to_path_buf(),
                message: format!(
                    "{message}: `phase` says which step of an expand/contract deploy runs the \
                     revision; leave it out to infer it from the statements"
                ),
            });
        }
    };
    let rust = raw.rust.clone();
    Ok((
        Revision {
            id: raw.id,
            parents: raw.parents,
            depends_on: raw.depends_on,
            branch_labels: raw.branch_labels,
            message: raw.message,
            created: Some(raw.created),
            transactional: raw.transaction,
            phase,
            origin: Some(file.to_path_buf()),
            body: Body::None,
        },
        rust,
    ))
}

/// Renders a `revision.toml`. Strings and arrays go through the `toml` crate so that quotes,
/// backslashes and newlines in a message are escaped correctly; the layout and comments are
/// ours, so the file reads well for a person.
pub(crate) fn render_metadata(new: &crate::NewRevision, rust: Option<&str>) -> String {
    fn string(s: &str) -> String {
        toml::Value::String(s.to_string()).to_string()
    }
    fn array(items: &[String]) -> String {
        let items: Vec<String> = items.iter().map(|s| string(s)).collect();
        format!("[{}]", items.join(", "))
    }
    let mut out = String::new();
    out.push_str(
        "# Braid revision metadata. Edit `parents`/`depends_on` with care: they shape the graph.\n",
    );
    out.push_str(&format!("id = {}\n", string(&new.id)));
    out.push_str(&format!(
        "parents = {}{}\n",
        array(&new.parents),
        if new.parents.is_empty() {
            "  # a base revision"
        } else {
            ""
        }
    ));
    out.push_str(&format!("depends_on = {}\n", array(&new.depends_on)));
    out.push_str(&format!("branch_labels = {}\n", array(&new.branch_labels)));
    out.push_str(&format!("message = {}\n", string(&new.message)));
    out.push_str(&format!("created = {}\n", new.created));
    if let Some(rust) = rust {
        out.push_str(&format!(
            "rust = {}  # the Rust body; the migrations crate compiles it in\n",
            string(rust)
        ));
    }
    out.push_str(&format!(
        "transaction = {}{}\n",
        new.transactional,
        if new.transactional {
            ""
        } else {
            "  # runs outside a transaction"
        }
    ));
    if let Some(phase) = new.phase {
        out.push_str(&format!(
            "phase = \"{phase}\"  # {}\n",
            match phase {
                Phase::Expand => "additive: runs before the release that uses it is deployed",
                Phase::Contract => "destructive: runs after the release that stops using it",
            }
        ));
    }
    if let Some(reason) = &new.allow_overlap {
        out.push_str(&format!(
            "allow_overlap = {}  # merged although its branches overlap, for this reason\n",
            string(reason)
        ));
    }
    out
}

/// `revision.toml` in the spelling Braid writes, read without the general TOML parser.
///
/// Why: loading parses one file per revision, and `toml`'s parser (a full document with spans,
/// then serde) was the largest part of loading a long history. This reader takes only plain
/// lines — `key = value` with a basic string without escapes, a one-line array of such
/// strings, `true`/`false` or an offset date-time, comments and blank lines — and returns
/// `None` for anything else (an escape, a literal or multi-line string, a table, a repeated,
/// unknown or missing key, a `\r` outside a CRLF line end, …). The caller then parses with
/// `toml`, so every error and every unusual spelling is still the TOML parser's, with its
/// message. What it accepts, it reads exactly as `toml` + [`RawMetadata`] would (a property
/// test holds it to that).
mod plain {
    use super::{RawMetadata, check_complete, created_from_text};

    /// TOML's whitespace inside a line.
    const WS: [char; 2] = [' ', '\t'];

    /// A value as this reader understands it.
    enum Value<'t> {
        Str(&'t str),
        List(Vec<&'t str>),
        Bool(bool),
        /// An unquoted word that is not a boolean: only a date-time is accepted.
        Word(&'t str),
    }

    /// The fields as they are found; each may be given once.
    #[derive(Default)]
    struct Fields {
        id: Option<String>,
        parents: Option<Vec<String>>,
        depends_on: Option<Vec<String>>,
        branch_labels: Option<Vec<String>>,
        message: Option<String>,
        created: Option<jiff::Timestamp>,
        transaction: Option<bool>,
        rust: Option<String>,
        allow_overlap: Option<String>,
        phase: Option<String>,
    }

    pub(super) fn parse(text: &str) -> Option<RawMetadata> {
        let mut fields = Fields::default();
        for piece in text.split_inclusive('\n') {
            // `\n` or `\r\n` (a Windows checkout) ends a line; a `\r` anywhere else is TOML's
            // to reject.
            let line = match piece.strip_suffix('\n') {
                Some(line) => line.strip_suffix('\r').unwrap_or(line),
                None => piece,
            };
            if line.contains('\r') {
                return None;
            }
            let line = line.trim_matches(WS);
            if line.is_empty() || line.starts_with('#') {
                comment_ok(line).then_some(())?;
                continue;
            }
            let (key, rest) = line.split_once('=')?;
            let (value, rest) = value(rest.trim_start_matches(WS))?;
            comment_ok(rest.trim_start_matches(WS)).then_some(())?;
            fields.set(key.trim_end_matches(WS), value)?;
        }
        Some(RawMetadata {
            id: fields.id?,
            parents: fields.parents?,
            depends_on: fields.depends_on.unwrap_or_default(),
            branch_labels: fields.branch_labels.unwrap_or_default(),
            message: fields.message?,
            created: fields.created?,
            transaction: fields.transaction.unwrap_or(true),
            rust: fields.rust,
            allow_overlap: fields.allow_overlap,
            phase: fields.phase,
        })
    }

    impl Fields {
        /// Records one key; `None` for an unknown or repeated key or a value of another type.
        fn set(&mut self, key: &str, value: Value<'_>) -> Option<()> {
            fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
                slot.is_none().then(|| *slot = Some(value))
            }
            let owned = |items: Vec<&str>| items.into_iter().map(str::to_string).collect();
            match (key, value) {
                ("id", Value::Str(s)) => once(&mut self.id, s.to_string()),
                ("parents", Value::List(l)) => once(&mut self.parents, owned(l)),
                ("depends_on", Value::List(l)) => once(&mut self.depends_on, owned(l)),
                ("branch_labels", Value::List(l)) => once(&mut self.branch_labels, owned(l)),
                ("message", Value::Str(s)) => once(&mut self.message, s.to_string()),
                ("created", Value::Str(s)) => once(&mut self.created, created_from_text(s).ok()?),
                ("created", Value::Word(w)) => once(&mut self.created, datetime(w)?),
                ("transaction", Value::Bool(b)) => once(&mut self.transaction, b),
                ("rust", Value::Str(s)) => once(&mut self.rust, s.to_string()),
                ("allow_overlap", Value::Str(s)) => once(&mut self.allow_overlap, s.to_string()),
                ("phase", Value::Str(s)) => once(&mut self.phase, s.to_string()),
                _ => None,
            }
        }
    }

    /// Nothing, or a comment: TOML allows no control character in one but the tab.
    fn comment_ok(rest: &str) -> bool {
        (rest.is_empty() || rest.starts_with('#')) && !rest.chars().any(control)
    }

    fn control(c: char) -> bool {
        (c < ' ' && c != '\t') || c == '\u{7f}'
    }

    /// One value at the start of `s`, and what follows it.
    fn value(s: &str) -> Option<(Value<'_>, &str)> {
        if let Some(rest) = s.strip_prefix('"') {
            let (text, rest) = string_body(rest)?;
            return Some((Value::Str(text), rest));
        }
        if let Some(rest) = s.strip_prefix('[') {
            let (items, rest) = list_body(rest)?;
            return Some((Value::List(items), rest));
        }
        let end = s.find(['#', ' ', '\t']).unwrap_or(s.len());
        let (word, rest) = s.split_at(end);
        let value = match word {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Word(word),
        };
        Some((value, rest))
    }

    /// The rest of a basic string after its opening quote: up to the closing quote, with no
    /// escape and no control character.
    fn string_body(s: &str) -> Option<(&str, &str)> {
        let (text, rest) = s.split_once('"')?;
        (!text.contains('\\') && !text.chars().any(control)).then_some((text, rest))
    }

    /// The rest of a one-line array of strings after its `[` (a trailing comma is allowed).
    fn list_body(mut s: &str) -> Option<(Vec<&str>, &str)> {
        let mut items = Vec::new();
        loop {
            s = s.trim_start_matches(WS);
            if let Some(rest) = s.strip_prefix(']') {
                return Some((items, rest));
            }
            let (item, rest) = string_body(s.strip_prefix('"')?)?;
            items.push(item);
            s = rest.trim_start_matches(WS);
            match s.strip_prefix(',') {
                Some(rest) => s = rest,
                None => return Some((items, s.strip_prefix(']')?)),
            }
        }
    }

    /// An offset date-time spelt `2026-11-26T03:52:29Z` (a fraction of up to nine digits, `Z`
    /// or `±HH:MM`), read by the same rules as a TOML date-time. Other spellings TOML allows
    /// (`t`, a space, a local time, longer fractions) are left to the TOML parser.
    fn datetime(word: &str) -> Option<jiff::Timestamp> {
        let b = word.as_bytes();
        let shape = |pattern: &[u8], at: usize| {
            b.len() >= at + pattern.len()
                && pattern.iter().zip(&b[at..]).all(|(p, c)| match p {
                    b'd' => c.is_ascii_digit(),
                    p => p == c,
                })
        };
        if !shape(b"dddd-dd-ddTdd:dd:dd", 0) {
            return None;
        }
        let mut at = 19;
        if b.get(at) == Some(&b'.') {
            let digits = b[at + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            (1..=9).contains(&digits).then_some(())?;
            at += 1 + digits;
        }
        let offset_ok = match b.get(at) {
            Some(b'Z') => b.len() == at + 1,
            Some(b'+' | b'-') => b.len() == at + 6 && shape(b"dd:dd", at + 1),
            _ => false,
        };
        offset_ok.then_some(())?;
        // TOML's checks (its ranges), then the text itself: in this spelling it is what the
        // TOML parser would write back out, up to trailing zeros of the fraction.
        let dt: toml::value::Datetime = word.parse().ok()?;
        check_complete(&dt).ok()?;
        created_from_text(word).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn full(text: &str) -> Option<RawMetadata> {
        toml::from_str(text).ok()
    }

    /// Pieces of lines, good and bad, that the generated documents are made of.
    fn piece() -> impl Strategy<Value = String> {
        let string = prop::sample::select(vec![
            "r1",
            "",
            "a b",
            "quo\"te",
            "back\\slash",
            "tab\there",
            "hash # in",
            "é ü",
            "ctl\u{1}",
            "del\u{7f}",
            "eq = x",
            "[x]",
            "'single'",
        ]);
        let quoted = string.prop_map(|s| format!("\"{s}\""));
        let word = prop::sample::select(vec![
            "2026-11-26T03:52:29Z",
            "2026-11-26T03:52:29.5Z",
            "2026-11-26T03:52:29.123456789+05:30",
            "2026-11-26T03:52:29.1234567891Z",
            "2026-11-26t03:52:29z",
            "2026-11-26T03:52:29",
            "2026-02-30T00:00:00Z",
            "2026-11-26T24:00:00Z",
            "2026-11-26T03:52:60Z",
            "2026-11-26T03:52:29+24:00",
            "2026-11-26T03:52:29-00:00",
            "2026-11-26",
            "03:52:29",
            "true",
            "false",
            "True",
            "1",
            "1.5",
            "'lit'",
            "\"\"\"multi\"\"\"",
            "2026-11-26T03:52:29Zx",
        ])
        .prop_map(str::to_string);
        let value = prop_oneof![
            quoted.clone(),
            word,
            prop::collection::vec(quoted, 0..3).prop_map(|v| format!("[{}]", v.join(", "))),
            Just("[\"a\",]".to_string()),
            Just("[,]".to_string()),
            Just("[\"a\"".to_string()),
            Just("[\"a\" \"b\"]".to_string()),
            Just("[1]".to_string()),
        ];
        let key = prop::sample::select(vec![
            "id",
            "parents",
            "depends_on",
            "branch_labels",
            "message",
            "created",
            "transaction",
            "rust",
            "allow_overlap",
            "phase",
            "parent",
            "\"id\"",
            "a.b",
        ]);
        let ws = prop::sample::select(vec!["", " ", "\t", "  "]);
        let tail = prop::sample::select(vec!["", "  # note", "#x", " # \u{1}", " junk"]);
        prop_oneof![
            8 => (ws.clone(), key, ws.clone(), ws, value, tail)
                .prop_map(|(a, k, b, c, v, t)| format!("{a}{k}{b}={c}{v}{t}")),
            1 => Just("# a comment".to_string()),
            1 => Just(String::new()),
            1 => Just("[table]".to_string()),
            1 => Just("# bad \u{7f} comment".to_string()),
        ]
    }

    /// A document that has every required key, so that most cases get past `toml`.
    fn document() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(piece(), 0..6),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(extra, crlf, created_string)| {
                let created = if created_string {
                    "created = \"2026-11-26T03:52:29+01:00\""
                } else {
                    "created = 2026-11-26T03:52:29Z"
                };
                let mut lines = vec![
                    "id = \"r1\"".to_string(),
                    "parents = [\"r0\"]".to_string(),
                    "message = \"m\"".to_string(),
                    created.to_string(),
                ];
                for (i, p) in extra.into_iter().enumerate() {
                    lines.insert(i % (lines.len() + 1), p);
                }
                let mut text = lines.join(if crlf { "\r\n" } else { "\n" });
                if crlf && created_string {
                    text.push('\r'); // a lone `\r` at the end: not a line end
                }
                text
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Whatever the plain reader accepts, `toml` accepts and reads the same way.
        #[test]
        fn plain_reading_agrees_with_toml(text in document()) {
            if let Some(plain) = plain::parse(&text) {
                prop_assert_eq!(Some(plain), full(&text), "{}", text);
            }
        }
    }

    #[test]
    fn what_braid_writes_is_read_plainly() {
        let new = crate::NewRevision {
            id: "a1b2c3".into(),
            parents: vec!["p1".into(), "p2".into()],
            depends_on: vec!["lab".into()],
            branch_labels: vec!["x".into()],
            message: "add user preferences".into(),
            created: "2026-11-26T03:52:29.123Z".parse().unwrap(),
            transactional: false,
            allow_overlap: None,
            phase: None,
        };
        let overlapping = crate::NewRevision {
            allow_overlap: Some("both add an index to users; reviewed".into()),
            ..new.clone()
        };
        let contract = crate::NewRevision {
            phase: Some(Phase::Contract),
            ..new.clone()
        };
        for (new, rust) in [
            (&new, None),
            (&new, Some("migration.rs")),
            (&overlapping, None),
            (&contract, None),
        ] {
            let text = render_metadata(new, rust);
            let plain = plain::parse(&text).expect("read without the TOML parser");
            assert_eq!(Some(&plain), full(&text).as_ref(), "{text}");
            assert_eq!(plain.created, new.created);
        }
    }

    #[test]
    fn a_phase_is_read_and_a_wrong_one_is_named() {
        let base = "id = \"r\"\nparents = []\nmessage = \"m\"\ncreated = 2026-11-26T03:52:29Z\n";
        let file = Path::new("m/r/revision.toml");
        let rev = parse_metadata(&format!("{base}phase = \"contract\"\n"), file).unwrap();
        assert_eq!(rev.phase, Some(Phase::Contract));
        assert_eq!(parse_metadata(base, file).unwrap().phase, None);
        let err = parse_metadata(&format!("{base}phase = \"shrink\"\n"), file)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("m/r/revision.toml") && err.contains("`shrink` is not a phase"),
            "{err}"
        );
    }

    #[test]
    fn unusual_spellings_go_to_toml() {
        let base = "id = \"r\"\nparents = []\nmessage = \"m\"\ncreated = 2026-11-26T03:52:29Z\n";
        assert!(plain::parse(base).is_some());
        for extra in [
            "message = \"again\"",
            "[table]",
            "unknown = 1",
            "depends_on = [\n]",
            "transaction = \"yes\"",
        ] {
            assert!(
                plain::parse(&format!("{base}{extra}\n")).is_none(),
                "{extra}"
            );
        }
        let crlf = base.replace('\n', "\r\n");
        assert_eq!(plain::parse(&crlf), full(&crlf));
        assert!(plain::parse(&crlf).is_some());
        for lone in [
            base.replace('\n', "\r"),
            format!("{base}\r"),
            base.replace("= \"m\"", "= \"m\"\r "),
        ] {
            assert!(plain::parse(&lone).is_none(), "{lone:?}");
        }
        assert!(plain::parse(&base.replace("\"m\"", "\"a \\\"quote\\\"\"")).is_none());
    }
}
