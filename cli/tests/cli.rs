//! The `stackwatch` binary as users run it: exit codes, what goes to stdout
//! and stderr, and the messages for bad input.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn stackwatch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stackwatch"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_malformed_scenario_is_refused_with_file_path_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.json");
    std::fs::write(
        &file,
        r#"{"stack": "s", "metrics": [{"Namespace": "AWS/Lambda", "MetricName": "Errors",
            "Stat": "Sum", "Period": 60, "Timestamps": ["2026-03-01T00:00:00Z", "not a time"],
            "Values": [1, 2]}]}"#,
    )
    .unwrap();
    let out = stackwatch(&["replay", "--quiet", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.json"), "{err}");
    assert!(err.contains("metrics[0].Timestamps[1]"), "{err}");
    assert!(err.contains("not a time"), "{err}");
}

#[test]
fn a_missing_file_is_named_in_the_error() {
    let out = stackwatch(&["replay", "--quiet", "/nonexistent/scenario.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/scenario.json"), "{err}");
}

#[test]
fn an_empty_or_history_only_scenario_is_not_an_error_and_json_is_an_empty_array() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"stack": "s", "resources": [], "metrics": []}"#).unwrap();
    let history = dir.path().join("history.json");
    std::fs::write(
        &history,
        r#"{"stack": "h", "resources": [{"LogicalResourceId": "F", "PhysicalResourceId": "h-F",
            "ResourceType": "AWS::Lambda::Function"}],
            "metrics": [{"Namespace": "AWS/Lambda", "MetricName": "Invocations",
            "Dimensions": [{"Name": "FunctionName", "Value": "h-F"}], "Stat": "Sum", "Period": 60,
            "Timestamps": ["2026-03-01T00:00:00Z", "2026-03-01T00:01:00Z"], "Values": [3, 4]}]}"#,
    )
    .unwrap();
    for file in [&empty, &history] {
        let out = stackwatch(&["replay", "--json", file.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(parsed, serde_json::json!([]));
    }
}

#[test]
fn two_files_for_the_same_stack_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    let body = r#"{"stack": "same", "metrics": [{"Namespace": "AWS/Lambda", "MetricName": "Errors",
        "Stat": "Sum", "Period": 60, "Timestamps": ["2026-03-01T00:00:00Z"], "Values": [1]}]}"#;
    std::fs::write(&a, body).unwrap();
    std::fs::write(&b, body).unwrap();
    let out = stackwatch(&["replay", "-q", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("same"));
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"stack": "s", "resources": [], "metrics": []}"#).unwrap();
    // As `stackwatch replay --json … | head -0`: the pipe's reader is gone
    // before anything is written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackwatch"))
        .args(["replay", "--quiet", "--json", empty.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(!err.contains("panicked"), "{err}");
}
