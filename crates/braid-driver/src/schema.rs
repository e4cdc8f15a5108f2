use serde::Serialize;

/// What introspection reports. Names are as the backend stores them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Schema {
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    /// The declared type as the backend reports it (e.g. `INTEGER`, `character varying(255)`).
    pub data_type: String,
    pub nullable: bool,
    /// The default expression, verbatim.
    pub default: Option<String>,
    pub primary_key: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
    pub on_delete: Option<String>,
    pub on_update: Option<String>,
}

/// One way two snapshots differ, in words a reader acts on ("index `ix_users_email` on
/// `users` is left behind").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The object concerned, e.g. ``index `ix_users_email` on `users` ``.
    pub object: String,
    /// What differs, e.g. ``comes back as `TEXT NULL`, was `VARCHAR(100) NOT NULL` ``.
    pub change: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.object, self.change)
    }
}

/// How `actual` differs from `expected` (placeholder: whole tables only).
pub fn diff(expected: &Schema, actual: &Schema) -> Vec<Difference> {
    if expected == actual {
        return Vec::new();
    }
    vec![Difference {
        object: "schema".to_string(),
        change: "differs".to_string(),
    }]
}
