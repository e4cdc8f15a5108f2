//! A snapshot limited to the objects a change names.
//!
//! `verify` compares the schema before and after each step of a revision. Introspecting the
//! whole schema three times per revision makes proving a history cost quadratically more than
//! applying it, since every table ever created is read again at every revision. A revision's
//! statements name what they can change; a [`Scope::Named`] snapshot reads only that, and the
//! comparison stays exact for it. What a statement may reach beyond its names (a `CASCADE`,
//! code it runs, a statement nobody could read) is the caller's to decide: it asks for
//! [`Scope::Whole`].
//!
//! A named scope also says which kinds of object besides tables its names may pick
//! ([`Kinds`]): a revision that only creates, alters or drops tables and indexes names no view,
//! sequence, routine or trigger of its own, and its snapshots need not look for any (a table's
//! triggers still come with the table).

use std::collections::BTreeSet;

use crate::schema::{Schema, Table};

/// Which objects a snapshot covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every object of the schema.
    Whole,
    /// The objects these names pick (lowercase, unqualified), among tables and the kinds
    /// given, as [`Schema::within`] says.
    Named(BTreeSet<String>, Kinds),
}

/// The kinds of object besides tables that a named scope picks by name. A trigger of a picked
/// table is picked with it whatever `triggers` says: `triggers` is about a trigger named on its
/// own (`DROP TRIGGER tg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds {
    pub views: bool,
    pub sequences: bool,
    pub routines: bool,
    pub triggers: bool,
}

impl Kinds {
    /// Every kind: what a scope is when nothing narrower is known.
    pub const ALL: Kinds = Kinds {
        views: true,
        sequences: true,
        routines: true,
        triggers: true,
    };
    /// Tables alone.
    pub const TABLES: Kinds = Kinds {
        views: false,
        sequences: false,
        routines: false,
        triggers: false,
    };

    /// Every kind either covers.
    pub fn union(self, other: Kinds) -> Kinds {
        Kinds {
            views: self.views || other.views,
            sequences: self.sequences || other.sequences,
            routines: self.routines || other.routines,
            triggers: self.triggers || other.triggers,
        }
    }
}

impl Scope {
    /// The scope of `names`, compared without regard to case: a name's case depends on the
    /// backend's folding rules, and a scope that picks an object too many costs nothing but a
    /// few rows.
    /// It picks objects of every kind ([`Scope::of_kinds`] narrows).
    pub fn named<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Scope {
        Scope::Named(
            names
                .into_iter()
                .map(|n| n.as_ref().to_lowercase())
                .collect(),
            Kinds::ALL,
        )
    }

    /// This scope, picking only tables and `kinds` by name (the whole schema stays whole).
    pub fn of_kinds(self, kinds: Kinds) -> Scope {
        match self {
            Scope::Named(names, _) => Scope::Named(names, kinds),
            Scope::Whole => Scope::Whole,
        }
    }

    /// The kinds besides tables that its names pick: all of them for [`Scope::Whole`].
    pub fn kinds(&self) -> Kinds {
        match self {
            Scope::Whole => Kinds::ALL,
            Scope::Named(_, kinds) => *kinds,
        }
    }

    /// Whether `name` is one of the scope's names (always, for [`Scope::Whole`]).
    pub fn names(&self, name: &str) -> bool {
        match self {
            Scope::Whole => true,
            Scope::Named(names, _) => names.contains(&name.to_lowercase()),
        }
    }

    /// Everything either scope covers.
    pub fn union(&self, other: &Scope) -> Scope {
        match (self, other) {
            (Scope::Named(a, ka), Scope::Named(b, kb)) => {
                Scope::Named(a.union(b).cloned().collect(), ka.union(*kb))
            }
            _ => Scope::Whole,
        }
    }

    /// The lowercase names, sorted; `None` for [`Scope::Whole`]. Drivers put them in their
    /// catalogue queries.
    pub fn name_list(&self) -> Option<Vec<&str>> {
        match self {
            Scope::Whole => None,
            Scope::Named(names, _) => Some(names.iter().map(String::as_str).collect()),
        }
    }
}

impl Schema {
    /// The part of this schema `scope` picks: a table when the scope names it, or one of its
    /// indexes or constraints (`DROP INDEX ix` names no table); a view, sequence or routine by
    /// its name, when the scope picks its kind; a sequence also by the name of the table that
    /// owns it, and a trigger by its table's name, or by its own when the scope picks triggers.
    /// What a picked table holds comes whole.
    pub fn within(&self, scope: &Scope) -> Schema {
        if matches!(scope, Scope::Whole) {
            return self.clone();
        }
        let kinds = scope.kinds();
        Schema {
            tables: self
                .tables
                .iter()
                .filter(|t| table_in(t, scope))
                .cloned()
                .collect(),
            views: self
                .views
                .iter()
                .filter(|v| kinds.views && scope.names(&v.name))
                .cloned()
                .collect(),
            triggers: self
                .triggers
                .iter()
                .filter(|t| scope.names(&t.table) || kinds.triggers && scope.names(&t.name))
                .cloned()
                .collect(),
            sequences: self
                .sequences
                .iter()
                .filter(|s| {
                    kinds.sequences && scope.names(&s.name)
                        || s.owned_by.as_deref().is_some_and(|t| scope.names(t))
                })
                .cloned()
                .collect(),
            routines: self
                .routines
                .iter()
                .filter(|r| kinds.routines && scope.names(&r.name))
                .cloned()
                .collect(),
        }
    }
}

/// Whether `scope` picks `table` (see [`Schema::within`]).
fn table_in(table: &Table, scope: &Scope) -> bool {
    let named = |name: &Option<String>| name.as_deref().is_some_and(|n| scope.names(n));
    scope.names(&table.name)
        || table.indexes.iter().any(|i| scope.names(&i.name))
        || table.foreign_keys.iter().any(|f| named(&f.name))
        || table.checks.iter().any(|c| named(&c.name))
        || table.primary_key.as_ref().is_some_and(|p| named(&p.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Index, Trigger, View};

    fn schema() -> Schema {
        let table = |name: &str, index: &str| Table {
            name: name.to_string(),
            indexes: vec![Index {
                name: index.to_string(),
                ..Index::default()
            }],
            ..Table::default()
        };
        Schema {
            tables: vec![
                table("Orders", "ix_orders"),
                table("users", "ix_users_email"),
            ],
            views: vec![View {
                name: "active_users".to_string(),
                ..View::default()
            }],
            triggers: vec![Trigger {
                name: "trg_audit".to_string(),
                table: "users".to_string(),
                ..Trigger::default()
            }],
            ..Schema::default()
        }
    }

    fn names(s: &Schema) -> Vec<&str> {
        let tables = s.tables.iter().map(|t| t.name.as_str());
        let views = s.views.iter().map(|v| v.name.as_str());
        let triggers = s.triggers.iter().map(|t| t.name.as_str());
        tables.chain(views).chain(triggers).collect()
    }

    #[test]
    fn a_table_comes_with_its_triggers_and_regardless_of_case() {
        let within = schema().within(&Scope::named(["ORDERS", "Users"]));
        assert_eq!(names(&within), ["Orders", "users", "trg_audit"]);
    }

    #[test]
    fn an_index_name_picks_its_table_and_a_trigger_name_only_the_trigger() {
        let within = schema().within(&Scope::named(["ix_users_email", "trg_audit"]));
        assert_eq!(names(&within), ["users", "trg_audit"]);
        let within = schema().within(&Scope::named(["trg_audit", "active_users"]));
        assert_eq!(names(&within), ["active_users", "trg_audit"]);
    }

    #[test]
    fn a_scope_of_tables_alone_keeps_a_tables_triggers_and_no_object_by_its_own_name() {
        let tables = Scope::named(["users", "trg_audit", "active_users"]).of_kinds(Kinds::TABLES);
        assert_eq!(names(&schema().within(&tables)), ["users", "trg_audit"]);
        let only = Scope::named(["trg_audit", "active_users"]).of_kinds(Kinds::TABLES);
        assert!(names(&schema().within(&only)).is_empty());
        let views = Kinds {
            views: true,
            ..Kinds::TABLES
        };
        let both = only.union(&Scope::named(Vec::<&str>::new()).of_kinds(views));
        assert_eq!(names(&schema().within(&both)), ["active_users"]);
    }

    #[test]
    fn whole_keeps_everything_and_absorbs_a_union() {
        assert_eq!(schema().within(&Scope::Whole), schema());
        let named = Scope::named(["users"]);
        assert_eq!(named.union(&Scope::Whole), Scope::Whole);
        assert_eq!(
            named.union(&Scope::named(["orders"])).name_list(),
            Some(vec!["orders", "users"])
        );
        assert!(
            schema()
                .within(&Scope::named(Vec::<&str>::new()))
                .tables
                .is_empty()
        );
    }
}
