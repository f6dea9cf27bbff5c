//! Which URLs the function may call (webhook tools and event callbacks), so that a tool
//! definition or an event cannot turn it into a proxy into its own network.
//!
//! A URL must match the allowlist, use HTTPS (plain HTTP only to loopback, and only when
//! loopback is explicitly allowed for local development), and every address its host resolves
//! to must be public: link-local and the instance-metadata endpoints are always refused,
//! loopback and private ranges unless allowed. The check runs inside the HTTP client's DNS
//! resolver, on the very addresses the connection then uses, so DNS rebinding (a name that
//! resolves to a public address for the check and a private one for the connection) cannot
//! slip past it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A refused URL or address; the message says which rule refused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The address ranges a deployment lets the function reach besides public ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Loopback (127.0.0.0/8, ::1), and plain HTTP to it: local development only.
    pub allow_loopback: bool,
    /// RFC 1918, CGNAT (100.64.0.0/10) and IPv6 unique-local ranges: webhooks inside a VPC.
    pub allow_private: bool,
}

/// What kind of address an IP is, for the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Public,
    Loopback,
    Private,
    /// 169.254.0.0/16 and fe80::/10.
    LinkLocal,
    /// The EC2/ECS/Lambda instance-metadata endpoints (169.254.169.254, fd00:ec2::254, ...).
    Metadata,
    /// Unspecified, broadcast, multicast, documentation, reserved and other special ranges.
    Special,
}

pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(169, 254, 170, 2) {
        return AddressClass::Metadata;
    }
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_link_local() {
        AddressClass::LinkLocal
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        AddressClass::Private
    } else if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
    {
        AddressClass::Special
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible and NAT64 (64:ff9b::/96) addresses reach the
    // embedded IPv4 address, so they are judged by it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let segments = ip.segments();
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
        || (segments[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback())
    {
        let [.., hi, lo] = segments;
        return classify_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
        || ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23)
    {
        return AddressClass::Metadata;
    }
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if (segments[0] & 0xffc0) == 0xfe80 {
        AddressClass::LinkLocal
    } else if (segments[0] & 0xfe00) == 0xfc00 {
        AddressClass::Private
    } else if ip.is_unspecified() || ip.is_multicast() || (segments[0] == 0x2001 && segments[1] == 0xdb8) {
        AddressClass::Special
    } else {
        AddressClass::Public
    }
}

impl AddressPolicy {
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        let refuse = |what: &str| Err(Refused(format!("{ip} is {what}; the function does not call such addresses")));
        match classify(ip) {
            AddressClass::Public => Ok(()),
            AddressClass::Loopback if self.allow_loopback => Ok(()),
            AddressClass::Private if self.allow_private => Ok(()),
            AddressClass::Loopback => refuse("a loopback address (allowed only with TOOLS_ALLOW_LOOPBACK=true)"),
            AddressClass::Private => {
                refuse("a private-network address (allowed only with TOOLS_ALLOW_PRIVATE_NETWORKS=true)")
            }
            AddressClass::LinkLocal => refuse("a link-local address"),
            AddressClass::Metadata => refuse("an instance-metadata endpoint"),
            AddressClass::Special => refuse("a reserved or non-unicast address"),
        }
    }
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
    pub fn parse(raw: &str) -> Result<Self, String> {
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

fn parse_pattern(item: &str) -> Result<Pattern, String> {
    let bad = |why: &str| format!("`{item}` {why}");
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
fn normal_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

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

/// A DNS resolver that refuses names resolving to any address the policy forbids; the HTTP
/// client connects only to the addresses it returns.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub policy: AddressPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if resolved.is_empty() {
                return Err(Box::new(Refused(format!("`{host}` resolves to no address"))) as _);
            }
            // One forbidden address refuses the name: the connection could pick any of them.
            for addr in &resolved {
                policy
                    .check(addr.ip())
                    .map_err(|Refused(why)| Refused(format!("`{host}` resolves to a refused address: {why}")))?;
            }
            Ok(Box::new(resolved.into_iter()) as Addrs)
        })
    }
}

/// The policy refusal inside a client error, if that is what stopped the request.
pub fn refusal_in<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e Refused> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        current = e.source();
    }
    None
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
    fn classifies_the_dangerous_ranges() {
        let class = |ip: &str| classify(ip.parse().unwrap());
        assert_eq!(class("169.254.169.254"), AddressClass::Metadata);
        assert_eq!(class("fd00:ec2::254"), AddressClass::Metadata);
        assert_eq!(class("::ffff:169.254.169.254"), AddressClass::Metadata);
        assert_eq!(class("64:ff9b::a9fe:a9fe"), AddressClass::Metadata);
        assert_eq!(class("169.254.1.1"), AddressClass::LinkLocal);
        assert_eq!(class("fe80::1"), AddressClass::LinkLocal);
        assert_eq!(class("127.0.0.1"), AddressClass::Loopback);
        assert_eq!(class("::1"), AddressClass::Loopback);
        assert_eq!(class("::ffff:127.0.0.1"), AddressClass::Loopback);
        assert_eq!(class("10.1.2.3"), AddressClass::Private);
        assert_eq!(class("172.31.0.1"), AddressClass::Private);
        assert_eq!(class("192.168.1.1"), AddressClass::Private);
        assert_eq!(class("100.64.0.1"), AddressClass::Private);
        assert_eq!(class("fd12::1"), AddressClass::Private);
        assert_eq!(class("0.0.0.0"), AddressClass::Special);
        assert_eq!(class("::"), AddressClass::Special);
        assert_eq!(class("224.0.0.1"), AddressClass::Special);
        assert_eq!(class("93.184.215.14"), AddressClass::Public);
        assert_eq!(class("2606:4700::1111"), AddressClass::Public);
    }

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

    #[tokio::test]
    async fn the_resolver_refuses_names_of_forbidden_addresses() {
        let resolver = GuardedResolver { policy: AddressPolicy::default() };
        let err = match resolver.resolve("localhost".parse().unwrap()).await {
            Ok(_) => panic!("localhost must be refused"),
            Err(e) => e,
        };
        assert!(refusal_in(err.as_ref()).is_some_and(|r| r.0.contains("loopback")), "{err}");
        let open = GuardedResolver { policy: AddressPolicy { allow_loopback: true, allow_private: false } };
        assert!(open.resolve("localhost".parse().unwrap()).await.is_ok());
    }
}
