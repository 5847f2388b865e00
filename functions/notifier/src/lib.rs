//! The notifier function: sends one message per insight change, filtered
//! by severity and type, never twice.

pub mod config;
pub mod handler;
#[cfg(feature = "lambda")]
pub mod lambda;
