//! The allowlist of URLs outgoing calls may reach: hosts, `*.domain` subdomains and URL
//! prefixes, from a comma- or whitespace-separated list.

use reqwest::Url;

/// An allowlist entry that cannot be understood; the message says what shape is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{item}` {why}")]
pub struct PatternError {
    pub item: String,
    pub why: String,
}

/// One allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// `api.example.com` or `api.example.com:8443`: that host (and port), any path.
    Host { host: String, port: Option<u16> },
    /// `*.example.com`: any subdomain of example.com (not example.com itself).
    Subdomains(String),
    /// `https://api.example.com/tools/`: same scheme, host and port, path under the prefix.
    Prefix { scheme: String, host: String, port: Option<u16>, path: String },
}

/// The URLs a deployment allows, from a comma- or whitespace-separated list of patterns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    patterns: Vec<Pattern>,
}

impl Allowlist {
    pub fn parse(raw: &str) -> Result<Self, PatternError> {
        let mut patterns = Vec::new();
        for item in raw.split([',', ' ', '\n', '\t']).map(str::trim).filter(|s| !s.is_empty()) {
            patterns.push(parse_pattern(item)?);
        }
        Ok(Allowlist { patterns })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host_str().map(normal_host) else { return false };
        let port = url.port_or_known_default();
        self.patterns.iter().any(|pattern| match pattern {
            Pattern::Host { host: h, port: p } => *h == host && p.is_none_or(|p| Some(p) == port),
            Pattern::Subdomains(suffix) => {
                host.len() > suffix.len() + 1
                    && host.ends_with(suffix.as_str())
                    && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
            }
            Pattern::Prefix { scheme, host: h, port: p, path } => {
                url.scheme() == scheme
                    && *h == host
                    && *p == port
                    && (url.path() == path.trim_end_matches('/')
                        || url.path().starts_with(path.as_str())
                            && (path.ends_with('/') || {
                                let rest = &url.path()[path.len()..];
                                rest.is_empty() || rest.starts_with('/')
                            }))
            }
        })
    }
}

fn parse_pattern(item: &str) -> Result<Pattern, PatternError> {
    let bad = |why: &str| PatternError { item: item.to_owned(), why: why.to_owned() };
    if item.contains("://") {
        let url = Url::parse(item).map_err(|e| bad(&format!("is not a valid URL prefix ({e})")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(bad("must start with https:// (or http:// for loopback)"));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(bad("must be scheme, host, optional port and path only"));
        }
        let host = url.host_str().map(normal_host).ok_or_else(|| bad("has no host"))?;
        return Ok(Pattern::Prefix {
            scheme: url.scheme().to_owned(),
            host,
            port: url.port_or_known_default(),
            path: url.path().to_owned(),
        });
    }
    if let Some(suffix) = item.strip_prefix("*.") {
        if suffix.is_empty() || suffix.contains(['*', '/', ':']) || !suffix.contains('.') {
            return Err(bad("must be `*.` followed by a domain with at least two labels, such as *.example.com"));
        }
        return Ok(Pattern::Subdomains(normal_host(suffix)));
    }
    if item.contains(['*', '/', '@', '?', '#']) {
        return Err(bad("must be a host, host:port, *.domain or an https:// URL prefix"));
    }
    // Parse through the URL parser so hosts are normalised the same way as the URLs checked.
    let url = Url::parse(&format!("https://{item}")).map_err(|e| bad(&format!("is not a valid host ({e})")))?;
    let host = url.host_str().map(normal_host).ok_or_else(|| bad("has no host"))?;
    Ok(Pattern::Host { host, port: url.port() })
}

/// Lowercase, without the trailing dot of a fully qualified name.
pub(super) fn normal_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_patterns_match_hosts_subdomains_and_prefixes() {
        let list = Allowlist::parse("api.example.com, *.tools.example.org https://hooks.example.net/v1/").unwrap();
        let allows = |u: &str| list.allows(&Url::parse(u).unwrap());
        assert!(allows("https://api.example.com/anything"));
        assert!(allows("https://API.example.com./x"));
        assert!(!allows("https://api.example.com.evil.io/"));
        assert!(allows("https://a.tools.example.org/x"));
        assert!(!allows("https://tools.example.org/x"));
        assert!(!allows("https://eviltools.example.org/x"));
        assert!(allows("https://hooks.example.net/v1/orders"));
        assert!(!allows("https://hooks.example.net/v10"));
        assert!(!allows("https://hooks.example.net:444/v1/orders"));
        assert!(!allows("http://hooks.example.net/v1/orders"));
        assert!(Allowlist::parse("*").is_err());
        assert!(Allowlist::parse("*.com").is_err());
        assert!(Allowlist::parse("ftp://x.example.com/").is_err());
    }
}
