//! Each revision's deploy phase: declared in `revision.toml`, or inferred from what its
//! statements do on every dialect (`braid_lint::phase`).
