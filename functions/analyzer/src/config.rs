//! The analyzer's configuration, read once from the environment at cold
//! start.

use shared::domain::analysis::AnalyzerSettings;
use shared::domain::detector::Sensitivity;
use shared::env::{ConfigError, Env};

/// Everything the analyzer needs to know about its deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: the stackwatch table.
    pub table: String,
    /// `SENSITIVITY` (`low`, `medium` or `high`; default `medium`).
    pub settings: AnalyzerSettings,
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
        let sensitivity = env.parsed(
            "SENSITIVITY",
            Sensitivity::default(),
            "low, medium or high",
            |v| Sensitivity::parse(v).ok_or("unknown sensitivity"),
        );
        env.finish()?;
        Ok(Self {
            table,
            settings: AnalyzerSettings {
                sensitivity,
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
        assert_eq!(c.settings.sensitivity, Sensitivity::MEDIUM);
        let err = Config::from_lookup(|n| (n == "SENSITIVITY").then(|| "extreme".to_string()))
            .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        assert!(err.to_string().contains("TABLE_NAME is not set"));
        assert!(err.to_string().contains("SENSITIVITY=\"extreme\""));
    }
}
