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

/// Every provider's upstream: the defaults, overridden by `--upstream`.
#[derive(Debug, Clone)]
pub struct Upstreams(pub BTreeMap<Provider, Upstream>);

impl Upstreams {
    /// The official endpoints, then each `PROVIDER=URL` override.
    pub fn with_overrides(overrides: &[(String, String)]) -> Result<Upstreams, String> {
        let mut map = BTreeMap::new();
        for provider in Provider::ALL {
            map.insert(provider, Upstream::parse(provider.default_base_url())?);
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
    fn overrides_replace_the_defaults() {
        let u = Upstreams::with_overrides(&[("OpenAI".into(), "http://localhost:9/v1".into())])
            .expect("upstreams");
        assert_eq!(u.0[&Provider::OpenAi].origin, "http://localhost:9");
        assert_eq!(
            u.0[&Provider::Anthropic].origin,
            "https://api.anthropic.com"
        );
        assert!(Upstreams::with_overrides(&[("mistral".into(), "http://x".into())]).is_err());
    }
}
