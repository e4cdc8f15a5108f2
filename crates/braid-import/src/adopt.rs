//! Placeholder.
use crate::Tool;
use braid_driver::Dialect;
#[derive(Debug)]
pub struct SourceRow;
#[derive(Debug)]
pub struct AdoptPlan;
#[derive(Debug, thiserror::Error)]
#[error("x")]
pub struct AdoptError;
pub fn adopt() {}
pub fn version_query(tool: Tool, dialect: Dialect) -> String { let _ = (tool, dialect); todo!() }
