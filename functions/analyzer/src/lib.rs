//! The analyzer function: judges a stack's new points against their
//! baselines and opens, updates and closes its insights.

pub mod config;
pub mod handler;
#[cfg(feature = "lambda")]
pub mod lambda;
