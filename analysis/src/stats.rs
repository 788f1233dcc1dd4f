//! Descriptive statistics of one sample of measurements: the one place runlens computes a
//! mean or a standard deviation, so every command states the same method.
//!
//! `stddev` is the *sample* standard deviation (Bessel's correction, divisor n − 1), the
//! usual choice for a handful of benchmark runs; it is undefined (None) for n < 2.
//! Non-finite values (NaN, ±inf) are ignored.

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
    let count = finite.len();
    if count == 0 {
        return None;
    }
    let mean = finite.iter().sum::<f64>() / count as f64;
    // Two-pass variance: numerically stable enough for benchmark magnitudes.
    let stddev = (count >= 2).then(|| {
        let squares: f64 = finite.iter().map(|v| (v - mean).powi(2)).sum();
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

#[cfg(test)]
mod tests {
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
}
