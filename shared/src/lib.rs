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

/// An error's message followed by those of its causes, each after a colon:
/// what a log line or a report shows, since most errors' own message says
/// only what failed, and their source why.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("reading the inventory")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn an_error_chain_carries_every_cause() {
        let e = Outer(std::io::Error::other("connection reset"));
        assert_eq!(
            super::error_chain(&e),
            "reading the inventory: connection reset"
        );
    }
}
