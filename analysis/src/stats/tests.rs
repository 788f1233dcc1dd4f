//! Tests of [`super`]: the stats checked against values computed independently.
use super::*;

#[test]
fn matches_hand_computed_values() {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32,
    // sample variance 32 / 7, stddev 2.138089935...
    let d = describe(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).expect("values");
    assert_eq!(d.count, 8);
    assert_eq!(d.mean, 5.0);
    assert!((d.stddev.expect("n > 1") - 2.138_089_935_299_395).abs() < 1e-12);
    assert_eq!((d.min, d.max), (2.0, 9.0));
}

#[test]
fn one_value_has_no_stddev_and_nan_is_ignored() {
    let d = describe(&[f64::NAN, 3.5]).expect("one value");
    assert_eq!((d.count, d.mean, d.stddev), (1, 3.5, None));
    assert!(describe(&[]).is_none());
    assert!(describe(&[f64::INFINITY]).is_none());
}

/// Relative (or, near 0, absolute) agreement to 1e-9.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn number(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn agrees_with_numpy_and_scipy() {
    let text = include_str!("../../tests/fixtures/stats_reference.json");
    let fixture: serde_json::Value = serde_json::from_str(text).expect("fixture");
    let cases = fixture["cases"].as_object().expect("cases");
    assert!(cases.len() >= 9);
    for (name, case) in cases {
        let values: Vec<f64> = case["values"]
            .as_array()
            .expect("values")
            .iter()
            .map(number)
            .collect();
        let s = summarize(&values, false).expect("finite values");
        let d = s.describe;
        assert_eq!(
            d.count as u64,
            case["count"].as_u64().expect("count"),
            "{name}"
        );
        for (what, ours, theirs) in [
            ("mean", d.mean, number(&case["mean"])),
            ("min", d.min, number(&case["min"])),
            ("max", d.max, number(&case["max"])),
            ("p50", s.p50, number(&case["p50"])),
            ("p95", s.p95, number(&case["p95"])),
            ("p99", s.p99, number(&case["p99"])),
        ] {
            assert!(close(ours, theirs), "{name} {what}: {ours} vs {theirs}");
        }
        match (d.stddev, case["stddev"].as_f64()) {
            (Some(a), Some(b)) => assert!(close(a, b), "{name} stddev: {a} vs {b}"),
            (None, None) => {}
            other => panic!("{name} stddev: {other:?}"),
        }
        match (s.ci95.map(|c| (c.low, c.high)), case["ci95"].as_array()) {
            (Some((lo, hi)), Some(ci)) => {
                assert!(
                    close(lo, number(&ci[0])),
                    "{name} ci low: {lo} vs {}",
                    ci[0]
                );
                assert!(
                    close(hi, number(&ci[1])),
                    "{name} ci high: {hi} vs {}",
                    ci[1]
                );
            }
            (None, None) => {}
            other => panic!("{name} ci: {other:?}"),
        }
        for (rule, key) in [
            (OutlierRule::Sd, "outliers_sd"),
            (OutlierRule::Iqr, "outliers_iqr"),
            (OutlierRule::Mad, "outliers_mad"),
        ] {
            let ours: Vec<u64> = outliers(&values, rule)
                .iter()
                .enumerate()
                .filter(|(_, o)| **o)
                .map(|(i, _)| i as u64)
                .collect();
            let theirs: Vec<u64> = case[key]
                .as_array()
                .expect("indices")
                .iter()
                .filter_map(serde_json::Value::as_u64)
                .collect();
            assert_eq!(ours, theirs, "{name} {key}");
        }
    }
}

/// A non-negative metric never gets a negative bound: where the t interval would go
/// below 0, the bootstrap interval agrees with scipy's within Monte Carlo error.
#[test]
fn non_negative_intervals_agree_with_scipys_bootstrap() {
    let text = include_str!("../../tests/fixtures/stats_reference.json");
    let fixture: serde_json::Value = serde_json::from_str(text).expect("fixture");
    let cases = fixture["bootstrap_mean"].as_object().expect("cases");
    assert!(cases.len() >= 4);
    for (name, case) in cases {
        let values: Vec<f64> = case["values"]
            .as_array()
            .expect("values")
            .iter()
            .map(number)
            .collect();
        assert!(
            number(&case["t_low"]) < 0.0,
            "{name}: a case where t goes below 0"
        );
        let t = summarize(&values, false).and_then(|s| s.ci95).expect("t");
        assert_eq!(t.method, IntervalMethod::StudentT);
        assert!(close(t.low, number(&case["t_low"])), "{name}: {t:?}");
        let ci = summarize(&values, true).and_then(|s| s.ci95).expect("ci");
        assert_eq!(ci.method, IntervalMethod::Bootstrap, "{name}");
        let (min, max) = values
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        assert!(ci.low >= min && ci.high <= max, "{name}: {ci:?}");
        let tolerance = 0.04 * (max - min);
        for (ours, theirs) in [(ci.low, &case["ci95"][0]), (ci.high, &case["ci95"][1])] {
            let theirs = number(theirs);
            assert!(
                (ours - theirs).abs() <= tolerance,
                "{name}: {ours} vs scipy {theirs} (tolerance {tolerance})"
            );
        }
    }
    // Seeded: the same values give the same interval.
    let v = [500.0, 1200.0, 22300.0];
    assert_eq!(summarize(&v, true), summarize(&v, true));
    // A t interval that stays above 0 is kept as it is.
    let tight = summarize(&[100.0, 101.0, 99.0], true).and_then(|s| s.ci95);
    assert_eq!(tight.map(|c| c.method), Some(IntervalMethod::StudentT));
}

#[test]
fn student_t_for_three_runs_is_far_from_normal() {
    // t(0.975, 2) = 4.302652729911275 (tables); the normal 1.96 would be 2.2× narrower.
    assert!((t_critical(0.95, 2) - 4.302_652_729_911_275).abs() < 1e-9);
    assert!((t_critical(0.95, 1) - 12.706_204_736_174_7).abs() < 1e-9);
}

#[test]
fn mann_whitney_agrees_with_scipy() {
    let text = include_str!("../../tests/fixtures/stats_reference.json");
    let fixture: serde_json::Value = serde_json::from_str(text).expect("fixture");
    let cases = fixture["mann_whitney"].as_object().expect("cases");
    assert!(cases.len() >= 5);
    for (name, case) in cases {
        let sample = |k: &str| -> Vec<f64> {
            case[k]
                .as_array()
                .expect("sample")
                .iter()
                .map(number)
                .collect()
        };
        let p = mann_whitney_p(&sample("x"), &sample("y")).expect("p");
        let want = number(&case["p"]);
        assert!(close(p, want), "{name}: {p} vs scipy {want}");
    }
    assert_eq!(mann_whitney_p(&[], &[1.0]), None);
}

#[test]
fn bootstrap_is_seeded_and_brackets_the_ratio() {
    let base = [100.0, 102.0, 98.0, 101.0, 99.0];
    let cand = [50.0, 51.0, 49.0, 50.5, 49.5];
    let a = bootstrap_ratio_ci(&base, &cand, 2000, 42).expect("ci");
    assert_eq!(Some(a), bootstrap_ratio_ci(&base, &cand, 2000, 42));
    // The medians' ratio is 50 / 100 = 0.5; every resampled ratio lies in
    // [49 / 102, 51 / 98].
    assert!(a.0 <= 0.5 && 0.5 <= a.1, "{a:?}");
    assert!(a.0 >= 49.0 / 102.0 && a.1 <= 51.0 / 98.0, "{a:?}");
    assert_eq!(bootstrap_ratio_ci(&[0.0], &[1.0], 10, 1), None);
}

/// The bootstrap as defined, written the slow way: resample the sorted sample by drawn
/// positions, sort the resample, take its median.
fn bootstrap_ratio_ci_by_sorting(
    baseline: &[f64],
    candidate: &[f64],
    rounds: usize,
    seed: u64,
) -> (f64, f64) {
    let sorted = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v
    };
    let (baseline, candidate) = (sorted(baseline), sorted(candidate));
    let mut rng = SplitMix64::new(seed);
    let mut median = |values: &[f64]| {
        let resample: Vec<f64> = (0..values.len())
            .map(|_| values[rng.below(values.len())])
            .collect();
        quantile_sorted(&sorted(&resample), 0.5)
    };
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|_| {
            let base = median(&baseline);
            median(&candidate) / base
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    (
        quantile_sorted(&ratios, 0.025),
        quantile_sorted(&ratios, 0.975),
    )
}

#[test]
fn bootstrap_medians_by_counting_equal_the_sorted_resamples() {
    let mut rng = SplitMix64::new(7);
    for (n1, n2) in [(1, 1), (2, 3), (10, 9), (101, 250), (1000, 999)] {
        // Values with ties (rounded) and unsorted.
        let mut draw = |n: usize, scale: f64| -> Vec<f64> {
            (0..n)
                .map(|_| ((rng.next_u64() % 1000) as f64 * scale).round())
                .collect()
        };
        let (base, cand) = (draw(n1, 0.5), draw(n2, 0.7));
        let base: Vec<f64> = base.into_iter().map(|v| v + 1.0).collect();
        let fast = bootstrap_ratio_ci(&base, &cand, 300, 11).expect("ci");
        let slow = bootstrap_ratio_ci_by_sorting(&base, &cand, 300, 11);
        assert_eq!(fast, slow, "{n1} x {n2}");
        // The order of the values does not matter.
        let mut reversed = base.clone();
        reversed.reverse();
        assert_eq!(bootstrap_ratio_ci(&reversed, &cand, 300, 11), Some(fast));
    }
}

#[test]
fn selected_quantiles_equal_those_of_the_sorted_values() {
    let mut rng = SplitMix64::new(5);
    let ps = [0.0, 0.01, 0.25, 0.5, 0.5, 0.75, 0.95, 0.99, 0.999, 1.0];
    for n in [1usize, 2, 3, 7, 10, 101, 1_000, 4_097] {
        // Few distinct values (ties) and many.
        for distinct in [3u64, 1 << 40] {
            let values: Vec<f64> = (0..n)
                .map(|_| (rng.next_u64() % distinct) as f64 * 0.37 - 5.0)
                .collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let expected: Vec<f64> = ps.iter().map(|p| quantile_sorted(&sorted, *p)).collect();
            let mut shuffled = values.clone();
            let found = quantiles(&mut shuffled, ps);
            assert_eq!(found.to_vec(), expected, "n {n}, {distinct} distinct");
        }
    }
    assert!(quantiles(&mut [], [0.5])[0].is_nan());
}

#[test]
fn the_mean_is_the_exact_sum_rounded_once_in_any_order() {
    // Summed left to right in f64 these give 0 (1e16 + 1 rounds back to 1e16); exactly, 2.
    let d = describe(&[1e16, 1.0, 1.0, -1e16]).expect("values");
    assert_eq!(d.mean, 0.5);
    // The same values in three orders analyse to the same bits (sums do not depend on the
    // order; the bootstrap's interval sorts first).
    let mut rng = SplitMix64::new(9);
    let values: Vec<f64> = (0..20_000)
        .map(|_| (rng.next_u64() % 1_000_000) as f64 / 7.0)
        .collect();
    let mut reversed = values.clone();
    reversed.reverse();
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let analyses: Vec<_> = [values, reversed, sorted]
        .into_iter()
        .map(|v| analyze_sample(v, OutlierRule::Mad, true, true))
        .collect();
    assert_eq!(analyses[0], analyses[1]);
    assert_eq!(analyses[0], analyses[2]);
}
