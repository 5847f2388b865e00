//! Adapters: implementations of the ports. Only these modules know about
//! files, clocks and (later) AWS.

#[cfg(feature = "aws")]
pub mod aws;
pub mod clock;
pub mod memory;
pub mod scenario;
pub mod sink;
