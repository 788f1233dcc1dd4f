//! Where each provider's calls go: the official endpoints, or `--upstream PROVIDER=URL`
//! (the URL in the form of the provider's base-URL variable, e.g.
//! `openai=http://127.0.0.1:8080/v1`).
//!
//! The proxy listens on one loopback port per provider and hands the child a base URL with
//! the upstream's own path (`http://127.0.0.1:PORT/v1`), so request paths reach the
//! upstream unchanged: the client cannot tell the proxy is there.

use std::collections::BTreeMap;

use runlens_ingest::wire::Provider;

/// One provider's upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// Scheme, host and port (`https://api.openai.com`).
    pub origin: String,
    /// The base URL's path without a trailing slash (`/v1`, or empty).
    pub base_path: String,
}

impl Upstream {
    /// Parses a base URL (`http` or `https`).
    pub fn parse(url: &str) -> Result<Upstream, String> {
        let url = url.trim();
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| format!("{url}: an upstream URL starts with http:// or https://"))?;
        let scheme_len = url.len() - rest.len();
        let host_end = rest.find('/').unwrap_or(rest.len());
        if host_end == 0 {
            return Err(format!("{url}: no host"));
        }
        if rest.contains('?') || rest.contains('#') {
            return Err(format!("{url}: a base URL has no query or fragment"));
        }
        Ok(Upstream {
            origin: url[..scheme_len + host_end].to_string(),
            base_path: rest[host_end..].trim_end_matches('/').to_string(),
        })
    }
}

/// Every provider's upstream.
#[derive(Debug, Clone)]
pub struct Upstreams(pub BTreeMap<Provider, Upstream>);

impl Upstreams {
    /// Each provider's upstream: its `--upstream PROVIDER=URL` if given, else where the
    /// command would have gone without runlens (the provider's base-URL variable in
    /// runlens's own environment, read through `env`), else the official endpoint.
    pub fn resolve(
        overrides: &[(String, String)],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Upstreams, String> {
        let mut map = BTreeMap::new();
        for provider in Provider::ALL {
            let inherited = provider
                .base_url_variables()
                .iter()
                .find_map(|v| env(v).filter(|u| !u.trim().is_empty()).map(|u| (*v, u)));
            let upstream = match inherited {
                Some((variable, url)) => Upstream::parse(&normalise_inherited(provider, &url))
                    .map_err(|e| format!("{variable} in the environment: {e}"))?,
                None => Upstream::parse(provider.default_base_url())?,
            };
            map.insert(provider, upstream);
        }
        for (name, url) in overrides {
            let provider = Provider::parse(name).ok_or_else(|| {
                format!(
                    "--upstream {name}=...: unknown provider (openai, anthropic, ollama, gemini)"
                )
            })?;
            map.insert(provider, Upstream::parse(url)?);
        }
        Ok(Upstreams(map))
    }
}

/// `OLLAMA_HOST` may be `host:port` or `0.0.0.0` (a server's bind address): as a client's
/// target that is `http://127.0.0.1:11434`.
fn normalise_inherited(provider: Provider, url: &str) -> String {
    let url = url.trim();
    if provider != Provider::Ollama || url.contains("://") {
        return url.to_string();
    }
    let (host, port) = match url.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => (h, p),
        _ => (url, "11434"),
    };
    let host = if host.is_empty() || host == "0.0.0.0" {
        "127.0.0.1"
    } else {
        host
    };
    format!("http://{host}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_split_into_origin_and_path() {
        let u = Upstream::parse("http://127.0.0.1:8080/v1/").expect("url");
        assert_eq!(u.origin, "http://127.0.0.1:8080");
        assert_eq!(u.base_path, "/v1");
        let u = Upstream::parse("https://api.anthropic.com").expect("url");
        assert_eq!(
            (u.origin.as_str(), u.base_path.as_str()),
            ("https://api.anthropic.com", "")
        );
        assert!(Upstream::parse("127.0.0.1:11434").is_err());
        assert!(Upstream::parse("http:///v1").is_err());
    }

    #[test]
    fn overrides_beat_the_environment_which_beats_the_defaults() {
        let env = |v: &str| match v {
            "OPENAI_BASE_URL" => Some("http://127.0.0.1:8080/v1".to_string()),
            "ANTHROPIC_BASE_URL" => Some("https://gateway.example/anthropic".to_string()),
            "OLLAMA_HOST" => Some("0.0.0.0".to_string()),
            _ => None,
        };
        let u = Upstreams::resolve(&[("OpenAI".into(), "http://localhost:9/v1".into())], env)
            .expect("upstreams");
        assert_eq!(u.0[&Provider::OpenAi].origin, "http://localhost:9");
        assert_eq!(u.0[&Provider::Anthropic].base_path, "/anthropic");
        assert_eq!(u.0[&Provider::Ollama].origin, "http://127.0.0.1:11434");
        assert_eq!(
            u.0[&Provider::Gemini].origin,
            "https://generativelanguage.googleapis.com"
        );
        let none = |_: &str| None;
        assert!(Upstreams::resolve(&[("mistral".into(), "http://x".into())], none).is_err());
        assert_eq!(
            normalise_inherited(Provider::Ollama, "gpu-box:11500"),
            "http://gpu-box:11500"
        );
        assert!(Upstreams::resolve(&[], |_| Some("not a url".into())).is_err());
    }
}
