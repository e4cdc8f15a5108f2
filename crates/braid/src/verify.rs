//! `verify`: the facade side (placeholder; being written).
