//! Human-readable quantities for terminal and Markdown output: the dataset keeps one unit
//! per column (`*_ms`, `*_bytes`); conversion to a readable scale happens only here.

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
    fn bytes_use_binary_units() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(35_861_709), "34.2 MiB");
        assert_eq!(format_bytes(1_610_612_736), "1.50 GiB");
    }
}
