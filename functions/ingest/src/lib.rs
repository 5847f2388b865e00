//! The ingest function: finds the watched stacks' resources, fetches their
//! new metric points and stack events, stores them, and asks for analysis.

pub mod config;
pub mod handler;
#[cfg(feature = "lambda")]
pub mod lambda;
