//! The notifier's configuration, read once from the environment at cold
//! start.

use shared::domain::notification::NotificationFilter;
use shared::env::{ConfigError, Env};

/// Everything the notifier needs to know about its deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: the stackwatch table (its delivery log).
    pub table: String,
    /// `TOPIC_ARN`: the insight topic.
    pub topic_arn: String,
    /// `NOTIFY_SEVERITIES` (default `HIGH,MEDIUM`) and `NOTIFY_TYPES`
    /// (default `ALL`).
    pub filter: NotificationFilter,
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
        let topic_arn = env.required("TOPIC_ARN");
        let severities = env
            .optional("NOTIFY_SEVERITIES")
            .unwrap_or_else(|| "HIGH,MEDIUM".into());
        let types = env.optional("NOTIFY_TYPES").unwrap_or_else(|| "ALL".into());
        let filter = match NotificationFilter::parse(&severities, &types) {
            Ok(f) => f,
            Err(e) => {
                env.problem(format!(
                    "NOTIFY_SEVERITIES={severities:?} and NOTIFY_TYPES={types:?} are invalid: {e}"
                ));
                NotificationFilter::default()
            }
        };
        env.finish()?;
        Ok(Self {
            table,
            topic_arn,
            filter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::insight::Severity;

    #[test]
    fn the_filter_defaults_to_high_and_medium_of_every_type() {
        let vars = [
            ("TABLE_NAME", "t"),
            ("TOPIC_ARN", "arn:aws:sns:us-east-1:1:t"),
        ];
        let c = Config::from_lookup(|n| vars.iter().find(|v| v.0 == n).map(|v| v.1.to_string()))
            .unwrap();
        assert!(c.filter.accepts(Severity::Medium, "CLOSED_INSIGHT"));
        assert!(!c.filter.accepts(Severity::Low, "NEW_INSIGHT"));
        let bad = [("TABLE_NAME", "t"), ("NOTIFY_SEVERITIES", "URGENT")];
        let err = Config::from_lookup(|n| bad.iter().find(|v| v.0 == n).map(|v| v.1.to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("TOPIC_ARN is not set"), "{err}");
        assert!(err.to_string().contains("URGENT"), "{err}");
    }
}
