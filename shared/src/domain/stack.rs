//! Which stacks to watch.

/// A stack as `ListStacks` summarises it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackSummary {
    /// The stack's name.
    pub name: String,
    /// `CREATE_COMPLETE`, `UPDATE_COMPLETE`, `DELETE_COMPLETE`, …
    pub status: String,
    /// Its tags, when known.
    pub tags: Vec<(String, String)>,
}

impl StackSummary {
    /// Whether the stack exists and is usable: not deleted, not failed at
    /// creation.
    pub fn is_active(&self) -> bool {
        !matches!(
            self.status.as_str(),
            "DELETE_COMPLETE"
                | "DELETE_IN_PROGRESS"
                | "CREATE_FAILED"
                | "ROLLBACK_COMPLETE"
                | "ROLLBACK_IN_PROGRESS"
        )
    }
}

/// How the operator chose the stacks to watch. Stacks created later join on
/// their own when they match; nobody keeps a list up to date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StackSelection {
    /// Exactly these stacks.
    Names(Vec<String>),
    /// Stacks whose name starts with one of these.
    Prefixes(Vec<String>),
    /// Stacks that carry this tag (with this value, when given).
    Tag {
        /// Tag key.
        key: String,
        /// Tag value; any value when `None`.
        value: Option<String>,
    },
    /// Every active stack of the region.
    All,
}

impl StackSelection {
    /// Whether `stack` is selected (its activity aside).
    pub fn matches(&self, stack: &StackSummary) -> bool {
        match self {
            StackSelection::Names(names) => names.iter().any(|n| n == &stack.name),
            StackSelection::Prefixes(prefixes) => {
                prefixes.iter().any(|p| stack.name.starts_with(p.as_str()))
            }
            StackSelection::Tag { key, value } => stack
                .tags
                .iter()
                .any(|(k, v)| k == key && value.as_ref().is_none_or(|want| want == v)),
            StackSelection::All => true,
        }
    }

    /// Whether matching needs the stacks' tags (which `ListStacks` does not
    /// return).
    pub fn needs_tags(&self) -> bool {
        matches!(self, StackSelection::Tag { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(name: &str, tags: &[(&str, &str)]) -> StackSummary {
        StackSummary {
            name: name.into(),
            status: "UPDATE_COMPLETE".into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn selections_match_names_prefixes_and_tags() {
        let s = stack("orders-prod", &[("team", "payments")]);
        assert!(StackSelection::Names(vec!["orders-prod".into()]).matches(&s));
        assert!(!StackSelection::Names(vec!["orders".into()]).matches(&s));
        assert!(StackSelection::Prefixes(vec!["billing-".into(), "orders-".into()]).matches(&s));
        assert!(
            StackSelection::Tag {
                key: "team".into(),
                value: None
            }
            .matches(&s)
        );
        assert!(
            StackSelection::Tag {
                key: "team".into(),
                value: Some("payments".into())
            }
            .matches(&s)
        );
        assert!(
            !StackSelection::Tag {
                key: "team".into(),
                value: Some("search".into())
            }
            .matches(&s)
        );
        assert!(StackSelection::All.matches(&s));
    }

    #[test]
    fn deleted_and_failed_stacks_are_not_active() {
        let mut s = stack("x", &[]);
        assert!(s.is_active());
        s.status = "DELETE_COMPLETE".into();
        assert!(!s.is_active());
        s.status = "ROLLBACK_COMPLETE".into();
        assert!(!s.is_active());
    }
}
