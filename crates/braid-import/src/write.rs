//! Placeholder.
#[derive(Debug)]
pub struct Written;
#[derive(Debug, thiserror::Error)]
#[error("x")]
pub struct WriteError;
pub fn write() {}
