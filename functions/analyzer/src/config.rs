//! The analyzer's configuration, read once from the environment at cold
//! start.

use shared::domain::analysis::AnalyzerSettings;
use shared::domain::detector::Sensitivity;
use shared::domain::tuning::Tuning;
use shared::env::{ConfigError, Env};

/// Everything the analyzer needs to know about its deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: the stackwatch table.
    pub table: String,
    /// `SENSITIVITY` (`low`, `medium` or `high`; default `medium`) and
    /// `TUNING` (a tuning document: sensitivity per stack and metric,
    /// exclusion windows; `SENSITIVITY` overrides its default).
    pub settings: AnalyzerSettings,
    /// `FOLLOW_UP_QUEUE_URL` (optional): where to ask ingest to look at a
    /// stack again as soon as the next point of a metric that just turned
    /// abnormal is published; unset, stacks wait for the next tick.
    pub follow_up_queue_url: Option<String>,
}

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming every missing or invalid variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`.
    ///
    /// # Errors
    ///
    /// As [`Config::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut env = Env::new(lookup);
        let table = env.required("TABLE_NAME");
        let follow_up_queue_url = env.optional("FOLLOW_UP_QUEUE_URL");
        let sensitivity = env.parsed("SENSITIVITY", None, "low, medium or high", |v| {
            Sensitivity::parse(v).map(Some).ok_or("unknown sensitivity")
        });
        let mut tuning = env.parsed(
            "TUNING",
            Tuning::default(),
            "a tuning document (see README)",
            |v| shared::tuning::parse("TUNING", v),
        );
        env.finish()?;
        if let Some(s) = sensitivity {
            tuning.sensitivity = s;
        }
        Ok(Self {
            table,
            follow_up_queue_url,
            settings: AnalyzerSettings {
                tuning,
                ..AnalyzerSettings::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitivity_defaults_to_medium_and_bad_values_are_named() {
        let c = Config::from_lookup(|n| (n == "TABLE_NAME").then(|| "t".to_string())).unwrap();
        assert_eq!(c.settings.tuning.sensitivity, Sensitivity::MEDIUM);
        let err = Config::from_lookup(|n| (n == "SENSITIVITY").then(|| "extreme".to_string()))
            .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        assert!(err.to_string().contains("TABLE_NAME is not set"));
        assert!(err.to_string().contains("SENSITIVITY=\"extreme\""));
    }

    #[test]
    fn a_tuning_document_is_read_and_its_mistakes_are_named() {
        let env = |name: &str| match name {
            "TABLE_NAME" => Some("t".to_string()),
            "TUNING" => {
                Some(r#"{"stacks": {"shop": {"exclusions": ["Sun 02:00-04:00"]}}}"#.to_string())
            }
            "SENSITIVITY" => Some("high".to_string()),
            _ => None,
        };
        let c = Config::from_lookup(env).unwrap();
        assert_eq!(c.settings.tuning.sensitivity, Sensitivity::HIGH);
        assert_eq!(c.settings.tuning.stacks["shop"].exclusions.len(), 1);
        let bad = |name: &str| match name {
            "TABLE_NAME" => Some("t".to_string()),
            "TUNING" => Some(r#"{"stacks": {"shop": {"exclusions": ["Sun 2-4"]}}}"#.to_string()),
            _ => None,
        };
        let err = Config::from_lookup(bad).unwrap_err().to_string();
        assert!(
            err.contains("TUNING") && err.contains("stacks.shop.exclusions[0]"),
            "{err}"
        );
    }
}
