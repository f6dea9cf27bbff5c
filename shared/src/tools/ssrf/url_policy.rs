//! The whole rule for one kind of outgoing call: allowlist, scheme, literal addresses.

use std::net::IpAddr;

use reqwest::Url;

use super::{AddressClass, AddressPolicy, Allowlist, Refused, classify};

/// The complete rule for one kind of outgoing call: allowlist, scheme, address ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    pub allowlist: Allowlist,
    pub addresses: AddressPolicy,
    /// The variable that configures `allowlist`, named in refusals.
    pub allowlist_var: &'static str,
}

impl UrlPolicy {
    /// Checks everything that can be checked without DNS; the resolver checks the rest.
    pub fn check(&self, raw: &str) -> Result<Url, Refused> {
        let url = Url::parse(raw).map_err(|e| Refused(format!("`{raw}` is not a valid URL ({e})")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused("URLs with credentials are refused; use the signature header instead".into()));
        }
        let host = url.host_str().ok_or_else(|| Refused(format!("`{}` has no host", redact(&url))))?;
        // The URL parser has already turned every IPv4 spelling (`2130706433`, `0x7f.1`) into
        // dotted form, and IPv6 literals keep their brackets.
        let literal: Option<IpAddr> = host.trim_start_matches('[').trim_end_matches(']').parse().ok();
        match url.scheme() {
            "https" => {}
            "http" => {
                let loopback_host = literal.is_some_and(|ip| classify(ip) == AddressClass::Loopback)
                    || url.host_str() == Some("localhost");
                if !(self.addresses.allow_loopback && loopback_host) {
                    return Err(Refused(format!(
                        "`{}` uses plain http; only https is allowed (http only to loopback with TOOLS_ALLOW_LOOPBACK=true)",
                        redact(&url)
                    )));
                }
            }
            other => return Err(Refused(format!("scheme `{other}` is not allowed; use https"))),
        }
        if !self.allowlist.allows(&url) {
            return Err(Refused(format!("`{}` does not match the allowlist ({})", redact(&url), self.allowlist_var)));
        }
        // IP literals never reach the resolver, so they are checked here.
        if let Some(ip) = literal {
            self.addresses.check(ip)?;
        }
        Ok(url)
    }
}

/// Scheme, host, port and path: query strings may carry tokens and are kept out of messages.
pub fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &str, loopback: bool, private: bool) -> UrlPolicy {
        UrlPolicy {
            allowlist: Allowlist::parse(allow).unwrap(),
            addresses: AddressPolicy { allow_loopback: loopback, allow_private: private },
            allowlist_var: "TOOLS_WEBHOOK_ALLOWLIST",
        }
    }

    #[test]
    fn refuses_plain_http_unlisted_hosts_and_forbidden_literals() {
        let p = policy("api.example.com 169.254.169.254 10.0.0.5 127.0.0.1 [::ffff:7f00:1]", false, false);
        assert!(p.check("https://api.example.com/x").is_ok());
        assert!(p.check("http://api.example.com/x").unwrap_err().0.contains("plain http"));
        assert!(p.check("https://other.example.com/x").unwrap_err().0.contains("allowlist"));
        assert!(p.check("https://169.254.169.254/latest").unwrap_err().0.contains("metadata"));
        assert!(p.check("https://10.0.0.5/").unwrap_err().0.contains("private"));
        assert!(p.check("https://127.0.0.1/").unwrap_err().0.contains("loopback"));
        assert!(p.check("https://[::ffff:7f00:1]/").unwrap_err().0.contains("loopback"));
        assert!(p.check("https://user:pw@api.example.com/").unwrap_err().0.contains("credentials"));
        assert!(p.check("file:///etc/passwd").is_err());
        // The URL parser normalises numeric forms, so `2130706433` is 127.0.0.1 and stays refused.
        let p = policy("127.0.0.1", false, false);
        assert!(p.check("https://2130706433/").unwrap_err().0.contains("loopback"));
    }

    #[test]
    fn loopback_allows_plain_http_to_loopback_only() {
        let p = policy("127.0.0.1 localhost api.example.com", true, false);
        assert!(p.check("http://127.0.0.1:8080/hook").is_ok());
        assert!(p.check("http://localhost:8080/hook").is_ok());
        assert!(p.check("http://api.example.com/hook").is_err());
    }
}
