//! stackwatch's library: the pure domain core, the ports it needs, the wire
//! contracts between functions, and the adapters that connect the ports to
//! the world. `eval` scores the detector against public benchmarks, offline.
//!
//! Dependency direction: `domain` ← `ports` ← `adapters` ← the functions'
//! handlers; `messages` depends on `domain`, never the reverse. `synth`
//! (synthetic scenarios) and `truth` (their ground truth and the scoring of
//! replays against it) are adapter-level tools beside the pipeline.

pub mod adapters;
pub mod codec;
pub mod document;
pub mod domain;
pub mod env;
pub mod eval;
pub mod messages;
pub mod ports;
pub mod synth;
#[cfg(feature = "aws")]
pub mod telemetry;
pub mod truth;
pub mod tuning;
