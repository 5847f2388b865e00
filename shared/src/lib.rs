//! stackwatch's library: the pure domain core, the ports it needs, the wire
//! contracts between functions, and the adapters that connect the ports to
//! the world.
//!
//! Dependency direction: `domain` ← `ports` ← `adapters` ← the functions'
//! handlers; `messages` depends on `domain`, never the reverse.

pub mod adapters;
pub mod codec;
pub mod domain;
pub mod env;
pub mod messages;
pub mod ports;
#[cfg(feature = "aws")]
pub mod telemetry;
