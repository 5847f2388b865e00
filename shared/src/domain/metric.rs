//! Metric identity: which CloudWatch series a point belongs to.

use std::fmt;

/// One CloudWatch dimension, e.g. `FunctionName = orders-GetOrder`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dimension {
    /// Dimension name, e.g. `FunctionName`.
    pub name: String,
    /// Dimension value, e.g. the function's physical id.
    pub value: String,
}

impl Dimension {
    /// A dimension from its name and value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// Everything that identifies one CloudWatch series as GetMetricData returns
/// it: namespace, metric name, dimensions, statistic and period.
///
/// Dimensions are kept sorted by name so that two keys built from the same
/// dimensions in another order are equal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricKey {
    namespace: String,
    name: String,
    dimensions: Vec<Dimension>,
    stat: String,
    period: u32,
}

impl MetricKey {
    /// A key; dimensions are sorted by name.
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        mut dimensions: Vec<Dimension>,
        stat: impl Into<String>,
        period: u32,
    ) -> Self {
        dimensions.sort();
        Self {
            namespace: namespace.into(),
            name: name.into(),
            dimensions,
            stat: stat.into(),
            period,
        }
    }

    /// The namespace, e.g. `AWS/Lambda`.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The metric name, e.g. `Errors`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The dimensions, sorted by name.
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// The value of the dimension called `name`, if any.
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.value.as_str())
    }

    /// The statistic, e.g. `Sum`, `Average`, `p99`.
    pub fn stat(&self) -> &str {
        &self.stat
    }

    /// The period in seconds.
    pub fn period(&self) -> u32 {
        self.period
    }

    /// A stable, human-readable id for storage keys and logs:
    /// `AWS/Lambda|Errors|FunctionName=f|Sum|60`.
    pub fn id(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for MetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}|", self.namespace, self.name)?;
        for (i, d) in self.dimensions.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}={}", d.name, d.value)?;
        }
        write!(f, "|{}|{}", self.stat, self.period)
    }
}

/// A series of points for one metric, as a metric source returns it:
/// unsorted, possibly with repeats.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Which metric.
    pub key: MetricKey,
    /// `(time, value)` pairs; the time is the start of the period.
    pub points: Vec<(crate::domain::time::Timestamp, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_dimensions_in_any_order_are_equal() {
        let a = MetricKey::new(
            "AWS/DynamoDB",
            "SuccessfulRequestLatency",
            vec![
                Dimension::new("TableName", "t"),
                Dimension::new("Operation", "GetItem"),
            ],
            "Average",
            60,
        );
        let b = MetricKey::new(
            "AWS/DynamoDB",
            "SuccessfulRequestLatency",
            vec![
                Dimension::new("Operation", "GetItem"),
                Dimension::new("TableName", "t"),
            ],
            "Average",
            60,
        );
        assert_eq!(a, b);
        assert_eq!(
            a.id(),
            "AWS/DynamoDB|SuccessfulRequestLatency|Operation=GetItem,TableName=t|Average|60"
        );
        assert_eq!(a.dimension("Operation"), Some("GetItem"));
    }
}
