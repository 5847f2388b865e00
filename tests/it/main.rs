//! Integration tests, one binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Architecture rules checked by reading the sources.
mod architecture;
// Ingest → analyzer → notifier over in-memory adapters.
mod pipeline;
// The sample events of events/ through each function's decoding.
mod fixtures;
// The AWS adapters with mocked SDK clients (what the emulator cannot do).
mod aws_mocked;
// The emulator harness and the translating proxy.
mod emulator;
// A watched application and a deployment inside the emulator.
mod aws_world;
// The stores over DynamoDB in the emulator.
mod aws_store;
// The whole pipeline in the emulator.
mod aws_pipeline;
// API calls per tick and the cost they project.
mod aws_cost;
// The analyzer's follow-ups through SQS.
mod aws_follow_up;
