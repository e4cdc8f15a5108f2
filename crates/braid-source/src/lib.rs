//! The migrations directory on disk.
