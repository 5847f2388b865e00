//! The `stackwatch` command's library: replay, its output, and the other
//! subcommands, callable from tests.

pub mod demo;
pub mod nab;
pub mod output;
pub mod replay;
pub mod score;
pub mod synth;
