//! `revision.toml`: parsing and writing.

use std::path::Path;

use braid_graph::{Body, Revision};
use serde::Deserialize;

use crate::SourceError;

/// The on-disk shape of `revision.toml`. `deny_unknown_fields` so that a typo (`parent = …`)
/// is an error listing the allowed keys instead of a silently different graph.
#[derive(Debug, Deserialize)]
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
}

fn default_true() -> bool {
    true
}

/// Accepts a TOML offset date-time (`created = 2026-11-26T03:52:29Z`) or an RFC 3339 string.
/// The offset is required: a local time would order revisions differently on machines in
/// different time zones.
fn de_created<'de, D: serde::Deserializer<'de>>(d: D) -> Result<jiff::Timestamp, D::Error> {
    use serde::de::Error;
    const EXAMPLE: &str = "e.g. created = 2026-11-26T03:52:29Z";
    let text = match toml::Value::deserialize(d)? {
        toml::Value::Datetime(dt) => {
            if dt.date.is_none() || dt.time.is_none() || dt.offset.is_none() {
                return Err(D::Error::custom(format!(
                    "`created` = {dt} needs a date, a time and a UTC offset ({EXAMPLE})"
                )));
            }
            dt.to_string()
        }
        toml::Value::String(s) => s,
        other => {
            return Err(D::Error::custom(format!(
                "`created` must be a date-time with offset ({EXAMPLE}), found {}",
                other.type_str()
            )));
        }
    };
    text.parse::<jiff::Timestamp>().map_err(|e| {
        D::Error::custom(format!(
            "`created` = {text:?} is not an RFC 3339 date-time with offset ({EXAMPLE}): {e}"
        ))
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
    let raw: RawMetadata = toml::from_str(text).map_err(|e| SourceError::Metadata {
        file: file.to_path_buf(),
        message: e.to_string().trim_end().replace('\n', "\n  "),
    })?;
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
    out
}
