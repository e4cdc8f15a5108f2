//! `lint`: the facade side (placeholder; being written).
