//! The typed result of `runlens analyze`: one [`StatRow`] per group, phase and metric, and
//! the [`Method`] that computed them. Renderers read these fields; JSON comes from serde
//! ([`Analysis`] serialises as `{"method": ..., "rows": [...]}`, each row an object whose
//! first members are the `--by` keys).

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::catalogue::{Metric, Unit};
use crate::stats::{Interval, OutlierRule, Summary};

use super::TOTAL_PHASE;

/// How the numbers were computed, for the output's footer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Method {
    /// Percentile method.
    pub quantiles: &'static str,
    /// Confidence interval method (each row names the one it got in `ci95_method`).
    pub confidence_interval: &'static str,
    /// Outlier rule used.
    #[serde(serialize_with = "outlier_rule_name")]
    pub outlier_rule: OutlierRule,
    /// Whether outliers were removed.
    pub outliers_dropped: bool,
    /// Outliers found, over all rows.
    pub outliers_found: usize,
    /// Outliers removed (0 unless dropped).
    pub outliers_removed: usize,
    /// Warm-up observations excluded.
    pub warmups_excluded: usize,
    /// Failed observations excluded (counted per row in `failed`).
    pub failed_excluded: usize,
}

fn outlier_rule_name<S: Serializer>(rule: &OutlierRule, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(rule.name())
}

impl Method {
    /// The method of an analysis with `rule`, before any row is counted.
    pub fn new(rule: OutlierRule, drop_outliers: bool) -> Method {
        Method {
            quantiles: "linear interpolation between order statistics (numpy default, type 7)",
            confidence_interval: "95 % CI of the mean: Student's t with n - 1 degrees of freedom; \
                for a metric that cannot be negative, where that interval would go below 0, the \
                percentile bootstrap of the mean (2000 seeded resamples; above 100000 values the \
                t interval cut at 0)",
            outlier_rule: rule,
            outliers_dropped: drop_outliers,
            outliers_found: 0,
            outliers_removed: 0,
            warmups_excluded: 0,
            failed_excluded: 0,
        }
    }
}

/// A statistic a row reports (what a target judges).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// Arithmetic mean.
    Mean,
    /// Median.
    P50,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// Largest value.
    Max,
    /// Smallest value.
    Min,
}

impl Statistic {
    /// Every statistic, by name.
    pub const ALL: [(&'static str, Statistic); 6] = [
        ("mean", Statistic::Mean),
        ("p50", Statistic::P50),
        ("p95", Statistic::P95),
        ("p99", Statistic::P99),
        ("max", Statistic::Max),
        ("min", Statistic::Min),
    ];

    /// The statistic called `name`, or an error listing the valid names.
    pub fn parse(name: &str) -> Result<Statistic, String> {
        Statistic::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
            .ok_or_else(|| {
                let names: Vec<&str> = Statistic::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown statistic {name:?}; statistics: {}",
                    names.join(", ")
                )
            })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Statistic::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("", |(n, _)| n)
    }
}

/// One group's statistics of one metric (in one phase).
#[derive(Debug, Clone, PartialEq)]
pub struct StatRow {
    /// The `--by` key values (None: the group has no value for the key).
    pub keys: Vec<Option<String>>,
    /// Phase, or [`TOTAL_PHASE`].
    pub phase: String,
    /// The metric.
    pub metric: &'static Metric,
    /// Observations counted (after removing outliers, when asked).
    pub n: usize,
    /// Failed observations, excluded.
    pub failed: usize,
    /// The statistics (None when nothing was counted).
    pub summary: Option<Summary>,
    /// Outliers found.
    pub outliers: usize,
    /// Outliers removed.
    pub outliers_removed: usize,
}

impl StatRow {
    /// The metric's unit.
    pub fn unit(&self) -> Unit {
        self.metric.unit
    }

    /// Whether this is the whole-run (`(total)`) row.
    pub fn is_total(&self) -> bool {
        self.phase == TOTAL_PHASE
    }

    /// A statistic's value.
    pub fn statistic(&self, statistic: Statistic) -> Option<f64> {
        let s = self.summary.as_ref()?;
        Some(match statistic {
            Statistic::Mean => s.describe.mean,
            Statistic::P50 => s.p50,
            Statistic::P95 => s.p95,
            Statistic::P99 => s.p99,
            Statistic::Max => s.describe.max,
            Statistic::Min => s.describe.min,
        })
    }

    /// Arithmetic mean.
    pub fn mean(&self) -> Option<f64> {
        self.statistic(Statistic::Mean)
    }

    /// Sample standard deviation.
    pub fn stddev(&self) -> Option<f64> {
        self.summary.as_ref().and_then(|s| s.describe.stddev)
    }

    /// 95 % confidence interval of the mean.
    pub fn ci95(&self) -> Option<Interval> {
        self.summary.as_ref().and_then(|s| s.ci95)
    }
}

/// The result: one row per group, phase and metric, and the method.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The grouping keys, in order (each row's `keys` follow it).
    pub by: Vec<String>,
    /// The rows, by group, phase order and catalogue order.
    pub rows: Vec<StatRow>,
    /// How it was computed.
    pub method: Method,
}

impl Analysis {
    /// The rows of `metric` in `phase`.
    pub fn rows_of<'a>(
        &'a self,
        metric: &'a str,
        phase: &'a str,
    ) -> impl Iterator<Item = &'a StatRow> + 'a {
        self.rows
            .iter()
            .filter(move |r| r.metric.name == metric && r.phase == phase)
    }

    /// The rows as serialisable records (keys named).
    pub fn records(&self) -> impl Iterator<Item = Record<'_>> + '_ {
        self.rows.iter().map(|row| Record { by: &self.by, row })
    }
}

impl Serialize for Analysis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("method", &self.method)?;
        map.serialize_entry("rows", &self.records().collect::<Vec<_>>())?;
        map.end()
    }
}

/// The names of a record's fields after the keys, in order (the CSV header).
pub const RECORD_FIELDS: [&str; 18] = [
    "phase",
    "metric",
    "unit",
    "n",
    "failed",
    "mean",
    "stddev",
    "min",
    "max",
    "p50",
    "p95",
    "p99",
    "ci95_low",
    "ci95_high",
    "ci95_method",
    "outliers",
    "outliers_removed",
    "direction",
];

/// One row with its key names, as JSON and CSV write it.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    by: &'a [String],
    row: &'a StatRow,
}

/// A record field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    /// Text (None: null).
    Text(Option<&'a str>),
    /// A count.
    Count(usize),
    /// A number (None: null).
    Number(Option<f64>),
}

impl<'a> Record<'a> {
    /// The key names and values.
    pub fn keys(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        let row = self.row;
        self.by
            .iter()
            .zip(&row.keys)
            .map(|(k, v)| (k.as_str(), v.as_deref()))
    }

    /// The fields of [`RECORD_FIELDS`], in that order.
    pub fn fields(&self) -> [Field<'a>; 18] {
        let r = self.row;
        let s = r.summary.as_ref();
        let ci = r.ci95();
        let stat = |st| Field::Number(r.statistic(st));
        [
            Field::Text(Some(&r.phase)),
            Field::Text(Some(r.metric.name)),
            Field::Text(Some(r.metric.unit.symbol())),
            Field::Count(r.n),
            Field::Count(r.failed),
            stat(Statistic::Mean),
            Field::Number(s.and_then(|s| s.describe.stddev)),
            stat(Statistic::Min),
            stat(Statistic::Max),
            stat(Statistic::P50),
            stat(Statistic::P95),
            stat(Statistic::P99),
            Field::Number(ci.map(|c| c.low)),
            Field::Number(ci.map(|c| c.high)),
            Field::Text(ci.map(|c| c.method.name())),
            Field::Count(r.outliers),
            Field::Count(r.outliers_removed),
            Field::Text(Some(r.metric.direction.name())),
        ]
    }
}

impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (k, v) in self.keys() {
            map.serialize_entry(k, &v)?;
        }
        for (name, field) in RECORD_FIELDS.iter().zip(self.fields()) {
            match field {
                Field::Text(t) => map.serialize_entry(name, &t)?,
                Field::Count(c) => map.serialize_entry(name, &c)?,
                Field::Number(n) => map.serialize_entry(name, &n.filter(|v| v.is_finite()))?,
            }
        }
        map.end()
    }
}
