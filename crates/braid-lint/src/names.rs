//! How rules compare and show names.
//!
//! Names are compared by their last part, lowercased: `public.users`, `"users"` and `USERS` are
//! one table. That is looser than each server (a quoted Postgres name keeps its case, MySQL
//! table names follow the file system), and deliberately so: a rule that takes two spellings
//! for one table misses nothing, while one that tells them apart could miss a dropped table.

use sqlparser::ast::{Ident, ObjectName};

/// The key a name is compared by.
pub(crate) fn key(name: &ObjectName) -> String {
    shown(name).to_lowercase()
}

/// The key an identifier is compared by.
pub(crate) fn ident_key(ident: &Ident) -> String {
    ident.value.to_lowercase()
}

/// The name as a message shows it: its last part, without quotes.
pub(crate) fn shown(name: &ObjectName) -> String {
    match name.0.last() {
        Some(part) => match part.as_ident() {
            Some(ident) => ident.value.clone(),
            None => part.to_string(),
        },
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::ast::ObjectNamePart;

    fn name(parts: &[&str]) -> ObjectName {
        ObjectName(
            parts
                .iter()
                .map(|p| ObjectNamePart::Identifier(Ident::new(*p)))
                .collect(),
        )
    }

    #[test]
    fn names_compare_by_their_last_part_in_any_case() {
        assert_eq!(key(&name(&["public", "Users"])), "users");
        assert_eq!(shown(&name(&["public", "Users"])), "Users");
        assert_eq!(key(&name(&[])), "");
        assert_eq!(ident_key(&Ident::with_quote('"', "A")), "a");
    }
}
