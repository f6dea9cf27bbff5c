//! Which URLs the function may call (webhook tools and event callbacks), so that a tool
//! definition or an event cannot turn it into a proxy into its own network.
//!
//! A URL must match the allowlist ([`allowlist`]), use HTTPS (plain HTTP only to loopback, and
//! only when loopback is explicitly allowed for local development: [`url_policy`]), and every
//! address its host resolves to must be public ([`ranges`]): link-local and the
//! instance-metadata endpoints are always refused, loopback and private ranges unless allowed.
//! The check runs inside the HTTP client's DNS resolver ([`resolver`]), on the very addresses
//! the connection then uses, so DNS rebinding (a name that resolves to a public address for the
//! check and a private one for the connection) cannot slip past it.

pub mod allowlist;
pub mod ranges;
pub mod resolver;
pub mod url_policy;

use std::net::IpAddr;

pub use allowlist::{Allowlist, PatternError};
pub use ranges::{AddressClass, classify};
pub use resolver::{GuardedResolver, refusal_in};
pub use url_policy::{UrlPolicy, redact};

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
