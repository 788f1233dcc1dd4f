//! Human-readable quantities for terminal, Markdown and HTML output: the dataset and the
//! analyses keep one unit per value (the metric catalogue's [`Unit`]); conversion to a
//! readable scale happens only here, one formatter per unit, used by every renderer.

use runlens_analysis::catalogue::Unit;

/// A value of `unit`, readable: durations on a readable scale, bytes in binary units, USD
/// with a dollar sign, rates per second, counts as whole numbers where they are whole.
pub fn format_value(v: f64, unit: Unit) -> String {
    if !v.is_finite() {
        return String::new();
    }
    match unit {
        Unit::Ms => format_duration_ms(v),
        Unit::Bytes => format_bytes(v.round() as i64),
        Unit::Usd => format_usd(v),
        Unit::TokensPerS => format!("{v:.1}/s"),
        Unit::Tokens | Unit::Calls | Unit::Files => format_count(v),
    }
}

/// [`format_value`] of an optional value (empty when None).
pub fn format_optional(v: Option<f64>, unit: Unit) -> String {
    v.map(|v| format_value(v, unit)).unwrap_or_default()
}

/// A count: whole numbers without decimals, others (a mean) with one.
pub fn format_count(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A duration given in milliseconds, in ms below one second, else in seconds (or minutes
/// and seconds above ten minutes): `850.2 ms`, `12.34 s`, `14 min 05 s`.
pub fn format_duration_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return String::new();
    }
    let abs = ms.abs();
    if abs < 1000.0 {
        format!("{ms:.1} ms")
    } else if abs < 600_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        let seconds = (ms / 1000.0).round() as i64;
        format!("{} min {:02} s", seconds / 60, seconds % 60)
    }
}

/// A byte count in binary units: `512 B`, `34.2 MiB`, `1.50 GiB`.
pub fn format_bytes(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes.unsigned_abs() < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for next in UNITS {
        if value.abs() < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    if value.abs() < 10.0 {
        format!("{value:.2} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

/// Dollars with enough digits for small amounts: `$0.0923`, `$12.50`, `$1,234.57`.
pub fn format_usd(v: f64) -> String {
    if v.abs() >= 1000.0 {
        let cents = (v * 100.0).round() as i64;
        let (whole, frac) = (cents / 100, (cents % 100).abs());
        let digits = whole.abs().to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{}${grouped}.{frac:02}", if v < 0.0 { "-" } else { "" })
    } else if v < 0.0 {
        format!("-{}", format_usd(-v))
    } else if v >= 1.0 {
        format!("${v:.2}")
    } else {
        format!("${v:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_readable_scale() {
        assert_eq!(format_duration_ms(850.24), "850.2 ms");
        assert_eq!(format_duration_ms(12_345.0), "12.35 s");
        assert_eq!(format_duration_ms(845_000.0), "14 min 05 s");
    }

    #[test]
    fn each_unit_is_formatted_one_way() {
        assert_eq!(format_value(0.0123, Unit::Usd), "$0.0123");
        assert_eq!(format_value(1234.5, Unit::Usd), "$1,234.50");
        assert_eq!(format_value(-0.336, Unit::Usd), "-$0.3360");
        assert_eq!(format_value(12_345.0, Unit::Ms), "12.35 s");
        assert_eq!(format_value(35_861_709.0, Unit::Bytes), "34.2 MiB");
        assert_eq!(format_value(41.26, Unit::TokensPerS), "41.3/s");
        assert_eq!(format_value(30_000.0, Unit::Tokens), "30000");
        assert_eq!(format_value(2.5, Unit::Calls), "2.5");
        assert_eq!(format_optional(None, Unit::Files), "");
    }

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(35_861_709), "34.2 MiB");
        assert_eq!(format_bytes(1_610_612_736), "1.50 GiB");
    }
}
