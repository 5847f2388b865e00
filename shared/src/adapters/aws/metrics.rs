//! The metric source over CloudWatch `GetMetricData` and `ListMetrics`.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{
    Dimension as CwDimension, DimensionFilter, Metric, MetricDataQuery, MetricStat, ScanBy,
    StatusCode,
};

use super::{source_unavailable, to_datetime, to_timestamp};
use crate::domain::metric::{Dimension, MetricKey, Series};
use crate::domain::time::{TimeRange, Timestamp};
use crate::ports::{FetchRequest, MetricSource, SourceError};

/// Most queries in one `GetMetricData` call.
pub const MAX_QUERIES: usize = 500;
/// Most datapoints one `GetMetricData` call may ask for.
pub const MAX_POINTS: i64 = 100_800;

/// CloudWatch.
#[derive(Clone, Debug)]
pub struct CloudWatchSource {
    client: aws_sdk_cloudwatch::Client,
}

impl CloudWatchSource {
    /// A source using `config`.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self::from_client(aws_sdk_cloudwatch::Client::new(config))
    }

    /// A source over an existing client.
    pub fn from_client(client: aws_sdk_cloudwatch::Client) -> Self {
        Self { client }
    }
}

/// One query of a call: a request, or the part of it that fits the limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Index of the request in the caller's slice.
    pub request: usize,
    /// The range of this piece.
    pub range: TimeRange,
    /// Datapoints it may return.
    pub points: i64,
}

/// Splits the requests into `GetMetricData` calls: one call serves one range
/// (the API takes one start and end), with at most [`MAX_QUERIES`] queries
/// and [`MAX_POINTS`] datapoints. A request longer than [`MAX_POINTS`]
/// periods is cut into pieces on period boundaries.
pub fn plan_calls(requests: &[FetchRequest]) -> Vec<Vec<Piece>> {
    let mut by_range: BTreeMap<(Timestamp, Timestamp), Vec<Piece>> = BTreeMap::new();
    for (i, req) in requests.iter().enumerate() {
        let period = i64::from(req.key.period()).max(1);
        let span = MAX_POINTS * period;
        let mut start = req.range.start;
        while start < req.range.end {
            let end = req.range.end.min(start.add(span));
            let range = TimeRange::new(start, end);
            let points = (range.len_secs() + period - 1) / period;
            by_range.entry((start, end)).or_default().push(Piece {
                request: i,
                range,
                points,
            });
            start = end;
        }
    }
    let mut calls = Vec::new();
    for pieces in by_range.into_values() {
        let mut call: Vec<Piece> = Vec::new();
        let mut points = 0;
        for p in pieces {
            if !call.is_empty() && (call.len() == MAX_QUERIES || points + p.points > MAX_POINTS) {
                calls.push(std::mem::take(&mut call));
                points = 0;
            }
            points += p.points;
            call.push(p);
        }
        if !call.is_empty() {
            calls.push(call);
        }
    }
    calls
}

fn query(id: usize, key: &MetricKey) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(key.namespace())
        .metric_name(key.name())
        .set_dimensions(Some(
            key.dimensions()
                .iter()
                .map(|d| CwDimension::builder().name(&d.name).value(&d.value).build())
                .collect(),
        ))
        .build();
    let stat = MetricStat::builder()
        .metric(metric)
        .period(i32::try_from(key.period()).unwrap_or(i32::MAX))
        .stat(key.stat())
        .build();
    MetricDataQuery::builder()
        .id(format!("m{id}"))
        .metric_stat(stat)
        .return_data(true)
        .build()
}

impl MetricSource for CloudWatchSource {
    async fn fetch(&self, requests: &[FetchRequest]) -> Result<Vec<Series>, SourceError> {
        let mut out: Vec<Series> = requests
            .iter()
            .map(|r| Series {
                key: r.key.clone(),
                points: Vec::new(),
            })
            .collect();
        for call in plan_calls(requests) {
            let Some(first) = call.first() else { continue };
            let range = first.range;
            let queries: Vec<MetricDataQuery> = call
                .iter()
                .enumerate()
                .map(|(i, p)| query(i, &requests[p.request].key))
                .collect();
            let mut seen = vec![false; call.len()];
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .client
                    .get_metric_data()
                    .set_metric_data_queries(Some(queries.clone()))
                    .start_time(to_datetime(range.start))
                    .end_time(to_datetime(range.end))
                    .scan_by(ScanBy::TimestampAscending)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| source_unavailable("GetMetricData", e))?;
                for result in page.metric_data_results() {
                    let index = result
                        .id()
                        .and_then(|id| id.strip_prefix('m'))
                        .and_then(|n| n.parse::<usize>().ok())
                        .filter(|&n| n < call.len())
                        .ok_or_else(|| SourceError::Invalid {
                            operation: "GetMetricData".into(),
                            detail: format!("result for unknown query id {:?}", result.id()),
                        })?;
                    if matches!(
                        result.status_code(),
                        Some(StatusCode::InternalError | StatusCode::Forbidden)
                    ) {
                        let why: Vec<&str> =
                            result.messages().iter().filter_map(|m| m.value()).collect();
                        return Err(SourceError::Invalid {
                            operation: "GetMetricData".into(),
                            detail: format!(
                                "{} for {}: {}",
                                result.status_code().map_or("failure", |s| s.as_str()),
                                requests[call[index].request].key,
                                why.join("; ")
                            ),
                        });
                    }
                    seen[index] = true;
                    let series = &mut out[call[index].request];
                    series.points.extend(
                        result
                            .timestamps()
                            .iter()
                            .zip(result.values())
                            .map(|(t, v)| (to_timestamp(t), *v)),
                    );
                }
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            if let Some(missing) = seen.iter().position(|s| !s) {
                return Err(SourceError::Invalid {
                    operation: "GetMetricData".into(),
                    detail: format!("no result for {}", requests[call[missing].request].key),
                });
            }
        }
        Ok(out)
    }

    async fn discover(
        &self,
        namespace: &str,
        dimension: &Dimension,
    ) -> Result<Vec<MetricKey>, SourceError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_metrics()
                .namespace(namespace)
                .dimensions(
                    DimensionFilter::builder()
                        .name(&dimension.name)
                        .value(&dimension.value)
                        .build(),
                )
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| source_unavailable("ListMetrics", e))?;
            for m in page.metrics() {
                let dims = m
                    .dimensions()
                    .iter()
                    .map(|d| {
                        Dimension::new(d.name().unwrap_or_default(), d.value().unwrap_or_default())
                    })
                    .collect();
                // ListMetrics knows series, not statistics or periods: the
                // key says which dimensions exist, which is what planning
                // needs.
                out.push(MetricKey::new(
                    m.namespace().unwrap_or(namespace),
                    m.metric_name().unwrap_or_default(),
                    dims,
                    "",
                    0,
                ));
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(name: &str, period: u32, start: i64, end: i64) -> FetchRequest {
        FetchRequest {
            key: MetricKey::new("AWS/Lambda", name, vec![], "Sum", period),
            range: TimeRange::new(Timestamp::from_secs(start), Timestamp::from_secs(end)),
        }
    }

    #[test]
    fn calls_share_one_range_and_stay_within_queries_and_datapoints() {
        let day = 86_400;
        let mut requests: Vec<FetchRequest> = (0..1_200)
            .map(|i| req(&format!("m{i}"), 60, 0, 600))
            .collect();
        // Warm starts: 14 days of minutes is 20,160 points each.
        requests.extend((0..12).map(|i| req(&format!("w{i}"), 60, 0, 14 * day)));
        let calls = plan_calls(&requests);
        for call in &calls {
            assert!(call.len() <= MAX_QUERIES);
            assert!(call.iter().map(|p| p.points).sum::<i64>() <= MAX_POINTS);
            assert!(call.iter().all(|p| p.range == call[0].range));
        }
        let short: usize = calls
            .iter()
            .filter(|c| c[0].range.len_secs() == 600)
            .map(Vec::len)
            .sum();
        assert_eq!(short, 1_200);
        assert_eq!(
            calls
                .iter()
                .filter(|c| c[0].range.len_secs() == 600)
                .count(),
            3
        );
        // Five warm starts fit in a call: 12 need three calls.
        assert_eq!(
            calls
                .iter()
                .filter(|c| c[0].range.len_secs() == 14 * day)
                .count(),
            3
        );
    }

    #[test]
    fn a_request_longer_than_one_call_is_cut_on_period_boundaries() {
        let requests = vec![req("long", 60, 0, 60 * (MAX_POINTS + 10))];
        let calls = plan_calls(&requests);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0][0].points, MAX_POINTS);
        assert_eq!(calls[1][0].points, 10);
        assert_eq!(calls[0][0].range.end, calls[1][0].range.start);
    }
}
