//! The tuning document: per-stack and per-metric sensitivity and exclusion
//! windows, as JSON, read into the domain's [`Tuning`].
//!
//! ```json
//! {
//!   "sensitivity": "medium",
//!   "stacks": {
//!     "orders-prod": {
//!       "sensitivity": "low",
//!       "metrics": [{"match": "orders-prod-Batch-1A2B", "sensitivity": "low"},
//!                   {"match": "AWS/ApiGateway/Latency", "sensitivity": "high"}],
//!       "exclusions": ["Sun 02:00-04:00",
//!                      {"from": "2026-03-08T14:00:00Z", "to": "2026-03-08T16:00:00Z"}]
//!     }
//!   }
//! }
//! ```
//!
//! Weekly windows are in UTC. A metric rule matches a metric's name, its
//! namespace and name, or a dimension value (a function's name); the first
//! rule that matches wins.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::adapters::scenario::parse_rfc3339;
use crate::domain::detector::Sensitivity;
use crate::domain::time::TimeRange;
use crate::domain::tuning::{Exclusion, MetricRule, StackTuning, Tuning};

/// A tuning document that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{source_name}: at {path}: {problem}")]
pub struct TuningError {
    /// Where the document came from (a file, an environment variable).
    pub source_name: String,
    /// Where in the JSON.
    pub path: String,
    /// What is wrong.
    pub problem: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    #[serde(default)]
    sensitivity: Option<String>,
    #[serde(default)]
    stacks: BTreeMap<String, StackDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StackDoc {
    #[serde(default)]
    sensitivity: Option<String>,
    #[serde(default)]
    metrics: Vec<RuleDoc>,
    #[serde(default)]
    exclusions: Vec<ExclusionDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    #[serde(rename = "match")]
    pattern: String,
    sensitivity: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ExclusionDoc {
    Weekly(String),
    Range { from: String, to: String },
}

/// Reads a tuning document; `source_name` names it in errors.
///
/// # Errors
///
/// [`TuningError`] naming the JSON path and the problem: malformed JSON, an
/// unknown field, an unknown sensitivity, a malformed window.
pub fn parse(source_name: &str, text: &str) -> Result<Tuning, TuningError> {
    let err = |path: String, problem: String| TuningError {
        source_name: source_name.to_string(),
        path,
        problem,
    };
    let doc: Doc = crate::document::parse(text.as_bytes()).map_err(|p| err(p.path, p.problem))?;
    let sensitivity = |path: String, text: &str| {
        Sensitivity::parse(text)
            .ok_or_else(|| err(path, format!("{text:?} is not one of low, medium, high")))
    };
    let mut tuning = Tuning::default();
    if let Some(s) = &doc.sensitivity {
        tuning.sensitivity = sensitivity("sensitivity".into(), s)?;
    }
    for (name, stack) in doc.stacks {
        let here = |field: &str| format!("stacks.{name}.{field}");
        let mut t = StackTuning::default();
        if let Some(s) = &stack.sensitivity {
            t.sensitivity = Some(sensitivity(here("sensitivity"), s)?);
        }
        for (i, rule) in stack.metrics.iter().enumerate() {
            if rule.pattern.trim().is_empty() {
                return Err(err(
                    here(&format!("metrics[{i}].match")),
                    "an empty pattern matches nothing".into(),
                ));
            }
            t.metrics.push(MetricRule {
                pattern: rule.pattern.clone(),
                sensitivity: sensitivity(
                    here(&format!("metrics[{i}].sensitivity")),
                    &rule.sensitivity,
                )?,
            });
        }
        for (i, e) in stack.exclusions.iter().enumerate() {
            let path = here(&format!("exclusions[{i}]"));
            match e {
                ExclusionDoc::Weekly(text) => {
                    t.exclusions
                        .extend(Exclusion::parse_weekly(text).map_err(|p| err(path, p))?);
                }
                ExclusionDoc::Range { from, to } => {
                    let at = |field: &str, v: &str| {
                        parse_rfc3339(v).ok_or_else(|| {
                            err(
                                format!("{path}.{field}"),
                                format!("{v:?} is not an RFC 3339 timestamp"),
                            )
                        })
                    };
                    let (start, end) = (at("from", from)?, at("to", to)?);
                    if end <= start {
                        return Err(err(path, "the window ends before it starts".into()));
                    }
                    t.exclusions
                        .push(Exclusion::Range(TimeRange::new(start, end)));
                }
            }
        }
        tuning.stacks.insert(name, t);
    }
    Ok(tuning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_document_is_read() {
        let t = parse(
            "tuning.json",
            r#"{"sensitivity": "high", "stacks": {"shop": {"sensitivity": "low",
                "metrics": [{"match": "Duration", "sensitivity": "medium"}],
                "exclusions": ["Sat-Sun 01:00-02:00", {"from": "2026-03-08T14:00:00Z", "to": "2026-03-08T16:00:00Z"}]}}}"#,
        )
        .unwrap();
        assert_eq!(t.sensitivity, Sensitivity::HIGH);
        let shop = &t.stacks["shop"];
        assert_eq!(shop.sensitivity, Some(Sensitivity::LOW));
        assert_eq!(shop.metrics.len(), 1);
        assert_eq!(shop.exclusions.len(), 3);
        assert_eq!(parse("empty", "{}").unwrap(), Tuning::default());
    }

    #[test]
    fn mistakes_are_named_with_their_path() {
        for (text, path, says) in [
            (r#"{"sensitivity": "extreme"}"#, "sensitivity", "not one of"),
            (
                r#"{"stacks": {"s": {"exclusions": ["Sun 02:00"]}}}"#,
                "stacks.s.exclusions[0]",
                "time range",
            ),
            (
                r#"{"stacks": {"s": {"exclusions": [{"from": "x", "to": "2026-03-08T16:00:00Z"}]}}}"#,
                "stacks.s.exclusions[0].from",
                "RFC 3339",
            ),
            (
                r#"{"stacks": {"s": {"exclusions": [{"from": "2026-03-08T16:00:00Z", "to": "2026-03-08T14:00:00Z"}]}}}"#,
                "stacks.s.exclusions[0]",
                "ends before",
            ),
            (
                r#"{"stacks": {"s": {"metrics": [{"match": "", "sensitivity": "low"}]}}}"#,
                "stacks.s.metrics[0].match",
                "empty",
            ),
            (
                r#"{"stacks": {"s": {"sensitivty": "low"}}}"#,
                "stacks.s.sensitivty",
                "unknown field",
            ),
            (r#"{"stacks": "#, "stacks", "EOF"),
            (
                r#"{"sensitivity": "low"} {"sensitivity": "high"}"#,
                "the end of the file",
                "trailing characters",
            ),
        ] {
            let e = parse("t.json", text).unwrap_err();
            assert_eq!(e.path, path, "{text}: {e}");
            assert!(e.problem.contains(says), "{text}: {e}");
        }
    }
}
