//! The shop's tables as sea-orm entities. They are the schema the application expects:
//! `cargo xtask migrate generate --autogenerate -m "…"` writes the migration that takes the
//! schema the migrations make to this one, and `cargo xtask migrate check --models` fails CI
//! when the two disagree.

pub mod account;
pub mod order;
pub mod user;
pub mod user_preference;

/// Every entity, for the xtask (`FrontEnd::with_models`).
pub fn models() -> braid::Models {
    braid::Models::new()
        .entity(account::Entity)
        .entity(order::Entity)
        .entity(user::Entity)
        .entity(user_preference::Entity)
}
