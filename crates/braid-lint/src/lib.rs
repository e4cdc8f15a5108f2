//! Lint rules for migration SQL (placeholder; being written).
