//! Secret redaction for every free-text value runlens stores (command lines, errors).
//!
//! API keys and tokens must never reach the dataset, logs or reports. This module knows
//! the shapes secrets take in command lines: provider key prefixes (`sk-`, `sk-ant-`,
//! `AIza`, `ghp_`, `xox?-`, `AKIA`), `Bearer` tokens, `--api-key VALUE` style flags, and
//! `NAME=VALUE` assignments whose name looks secret (`*KEY*`, `*TOKEN*`, `*SECRET*`,
//! `*PASSWORD*`). Each is replaced by `[REDACTED]`.

use std::sync::LazyLock;

use regex::Regex;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

static KEY_SHAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{8,}
          |AIza[0-9A-Za-z_\-]{20,}
          |gh[pousr]_[A-Za-z0-9]{20,}
          |github_pat_[A-Za-z0-9_]{20,}
          |xox[abposr]-[A-Za-z0-9\-]{10,}
          |AKIA[0-9A-Z]{16}
          |hf_[A-Za-z0-9]{20,})",
    )
    .expect("static regex")
});

static BEARER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+").expect("regex"));

static SECRET_FLAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(--?(?:[a-z0-9]+[-_])*(?:api[-_]?key|key|token|secret|password|passwd|auth))(=|\s+)([^\s]+)",
    )
    .expect("regex")
});

static SECRET_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)\b([A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?))=("[^"]*"|'[^']*'|[^\s]+)"#,
    )
    .expect("regex")
});

/// Whether an environment variable's name says its value is a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|marker| upper.contains(marker))
}

/// Returns `text` with every secret-looking value replaced by [`REDACTED`].
pub fn redact_command(text: &str) -> String {
    let text = SECRET_ASSIGNMENT.replace_all(text, |c: &regex::Captures<'_>| {
        format!("{}={REDACTED}", &c[1])
    });
    let text = SECRET_FLAG.replace_all(&text, |c: &regex::Captures<'_>| {
        format!("{}{}{REDACTED}", &c[1], &c[2])
    });
    let text = BEARER.replace_all(&text, |c: &regex::Captures<'_>| {
        format!("{} {REDACTED}", &c[1])
    });
    KEY_SHAPES.replace_all(&text, REDACTED).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_shape() {
        let cases = [
            (
                "curl -H 'Authorization: Bearer abc.def-123' x",
                "abc.def-123",
            ),
            (
                "run --api-key sk-live1234567890abcdef",
                "sk-live1234567890abcdef",
            ),
            ("run --token=hunter2", "hunter2"),
            (
                "OPENAI_API_KEY=sk-proj-abcdefgh12345678 ./wf",
                "sk-proj-abcdefgh12345678",
            ),
            (
                "export GH=ghp_aaaaaaaaaaaaaaaaaaaaaaaa",
                "ghp_aaaaaaaaaaaaaaaaaaaaaaaa",
            ),
            ("DB_PASSWORD='p a s s' run", "p a s s"),
            (
                "key AIzaSyA1234567890123456789012345",
                "AIzaSyA1234567890123456789012345",
            ),
        ];
        for (input, secret) in cases {
            let out = redact_command(input);
            assert!(!out.contains(secret), "{input} -> {out}");
            assert!(out.contains(REDACTED), "{input} -> {out}");
        }
    }

    #[test]
    fn leaves_ordinary_commands_alone() {
        let cmd =
            "MAX_TOKENS=100 python3 bench.py --max-tokens 512 --model llama3.2:3b --keep-going";
        assert_eq!(redact_command(cmd), cmd);
        assert!(is_secret_name("ANTHROPIC_API_KEY"));
        assert!(!is_secret_name("PATH"));
    }
}
