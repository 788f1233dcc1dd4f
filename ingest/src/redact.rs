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

/// Values shorter than this are not treated as secrets even under a secret-looking name:
/// `MAX_TOKENS=100` is a setting, and redacting "100" everywhere would destroy the output.
const MIN_SECRET_VALUE_LEN: usize = 8;

/// Redacts secrets in free text: the shapes [`redact_command`] knows, plus the literal
/// values of secret-named environment variables (`*KEY*`, `*TOKEN*`, ...) wherever they
/// appear, whatever their shape.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    values: Vec<String>,
}

impl Redactor {
    /// A redactor that knows the secret values of this process's environment.
    pub fn from_env() -> Self {
        Self::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// A redactor that knows the secret values among `vars` (name, value).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut values: Vec<String> = vars
            .into_iter()
            .filter(|(name, value)| {
                is_secret_name(name) && value.trim().len() >= MIN_SECRET_VALUE_LEN
            })
            .map(|(_, value)| value)
            .collect();
        // Longest first, so a value containing another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Redactor { values }
    }

    /// `text` with every known secret value and every secret shape replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = std::borrow::Cow::Borrowed(text);
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(value.as_str(), REDACTED));
            }
        }
        redact_command(&out)
    }
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

    #[test]
    fn redactor_replaces_secret_environment_values_of_any_shape() {
        let redactor = Redactor::from_vars([
            (
                "MY_SERVICE_TOKEN".to_string(),
                "plain-looking-value-42".to_string(),
            ),
            ("MAX_TOKENS".to_string(), "100".to_string()),
            ("HOME".to_string(), "/home/someone-long".to_string()),
        ]);
        let out =
            redactor.redact("got plain-looking-value-42 with 100 tokens in /home/someone-long");
        assert_eq!(out, "got [REDACTED] with 100 tokens in /home/someone-long");
        assert_eq!(redactor.redact("Bearer abcdef123"), "Bearer [REDACTED]");
    }
}
