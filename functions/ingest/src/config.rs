//! Ingest's configuration, read once from the environment at cold start.

use shared::domain::stack::StackSelection;
use shared::env::{ConfigError, Env, parse_rate, parse_selection};

use crate::handler::Settings;

/// Everything ingest needs to know about its deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: the stackwatch table.
    pub table: String,
    /// `ANALYSIS_QUEUE_URL`: where analysis requests go.
    pub queue_url: String,
    /// `RETENTION_DAYS` (default 15): how long windows are kept.
    pub retention_days: i64,
    /// `STACK_SELECTION` (default `all`) and `SCHEDULE` (default
    /// `rate(5 minutes)`, the same expression as the schedule's).
    pub settings: Settings,
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
        let queue_url = env.required("ANALYSIS_QUEUE_URL");
        let selection = env.parsed(
            "STACK_SELECTION",
            StackSelection::All,
            "all, names:a,b, prefixes:p1,p2, tag:key or tag:key=value",
            parse_selection,
        );
        let schedule_secs = env.parsed("SCHEDULE", 300, "rate(N minutes)", parse_rate);
        let retention_days =
            env.parsed("RETENTION_DAYS", 15, "a number of days from 2 to 90", |v| {
                v.parse::<i64>().map_err(|e| e.to_string()).and_then(|d| {
                    if (2..=90).contains(&d) {
                        Ok(d)
                    } else {
                        Err("out of range".into())
                    }
                })
            });
        env.finish()?;
        Ok(Self {
            table,
            queue_url,
            retention_days,
            settings: Settings {
                selection,
                schedule_secs,
                ..Settings::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_and_every_missing_variable_is_named() {
        let err = Config::from_lookup(|_| None).unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        assert!(err.to_string().contains("TABLE_NAME"));
        assert!(err.to_string().contains("ANALYSIS_QUEUE_URL"));
        let vars = [
            ("TABLE_NAME", "t"),
            ("ANALYSIS_QUEUE_URL", "https://q"),
            ("SCHEDULE", "rate(10 minutes)"),
        ];
        let c = Config::from_lookup(|n| vars.iter().find(|v| v.0 == n).map(|v| v.1.to_string()))
            .unwrap();
        assert_eq!(c.settings.schedule_secs, 600);
        assert_eq!(c.settings.selection, StackSelection::All);
        assert_eq!(c.retention_days, 15);
        let bad = [
            ("TABLE_NAME", "t"),
            ("ANALYSIS_QUEUE_URL", "q"),
            ("STACK_SELECTION", "colour:red"),
        ];
        let err = Config::from_lookup(|n| bad.iter().find(|v| v.0 == n).map(|v| v.1.to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("STACK_SELECTION"), "{err}");
    }
}
