//! The report as one self-contained HTML page: inline CSS, the charts as inline SVG, no
//! script and no fetch of anything, so it opens offline and can be mailed. Every string
//! that comes from the data (labels, model names, session ids, findings) is escaped.

use std::fmt::Write as _;

use polars::prelude::*;
use runlens_analysis::report_content::Report;

use crate::charts::ChartKind;
use crate::report::value_text;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1100px;color:#1b1b1b;padding:0 1rem}\
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}\
th,td{border:1px solid #c8c8c8;padding:.3rem .6rem}th{background:#eef1f5;text-align:left}\
td.num{text-align:right;font-variant-numeric:tabular-nums}\
.verdict{font-size:1.4rem;font-weight:700;padding:.4rem .8rem;display:inline-block;border-radius:4px}\
.FAIL{background:#8b0000;color:#fff}.PASS{background:#0b5d1e;color:#fff}.NOT-JUDGED{background:#555;color:#fff}\
figure{margin:1rem 0}figcaption{font-weight:600}p.note{color:#444;font-size:.9rem}";

fn table(out: &mut String, df: &DataFrame) {
    if df.height() == 0 {
        out.push_str("<p class=\"note\">none</p>\n");
        return;
    }
    out.push_str("<table>\n<thead><tr>");
    for c in df.columns() {
        let _ = write!(
            out,
            "<th>{}</th>",
            escape(&crate::report::header_for_people(c.name()))
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for i in 0..df.height() {
        out.push_str("<tr>");
        for c in df.columns() {
            let text = c
                .get(i)
                .map(|v| value_text(c.name(), &v))
                .unwrap_or_default();
            let class = if c.dtype().is_primitive_numeric() {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(&text));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// The page: verdict, headline, the sections with their tables, the charts, the method.
pub fn render_html(report: &Report, charts: &[(ChartKind, String)]) -> String {
    let method = crate::report::method_lines_of(report);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>runlens benchmark report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Benchmark report</h1>\n"
    );
    let _ = writeln!(
        out,
        "<p><span class=\"verdict {}\" id=\"verdict\">Verdict: {}</span></p>",
        escape(&report.verdict.label().replace(' ', "-")),
        escape(report.verdict.label())
    );
    if !report.reasons.is_empty() {
        out.push_str("<ul class=\"reasons\">\n");
        for r in &report.reasons {
            let _ = writeln!(out, "<li><strong>{}</strong></li>", escape(r));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<table>\n<tbody>\n");
    for (label, value) in &report.headline {
        let value = value
            .map(|v| crate::report::readable(label, v))
            .unwrap_or_else(|| "—".into());
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td class=\"num\">{}</td></tr>",
            escape(&crate::report::header_for_people(label)),
            escape(&value)
        );
    }
    out.push_str("</tbody></table>\n");
    if !report.by.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">Grouped by: {}.</p>",
            escape(&report.by.join(", "))
        );
    }
    for section in &report.sections {
        let _ = writeln!(
            out,
            "<h2 id=\"{}\">{}</h2>",
            section.key,
            escape(section.title)
        );
        table(&mut out, &section.frame);
        for note in &section.notes {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(note));
        }
    }
    if !charts.is_empty() {
        out.push_str("<h2 id=\"charts\">Charts</h2>\n");
        for (kind, svg) in charts {
            let _ = writeln!(
                out,
                "<figure class=\"chart\" id=\"chart-{}\">\n<figcaption>{}</figcaption>\n{}\n</figure>",
                kind.name,
                escape(kind.title),
                svg.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
                    .trim()
            );
        }
    }
    out.push_str("<h2 id=\"method\">Method</h2>\n<ul>\n");
    for line in method.lines() {
        let _ = writeln!(out, "<li>{}</li>", escape(line));
    }
    out.push_str("</ul>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_data_is_text() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
