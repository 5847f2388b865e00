//! Reading a function's configuration from its environment: every variable
//! is read once, at cold start, and every problem is reported together, each
//! naming its variable.

use crate::domain::stack::StackSelection;

/// The configuration could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {}", problems.join("; "))]
pub struct ConfigError {
    /// One sentence per problem, each naming its variable.
    pub problems: Vec<String>,
}

/// Reads variables through a lookup, collecting problems.
pub struct Env<F> {
    lookup: F,
    problems: Vec<String>,
}

impl<F> std::fmt::Debug for Env<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("problems", &self.problems)
            .finish()
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// Reads through `lookup` (the process environment, or a map in tests).
    pub fn new(lookup: F) -> Self {
        Self {
            lookup,
            problems: Vec::new(),
        }
    }

    /// A variable that must be set and not blank.
    pub fn required(&mut self, name: &str) -> String {
        match (self.lookup)(name).filter(|v| !v.trim().is_empty()) {
            Some(v) => v.trim().to_string(),
            None => {
                self.problems.push(format!("{name} is not set"));
                String::new()
            }
        }
    }

    /// A variable parsed by `parse`, or `default` when unset or blank. A
    /// value that does not parse is a problem: `expected` says what would.
    pub fn parsed<T, E: std::fmt::Display>(
        &mut self,
        name: &str,
        default: T,
        expected: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> T {
        match (self.lookup)(name).filter(|v| !v.trim().is_empty()) {
            None => default,
            Some(v) => match parse(v.trim()) {
                Ok(t) => t,
                Err(e) => {
                    self.problems.push(format!(
                        "{name}={v:?} is invalid: {e} (expected {expected})"
                    ));
                    default
                }
            },
        }
    }

    /// Records a problem found by the caller (a value that depends on
    /// several variables).
    pub fn problem(&mut self, text: impl Into<String>) {
        self.problems.push(text.into());
    }

    /// The raw value, if set and not blank.
    pub fn optional(&mut self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().to_string())
    }

    /// Ends reading: the problems, if any.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] listing every problem met.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }
}

/// Parses a stack selection: `all`, `names:a,b`, `prefixes:orders-,billing-`,
/// `tag:key` or `tag:key=value`.
///
/// # Errors
///
/// A sentence saying what is wrong.
pub fn parse_selection(text: &str) -> Result<StackSelection, String> {
    let list = |s: &str| -> Result<Vec<String>, String> {
        let items: Vec<String> = s
            .split(',')
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect();
        if items.is_empty() {
            Err("the list is empty".into())
        } else {
            Ok(items)
        }
    };
    let text = text.trim();
    if text.eq_ignore_ascii_case("all") {
        return Ok(StackSelection::All);
    }
    let (kind, rest) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} has no kind"))?;
    match kind.trim().to_ascii_lowercase().as_str() {
        "names" | "name" => Ok(StackSelection::Names(list(rest)?)),
        "prefixes" | "prefix" => Ok(StackSelection::Prefixes(list(rest)?)),
        "tag" => {
            let (key, value) = match rest.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim().to_string())),
                None => (rest.trim(), None),
            };
            if key.is_empty() {
                return Err("the tag key is empty".into());
            }
            Ok(StackSelection::Tag {
                key: key.to_string(),
                value,
            })
        }
        other => Err(format!("unknown kind {other:?}")),
    }
}

/// Seconds between two runs of an EventBridge `rate(...)` expression, e.g.
/// `rate(5 minutes)`.
///
/// # Errors
///
/// A sentence saying what is wrong (cron expressions are not supported: the
/// tick length must be known).
pub fn parse_rate(text: &str) -> Result<i64, String> {
    let inner = text
        .trim()
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| "not a rate(...) expression".to_string())?;
    let (count, unit) = inner
        .trim()
        .split_once(' ')
        .ok_or_else(|| "no unit".to_string())?;
    let count: i64 = count
        .trim()
        .parse()
        .map_err(|_| format!("{count:?} is not a whole number"))?;
    let scale = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3_600,
        "day" | "days" => 86_400,
        other => return Err(format!("unknown unit {other:?}")),
    };
    if count <= 0 {
        return Err("the rate must be positive".into());
    }
    Ok(count * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_parse_every_kind_and_refuse_the_rest() {
        assert_eq!(parse_selection("ALL"), Ok(StackSelection::All));
        assert_eq!(
            parse_selection("names: a, b"),
            Ok(StackSelection::Names(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            parse_selection("prefixes:orders-"),
            Ok(StackSelection::Prefixes(vec!["orders-".into()]))
        );
        assert_eq!(
            parse_selection("tag:team=payments"),
            Ok(StackSelection::Tag {
                key: "team".into(),
                value: Some("payments".into())
            })
        );
        assert_eq!(
            parse_selection("tag:watch"),
            Ok(StackSelection::Tag {
                key: "watch".into(),
                value: None
            })
        );
        for bad in ["", "names:", "orders", "colour:red", "tag:=x"] {
            assert!(parse_selection(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_parse_minutes_hours_and_days() {
        assert_eq!(parse_rate("rate(5 minutes)"), Ok(300));
        assert_eq!(parse_rate("rate(1 hour)"), Ok(3_600));
        assert!(parse_rate("cron(0/5 * * * ? *)").is_err());
        assert!(parse_rate("rate(0 minutes)").is_err());
        assert!(parse_rate("rate(five minutes)").is_err());
    }

    #[test]
    fn every_problem_is_reported_with_its_variable() {
        let mut env = Env::new(|name: &str| (name == "BAD").then(|| "x".to_string()));
        let _ = env.required("TABLE_NAME");
        let _ = env.parsed("BAD", 0, "a number", |v| v.parse::<i32>());
        let _ = env.parsed("UNSET", 7, "a number", |v| v.parse::<i32>());
        let err = env.finish().unwrap_err();
        assert_eq!(err.problems.len(), 2);
        assert!(err.problems[0].contains("TABLE_NAME is not set"));
        assert!(err.problems[1].contains("BAD=\"x\" is invalid"));
    }
}
