//! The DNS resolver of the outgoing HTTP client: it refuses names that resolve to any address
//! the policy forbids, and the client connects only to the addresses it returns.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{AddressPolicy, Refused};

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
