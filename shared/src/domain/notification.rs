//! Which insight changes are sent: the notification filter.

use std::collections::BTreeSet;

use super::insight::Severity;

/// The five message types, in the contract's spelling.
pub const MESSAGE_TYPES: [&str; 5] = [
    "NEW_INSIGHT",
    "CLOSED_INSIGHT",
    "NEW_ASSOCIATION",
    "SEVERITY_UPGRADED",
    "NEW_RECOMMENDATION",
];

/// Which changes are worth a message: by the insight's severity and the
/// message type. The default sends every type for HIGH and MEDIUM insights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationFilter {
    severities: BTreeSet<Severity>,
    types: BTreeSet<&'static str>,
}

impl Default for NotificationFilter {
    fn default() -> Self {
        Self {
            severities: [Severity::High, Severity::Medium].into_iter().collect(),
            types: MESSAGE_TYPES.into_iter().collect(),
        }
    }
}

/// A filter setting that names an unknown severity or type.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    /// Not `LOW`, `MEDIUM` or `HIGH`.
    #[error("unknown severity {0:?} (expected LOW, MEDIUM or HIGH)")]
    Severity(String),
    /// Not one of the five message types.
    #[error("unknown message type {0:?} (expected one of {types})", types = MESSAGE_TYPES.join(", "))]
    Type(String),
    /// Nothing would ever be sent.
    #[error("the filter lets nothing through")]
    Empty,
}

impl NotificationFilter {
    /// A filter from comma-separated lists, e.g. `"HIGH,MEDIUM"` and
    /// `"NEW_INSIGHT,CLOSED_INSIGHT"`; `"ALL"` or an empty text means all.
    ///
    /// # Errors
    ///
    /// A [`FilterError`] naming the first unknown word.
    pub fn parse(severities: &str, types: &str) -> Result<Self, FilterError> {
        let words = |s: &str| -> Vec<String> {
            s.split(',')
                .map(|w| w.trim().to_ascii_uppercase())
                .filter(|w| !w.is_empty())
                .collect()
        };
        let sev_words = words(severities);
        let severities: BTreeSet<Severity> = if sev_words.is_empty() || sev_words == ["ALL"] {
            [Severity::Low, Severity::Medium, Severity::High]
                .into_iter()
                .collect()
        } else {
            sev_words
                .iter()
                .map(|w| Severity::parse(w).ok_or_else(|| FilterError::Severity(w.clone())))
                .collect::<Result<_, _>>()?
        };
        let type_words = words(types);
        let types: BTreeSet<&'static str> = if type_words.is_empty() || type_words == ["ALL"] {
            MESSAGE_TYPES.into_iter().collect()
        } else {
            type_words
                .iter()
                .map(|w| {
                    MESSAGE_TYPES
                        .iter()
                        .copied()
                        .find(|t| t == w)
                        .ok_or_else(|| FilterError::Type(w.clone()))
                })
                .collect::<Result<_, _>>()?
        };
        if severities.is_empty() || types.is_empty() {
            return Err(FilterError::Empty);
        }
        Ok(Self { severities, types })
    }

    /// A filter that lets everything through.
    pub fn all() -> Self {
        Self {
            severities: [Severity::Low, Severity::Medium, Severity::High]
                .into_iter()
                .collect(),
            types: MESSAGE_TYPES.into_iter().collect(),
        }
    }

    /// Whether a change of `message_type` to an insight of `severity`
    /// should be sent.
    pub fn accepts(&self, severity: Severity, message_type: &str) -> bool {
        self.severities.contains(&severity) && self.types.contains(message_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_lists_and_refuse_unknown_words() {
        assert_eq!(
            NotificationFilter::parse("high, medium", "").unwrap(),
            NotificationFilter::default()
        );
        assert_eq!(
            NotificationFilter::parse("all", "all").unwrap(),
            NotificationFilter::all()
        );
        assert_eq!(
            NotificationFilter::parse("HIGH,URGENT", ""),
            Err(FilterError::Severity("URGENT".into()))
        );
        assert_eq!(
            NotificationFilter::parse("", "NEW_THING"),
            Err(FilterError::Type("NEW_THING".into()))
        );
        let f = NotificationFilter::default();
        assert!(f.accepts(Severity::High, "CLOSED_INSIGHT"));
        assert!(!f.accepts(Severity::Low, "NEW_INSIGHT"));
    }
}
