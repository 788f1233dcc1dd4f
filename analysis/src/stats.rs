//! Statistics of one sample of measurements: the one place runlens computes a mean, a
//! standard deviation, a percentile, a confidence interval or an outlier, so every command
//! states (and uses) the same method:
//!
//! - the mean is the exact sum of the values, rounded once, divided by n: it does not depend
//!   on the order of the values, so the order the files are read in never changes a figure's
//!   last digit (Spark's engine sums its own way; the two engines agree to 1e-9);
//! - `stddev` is the *sample* standard deviation (Bessel's correction, divisor n − 1), the
//!   usual choice for a handful of benchmark runs; undefined (None) for n < 2 (its squared
//!   deviations from the mean are summed exactly too);
//! - percentiles interpolate linearly between order statistics: with the values sorted,
//!   p maps to rank h = (n − 1)·p and the result is x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])
//!   (numpy's default, Hyndman & Fan type 7); the order statistics are found by selection,
//!   in linear time, without sorting;
//! - the 95 % confidence interval of the mean is mean ± t(0.975, n − 1)·s/√n with Student's
//!   t (n is often 3, where the normal 1.96 would claim far too much); None for n < 2.
//!   For a metric that cannot be negative (a time, a size, a cost), a small or skewed sample
//!   can put that interval's lower end below 0, a value the metric cannot take. There the
//!   interval is the percentile bootstrap of the mean instead (Efron & Tibshirani, *An
//!   Introduction to the Bootstrap*, ch. 13: the 2.5th and 97.5th percentiles of the means of
//!   [`BOOTSTRAP_MEAN_ROUNDS`] seeded resamples), which stays inside the range of the data;
//!   above [`BOOTSTRAP_MEAN_MAX_N`] values the t interval is cut at 0 instead. Each interval
//!   carries its [`IntervalMethod`], and the outputs say which one a row got.
//! - outliers: beyond 3 sample standard deviations from the mean (`sd`, the default),
//!   beyond 1.5 IQR outside the quartiles (`iqr`), or with a modified z-score
//!   0.6745·(x − median)/MAD above 3.5 in absolute value (`mad`; none when MAD is 0).
//!
//! Non-finite values (NaN, ±inf) are ignored. The values are checked against numpy and
//! scipy (`analysis/tests/fixtures/stats_reference.py` and its committed output).

/// Count, mean, sample standard deviation, minimum and maximum of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Describe {
    /// Number of finite values.
    pub count: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (divisor n − 1); None for fewer than two values.
    pub stddev: Option<f64>,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// Describes the finite values of `values`; None when there are none.
pub fn describe(values: &[f64]) -> Option<Describe> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    describe_finite(&finite)
}

/// [`describe`] of values known to be finite (no copy is made).
fn describe_finite(finite: &[f64]) -> Option<Describe> {
    let count = finite.len();
    if count == 0 {
        return None;
    }
    let mean = exact_sum(finite.iter().copied()) / count as f64;
    // Two-pass variance: numerically stable enough for benchmark magnitudes.
    let stddev = (count >= 2).then(|| {
        let squares = exact_sum(finite.iter().map(|v| (v - mean).powi(2)));
        (squares / (count - 1) as f64).sqrt()
    });
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(Describe {
        count,
        mean,
        stddev,
        min,
        max,
    })
}

/// The sum of finite `values`, exact and then rounded once to the nearest f64 (bitrep's
/// fixed-point superaccumulator): the same bits in whatever order the values come, so a mean
/// does not change with the order the files were read in or the values were partitioned,
/// and no sort is needed to fix one. About 3 ns a value here (docs/benchmarks.md).
fn exact_sum(values: impl Iterator<Item = f64>) -> f64 {
    values.collect::<bitrep::SumF64>().value()
}

/// The full summary `runlens analyze` reports for one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Count, mean, stddev, min and max.
    pub describe: Describe,
    /// Median (linear interpolation).
    pub p50: f64,
    /// 95th percentile (linear interpolation).
    pub p95: f64,
    /// 99th percentile (linear interpolation).
    pub p99: f64,
    /// 95 % confidence interval of the mean; None for fewer than two values.
    pub ci95: Option<Interval>,
}

/// How a confidence interval was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalMethod {
    /// mean ± t(0.975, n − 1)·s/√n.
    StudentT,
    /// The percentile bootstrap of the mean (for a non-negative metric whose t interval
    /// would go below 0).
    Bootstrap,
    /// The t interval cut at 0 (a non-negative metric with too many values to resample).
    StudentTCutAtZero,
}

impl IntervalMethod {
    /// Its name in outputs (`student_t`, `bootstrap`, `student_t_cut_at_0`).
    pub fn name(self) -> &'static str {
        match self {
            IntervalMethod::StudentT => "student_t",
            IntervalMethod::Bootstrap => "bootstrap",
            IntervalMethod::StudentTCutAtZero => "student_t_cut_at_0",
        }
    }
}

/// A 95 % confidence interval and how it was computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// The method.
    pub method: IntervalMethod,
}

/// Resamples of the bootstrap interval of a mean.
pub const BOOTSTRAP_MEAN_ROUNDS: usize = 2000;
/// The bootstrap's seed: the same data give the same interval.
pub const BOOTSTRAP_MEAN_SEED: u64 = 0x72_75_6e_6c_65_6e_73; // "runlens"
/// Above this many values a non-negative metric's t interval is cut at 0 rather than
/// bootstrapped (its lower end only crosses 0 for extremely skewed data at such sizes).
pub const BOOTSTRAP_MEAN_MAX_N: usize = 100_000;

/// Summarises the finite values of `values`; None when there are none. `non_negative`:
/// the quantity cannot be below 0 (see the module doc for what that changes).
pub fn summarize(values: &[f64], non_negative: bool) -> Option<Summary> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let describe = describe_finite(&finite)?;
    Some(summarize_described(&mut finite, describe, non_negative))
}

/// The summary of finite values in any order, already described by `describe`; they are
/// reordered (no copy is made): the percentiles are found by selection, and the values are
/// sorted only when the interval is a bootstrap.
fn summarize_described(finite: &mut [f64], describe: Describe, non_negative: bool) -> Summary {
    let [p50, p95, p99] = quantiles(finite, [0.50, 0.95, 0.99]);
    Summary {
        describe,
        p50,
        p95,
        p99,
        ci95: interval(&describe, non_negative, Some(finite)),
    }
}

/// Whether the 95 % interval of a non-negative metric's mean may need every value (the
/// bootstrap): at most [`BOOTSTRAP_MEAN_MAX_N`] values and a t interval that could reach
/// below 0 with any degrees of freedom (t(0.975, 1) = 12.71 is the largest critical value).
/// An engine that summarises elsewhere ships a group's values back only when this holds.
pub fn may_bootstrap(count: usize, mean: f64, stddev: Option<f64>, non_negative: bool) -> bool {
    const LARGEST_T: f64 = 12.71;
    match stddev {
        Some(sd) => {
            non_negative
                && count <= BOOTSTRAP_MEAN_MAX_N
                && mean - LARGEST_T * sd / (count as f64).sqrt() < 0.0
        }
        None => false,
    }
}

/// The summary of a sample described by `describe` and its three percentiles, computed
/// elsewhere (another engine); `values` holds its finite values (in any order; they are
/// sorted if needed) when [`may_bootstrap`] holds for it (the interval then needs them), and
/// may be None otherwise.
pub fn summary_from_parts(
    describe: Describe,
    percentiles: [f64; 3],
    non_negative: bool,
    values: Option<&mut [f64]>,
) -> Summary {
    let [p50, p95, p99] = percentiles;
    Summary {
        describe,
        p50,
        p95,
        p99,
        ci95: interval(&describe, non_negative, values),
    }
}

/// The 95 % interval of the mean (see the module doc); the bootstrap needs the finite
/// `values`, which it sorts first (a seeded resample gives the same interval only for the
/// values in the same order); without them, the t interval is cut at 0.
fn interval(
    describe: &Describe,
    non_negative: bool,
    values: Option<&mut [f64]>,
) -> Option<Interval> {
    let sd = describe.stddev?;
    let half = t_critical(0.95, describe.count - 1) * sd / (describe.count as f64).sqrt();
    let t = Interval {
        low: describe.mean - half,
        high: describe.mean + half,
        method: IntervalMethod::StudentT,
    };
    Some(match values {
        _ if !non_negative || t.low >= 0.0 => t,
        Some(values) if values.len() <= BOOTSTRAP_MEAN_MAX_N => {
            values.sort_unstable_by(f64::total_cmp);
            let (low, high) = bootstrap_mean_ci(values, BOOTSTRAP_MEAN_ROUNDS, BOOTSTRAP_MEAN_SEED);
            Interval {
                low,
                high,
                method: IntervalMethod::Bootstrap,
            }
        }
        _ => Interval {
            low: 0.0,
            method: IntervalMethod::StudentTCutAtZero,
            ..t
        },
    })
}

/// What [`analyze_sample`] finds in one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleAnalysis {
    /// The summary of the values kept (all, or all but the outliers when dropping).
    pub summary: Option<Summary>,
    /// Values kept.
    pub kept: usize,
    /// Outliers found by the rule.
    pub outliers: usize,
    /// Outliers removed (0 unless dropping).
    pub removed: usize,
}

/// Summary and outliers of one sample, its values (in any order) reordered in place (the
/// caller hands them over; no copy is made): `runlens analyze`'s per-group work, fit for
/// millions of values. Nothing here sorts a large sample: the sums are exact (the same in
/// any order) and the percentiles and fences come from selection.
pub fn analyze_sample(
    mut values: Vec<f64>,
    rule: OutlierRule,
    drop_outliers: bool,
    non_negative: bool,
) -> SampleAnalysis {
    values.retain(|v| v.is_finite());
    let mut describe = describe_finite(&values);
    let outside = fences(&mut values, describe.as_ref(), rule);
    let is_outlier = |x: &f64| outside.is_some_and(|(low, high)| *x < low || *x > high);
    let outliers = values.iter().filter(|x| is_outlier(x)).count();
    if drop_outliers && outliers > 0 {
        values.retain(|x| !is_outlier(x));
        describe = describe_finite(&values);
    }
    SampleAnalysis {
        summary: describe.map(|d| summarize_described(&mut values, d, non_negative)),
        kept: values.len(),
        outliers,
        removed: if drop_outliers { outliers } else { 0 },
    }
}

/// The `ps` quantiles of `values` (finite, in any order; they are reordered), each the value
/// [`quantile_sorted`] gives for the values sorted, found by selection in linear time: the
/// ranks are selected from the highest down, each within the part below the last one (which
/// holds exactly the smaller values), and the next order statistic up for the interpolation
/// is the smallest value above the selected one. NaN for an empty slice.
pub fn quantiles<const N: usize>(values: &mut [f64], ps: [f64; N]) -> [f64; N] {
    let n = values.len();
    let mut out = [f64::NAN; N];
    if n == 0 {
        return out;
    }
    // (lower rank, fraction of the way to the next, where the result goes), highest first.
    let mut ranks: Vec<(usize, f64, usize)> = ps
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
            let lower = h.floor() as usize;
            (lower, h - lower as f64, i)
        })
        .collect();
    ranks.sort_by_key(|rank| std::cmp::Reverse(rank.0));
    // values[..end] holds the `end` smallest values, unordered; values[end] is the order
    // statistic of rank `end` when end < n.
    let mut end = n;
    let mut last: Option<(usize, f64, f64)> = None;
    for (lower, fraction, slot) in ranks {
        let (at, above) = match last {
            Some((rank, at, above)) if rank == lower => (at, above),
            _ => {
                let (_, at, rest) = values[..end].select_nth_unstable_by(lower, f64::total_cmp);
                let at = *at;
                let above = match rest.iter().copied().min_by(f64::total_cmp) {
                    Some(smallest) => smallest,
                    None if end < n => values[end],
                    None => at,
                };
                end = lower;
                (at, above)
            }
        };
        last = Some((lower, at, above));
        out[slot] = at + fraction * (above - at);
    }
    out
}

/// The `p` quantile (0 ≤ p ≤ 1) of ascending `sorted` values, interpolating linearly between
/// order statistics; NaN for an empty slice.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lower = h.floor() as usize;
    let upper = (lower + 1).min(n - 1);
    sorted[lower] + (h - lower as f64) * (sorted[upper] - sorted[lower])
}

/// The two-sided critical value of Student's t for `confidence` (0.95) with `df` degrees of
/// freedom (df ≥ 1).
pub fn t_critical(confidence: f64, df: usize) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let p = 1.0 - (1.0 - confidence) / 2.0;
    match StudentsT::new(0.0, 1.0, df.max(1) as f64) {
        Ok(t) => t.inverse_cdf(p),
        // Unreachable for df ≥ 1; the normal value is the limit.
        Err(_) => 1.959_963_984_540_054,
    }
}

/// How outliers are recognised (`--outliers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutlierRule {
    /// Beyond 3 sample standard deviations from the mean.
    #[default]
    Sd,
    /// Beyond 1.5 interquartile ranges below the first or above the third quartile.
    Iqr,
    /// Modified z-score 0.6745·(x − median)/MAD above 3.5 in absolute value.
    Mad,
}

impl OutlierRule {
    /// The rule as the output states it.
    pub fn describe(self) -> &'static str {
        match self {
            OutlierRule::Sd => "beyond 3 standard deviations from the mean",
            OutlierRule::Iqr => "beyond 1.5 IQR outside the quartiles",
            OutlierRule::Mad => "modified z-score (median absolute deviation) above 3.5",
        }
    }

    /// `sd`, `iqr` or `mad`.
    pub fn name(self) -> &'static str {
        match self {
            OutlierRule::Sd => "sd",
            OutlierRule::Iqr => "iqr",
            OutlierRule::Mad => "mad",
        }
    }
}

/// Which of the finite values of `values` (in their order, non-finite values skipped) are
/// outliers by `rule`.
pub fn outliers(values: &[f64], rule: OutlierRule) -> Vec<bool> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let describe = describe_finite(&finite);
    let (low, high) = match fences(&mut finite.clone(), describe.as_ref(), rule) {
        Some(f) => f,
        None => return vec![false; finite.len()],
    };
    finite.iter().map(|x| *x < low || *x > high).collect()
}

/// The values outside `(low, high)` are outliers by `rule`; None when the rule flags
/// nothing (fewer than two values for `sd`, a MAD of 0). `finite` may be reordered;
/// `describe` is its [`describe`] (None when empty).
fn fences(
    finite: &mut [f64],
    describe: Option<&Describe>,
    rule: OutlierRule,
) -> Option<(f64, f64)> {
    match rule {
        OutlierRule::Sd => {
            let d = describe?;
            let sd = d.stddev?;
            Some((d.mean - 3.0 * sd, d.mean + 3.0 * sd))
        }
        OutlierRule::Iqr => {
            if finite.is_empty() {
                return None;
            }
            let [q1, q3] = quantiles(finite, [0.25, 0.75]);
            let iqr = q3 - q1;
            Some((q1 - 1.5 * iqr, q3 + 1.5 * iqr))
        }
        OutlierRule::Mad => {
            if finite.is_empty() {
                return None;
            }
            let [median] = quantiles(finite, [0.5]);
            let mut deviations: Vec<f64> = finite.iter().map(|x| (x - median).abs()).collect();
            let [mad] = quantiles(&mut deviations, [0.5]);
            if mad == 0.0 {
                return None;
            }
            // |0.6745 (x − median) / MAD| > 3.5  ⇔  x outside median ± 3.5 MAD / 0.6745.
            let reach = 3.5 * mad / 0.6745;
            Some((median - reach, median + reach))
        }
    }
}

/// Two-sided p-value of the Mann–Whitney U test that `x` and `y` come from the same
/// distribution, as scipy's `mannwhitneyu(method="auto")` computes it: the exact
/// distribution of U when a sample has at most 8 values and there are no ties, else the
/// normal approximation with tie and continuity corrections. 1 when every value is equal;
/// None when a sample is empty.
pub fn mann_whitney_p(x: &[f64], y: &[f64]) -> Option<f64> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    // Midranks of the pooled sample.
    let mut pooled: Vec<(f64, bool)> = x
        .iter()
        .map(|v| (*v, true))
        .chain(y.iter().map(|v| (*v, false)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = pooled.len();
    let mut rank_sum_x = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        let midrank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_x += pooled[i..=j].iter().filter(|p| p.1).count() as f64 * midrank;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let (f1, f2) = (n1 as f64, n2 as f64);
    let u1 = rank_sum_x - f1 * (f1 + 1.0) / 2.0;
    let u = u1.max(f1 * f2 - u1);
    let ties = tie_term > 0.0;
    if !ties && (n1 <= 8 || n2 <= 8) {
        return Some((2.0 * exact_u_sf(u.round() as usize, n1.min(n2), n1.max(n2))).min(1.0));
    }
    let nf = n as f64;
    let variance = f1 * f2 / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if variance <= 0.0 {
        return Some(1.0);
    }
    let z = (u - f1 * f2 / 2.0 - 0.5) / variance.sqrt();
    Some((2.0 * normal_sf(z)).min(1.0))
}

/// P(U ≥ u) for the exact null distribution of U with sample sizes m ≤ n: the counts are
/// the coefficients of the Gaussian binomial coefficient [m + n choose m] in q.
fn exact_u_sf(u: usize, m: usize, n: usize) -> f64 {
    let max = m * n;
    let mut poly = vec![0.0f64; max + 1];
    poly[0] = 1.0;
    let mut degree = 0;
    for k in 1..=m {
        // Multiply by (1 − q^(n+k)) …
        let shift = n + k;
        for i in (shift..=(degree + shift).min(max)).rev() {
            poly[i] -= poly[i - shift];
        }
        degree = (degree + shift).min(max);
        // … and divide by (1 − q^k) (exact: the quotient is a polynomial).
        for i in k..=degree {
            poly[i] += poly[i - k];
        }
    }
    let total: f64 = poly.iter().sum();
    poly.iter().skip(u.min(max + 1)).sum::<f64>() / total
}

/// The standard normal survival function 1 − Φ(z).
fn normal_sf(z: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::new(0.0, 1.0).map_or(f64::NAN, |d| d.sf(z))
}

/// A small seeded generator (SplitMix64) for the bootstrap: the same seed gives the same
/// resamples on every machine.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// Percentile-bootstrap 95 % confidence interval of the mean of `values` (not empty):
/// `rounds` resamples with replacement, seeded; the 2.5th and 97.5th percentiles of their
/// means (linear interpolation).
pub fn bootstrap_mean_ci(values: &[f64], rounds: usize, seed: u64) -> (f64, f64) {
    let n = values.len();
    let mut rng = SplitMix64::new(seed);
    let mut means: Vec<f64> = (0..rounds.max(1))
        .map(|_| (0..n).map(|_| values[rng.below(n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_unstable_by(f64::total_cmp);
    (
        quantile_sorted(&means, 0.025),
        quantile_sorted(&means, 0.975),
    )
}

/// Percentile-bootstrap 95 % confidence interval of median(candidate) / median(baseline):
/// `rounds` resamples of each sample with replacement, seeded. None when a sample is empty
/// or a resampled baseline median is 0.
///
/// The interval depends on the values, not on their order: each sample is sorted first and
/// the resamples draw positions in the sorted sample (so the same values give the same
/// interval whichever engine or file order produced them). A resample's median is found by
/// counting how often each position was drawn, in time linear in the sample's size, rather
/// than by sorting the resample; it is the value [`quantile_sorted`] gives for the sorted
/// resample.
pub fn bootstrap_ratio_ci(
    baseline: &[f64],
    candidate: &[f64],
    rounds: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    if baseline.is_empty() || candidate.is_empty() || rounds == 0 {
        return None;
    }
    let sorted = |values: &[f64]| {
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        sorted
    };
    let (baseline, candidate) = (sorted(baseline), sorted(candidate));
    let mut rng = SplitMix64::new(seed);
    let (mut draws_a, mut draws_b) = (Vec::new(), Vec::new());
    let mut ratios = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let base = resampled_median(&baseline, &mut rng, &mut draws_a);
        let cand = resampled_median(&candidate, &mut rng, &mut draws_b);
        if base == 0.0 {
            return None;
        }
        ratios.push(cand / base);
    }
    ratios.sort_unstable_by(f64::total_cmp);
    Some((
        quantile_sorted(&ratios, 0.025),
        quantile_sorted(&ratios, 0.975),
    ))
}

/// The median of one resample with replacement of `sorted` (ascending, not empty): as many
/// positions drawn as it has values, each counted in `draws`; the values at the median's two
/// ranks interpolated as [`quantile_sorted`] does.
fn resampled_median(sorted: &[f64], rng: &mut SplitMix64, draws: &mut Vec<u32>) -> f64 {
    let n = sorted.len();
    draws.clear();
    draws.resize(n, 0);
    for _ in 0..n {
        draws[rng.below(n)] += 1;
    }
    let h = (n - 1) as f64 * 0.5;
    let lower_rank = h.floor() as usize;
    let upper_rank = (lower_rank + 1).min(n - 1);
    // The positions holding the resample's values of rank lower_rank and upper_rank.
    let (mut lower, mut upper) = (None, None);
    let mut seen = 0usize;
    for (position, &count) in draws.iter().enumerate() {
        seen += count as usize;
        if lower.is_none() && seen > lower_rank {
            lower = Some(position);
        }
        if seen > upper_rank {
            upper = Some(position);
            break;
        }
    }
    let (lower, upper) = (lower.unwrap_or(n - 1), upper.unwrap_or(n - 1));
    sorted[lower] + (h - lower_rank as f64) * (sorted[upper] - sorted[lower])
}

#[cfg(test)]
mod tests;
