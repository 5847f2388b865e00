//! Tidy-style checks: the domain stays pure.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_domain_does_no_io_and_knows_no_aws_clock_env_or_async() {
    let domain = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/src/domain");
    let forbidden = [
        "aws_sdk_",
        "aws_config",
        "lambda_runtime",
        "aws_lambda_events",
        "tokio",
        "std::env",
        "std::fs",
        "std::net",
        "SystemTime",
        "Instant::now",
        "async fn",
        ".await",
        "serde::",
        "serde_json",
        "chrono",
    ];
    let files = rust_files(&domain);
    assert!(
        files.len() > 5,
        "domain sources not found at {}",
        domain.display()
    );
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for word in forbidden {
            assert!(!text.contains(word), "{} mentions {word}", file.display());
        }
    }
}
