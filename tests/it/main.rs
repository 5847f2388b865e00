//! Integration tests, one binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Architecture rules checked by reading the sources.
mod architecture;
// Ingest → analyzer → notifier over in-memory adapters.
mod pipeline;
