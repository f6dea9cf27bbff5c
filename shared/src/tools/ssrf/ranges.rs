//! What kind of address an IP is, from one declarative table per family: the first range that
//! holds the address decides. IPv6 ranges that carry an IPv4 address at a fixed place
//! (IPv4-mapped, -translated and -compatible, well-known NAT64, 6to4) are judged by the address
//! they reach; tunnels whose far end cannot be read from the address alone (Teredo, local-use
//! NAT64) are refused whole.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
    /// Unspecified, broadcast, multicast, documentation, reserved, tunnel and other special ranges.
    Special,
}

use AddressClass::{LinkLocal, Loopback, Metadata, Private, Special};

/// IPv4: (network, prefix length, class). Anything not listed is public.
const V4: &[([u8; 4], u8, AddressClass)] = &[
    ([169, 254, 169, 254], 32, Metadata), // EC2 instance metadata
    ([169, 254, 170, 2], 32, Metadata),   // ECS task metadata and credentials
    ([127, 0, 0, 0], 8, Loopback),
    ([169, 254, 0, 0], 16, LinkLocal),
    ([10, 0, 0, 0], 8, Private),
    ([172, 16, 0, 0], 12, Private),
    ([192, 168, 0, 0], 16, Private),
    ([100, 64, 0, 0], 10, Private), // carrier-grade NAT
    ([0, 0, 0, 0], 8, Special),     // "this network", unspecified
    ([192, 0, 0, 0], 24, Special),  // IETF protocol assignments
    ([192, 0, 2, 0], 24, Special),  // documentation
    ([198, 18, 0, 0], 15, Special), // benchmarking
    ([198, 51, 100, 0], 24, Special),
    ([203, 0, 113, 0], 24, Special),
    // 6to4 relay anycast (RFC 3068, deprecated by RFC 7526): whichever relay answers forwards
    // into an IPv6 network the check never sees.
    ([192, 88, 99, 0], 24, Special),
    ([224, 0, 0, 0], 4, Special), // multicast
    ([240, 0, 0, 0], 4, Special), // reserved, broadcast
];

/// How an IPv6 range is judged.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Class(AddressClass),
    /// By the IPv4 address held in the 32 bits starting at this bit offset.
    Embedded(u32),
}

/// IPv6: (network, prefix length, rule), most specific first. Anything not listed is public.
const V6: &[([u16; 8], u8, Rule)] = &[
    ([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254], 128, Rule::Class(Metadata)), // EC2 IMDS over IPv6
    ([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23], 128, Rule::Class(Metadata)),  // Lambda/ECS metadata
    ([0, 0, 0, 0, 0, 0, 0, 1], 128, Rule::Class(Loopback)),
    ([0, 0, 0, 0, 0, 0, 0, 0], 128, Rule::Class(Special)), // unspecified
    ([0, 0, 0, 0, 0, 0xffff, 0, 0], 96, Rule::Embedded(96)), // IPv4-mapped
    // IPv4-translated `::ffff:0:a.b.c.d` (SIIT, RFC 2765, RFC 6145): a translator turns it into
    // a plain IPv4 packet to the embedded address.
    ([0, 0, 0, 0, 0xffff, 0, 0, 0], 96, Rule::Embedded(96)),
    ([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, Rule::Embedded(96)), // NAT64 well-known (RFC 6052)
    // Local-use NAT64 (RFC 8215): each network picks its own sub-prefix inside it (/48, /56, /64
    // or /96 by RFC 6052), so where the IPv4 address sits cannot be read from the address; and
    // it only ever leads into some local network, never to a public webhook: refused whole.
    ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, Rule::Class(Special)),
    ([0, 0, 0, 0, 0, 0, 0, 0], 96, Rule::Embedded(96)), // IPv4-compatible (deprecated)
    ([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, Rule::Embedded(16)), // 6to4
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, Rule::Class(Special)), // Teredo: a tunnel, never a webhook
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, Rule::Class(Special)), // documentation
    ([0x0100, 0, 0, 0, 0, 0, 0, 0], 64, Rule::Class(Special)), // discard-only
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, Rule::Class(LinkLocal)),
    // Site-local (deprecated by RFC 3879): nothing legitimate is numbered there any more, yet
    // legacy routers may still deliver it inside a site; refused always, like the other
    // reserved ranges, rather than opened with the private ones.
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, Rule::Class(Special)),
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, Rule::Class(Private)), // unique local
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, Rule::Class(Special)), // multicast
];

pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let bits = u32::from(ip);
    V4.iter()
        .find(|(network, prefix, _)| within(u128::from(bits), u128::from(u32::from_be_bytes(*network)), *prefix, 32))
        .map_or(AddressClass::Public, |(_, _, class)| *class)
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let bits = u128::from(ip);
    let rule = V6
        .iter()
        .find(|(network, prefix, _)| within(bits, u128::from(Ipv6Addr::from(*network)), *prefix, 128))
        .map(|(_, _, rule)| *rule);
    match rule {
        None => AddressClass::Public,
        Some(Rule::Class(class)) => class,
        Some(Rule::Embedded(offset)) => classify_v4(Ipv4Addr::from((bits >> (96 - offset)) as u32)),
    }
}

/// True when the top `prefix` of `width` bits of `address` and `network` agree.
fn within(address: u128, network: u128, prefix: u8, width: u32) -> bool {
    let shift = width - u32::from(prefix);
    shift >= width || address >> shift == network >> shift
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(ip: &str) -> AddressClass {
        classify(ip.parse().unwrap())
    }

    #[test]
    fn classifies_the_dangerous_ranges() {
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
        assert_eq!(class("255.255.255.255"), AddressClass::Special);
        assert_eq!(class("93.184.215.14"), AddressClass::Public);
        assert_eq!(class("2606:4700::1111"), AddressClass::Public);
    }

    #[test]
    fn tunnel_prefixes_are_judged_by_the_address_they_reach() {
        // 6to4 carries an IPv4 address in bits 16..48.
        assert_eq!(class("2002:7f00:1::"), AddressClass::Loopback);
        assert_eq!(class("2002:a9fe:a9fe::1"), AddressClass::Metadata);
        assert_eq!(class("2002:a00:1::"), AddressClass::Private);
        assert_eq!(class("2002:5db8:d70e::1"), AddressClass::Public);
        // Teredo (2001::/32) tunnels through relays: no webhook lives there.
        assert_eq!(class("2001:0:4136:e378:8000:63bf:3fff:fdd2"), AddressClass::Special);
        assert_eq!(class("2001:db8::1"), AddressClass::Special);
        // A global address just past the Teredo prefix is ordinary.
        assert_eq!(class("2001:4860:4860::8888"), AddressClass::Public);
    }

    #[test]
    fn ipv4_translated_addresses_are_judged_by_the_address_they_reach() {
        assert_eq!(class("::ffff:0:a9fe:a9fe"), AddressClass::Metadata);
        assert_eq!(class("::ffff:0:7f00:1"), AddressClass::Loopback);
        assert_eq!(class("::ffff:0:a00:1"), AddressClass::Private);
        assert_eq!(class("::ffff:0:a9fe:101"), AddressClass::LinkLocal);
        assert_eq!(class("::ffff:0:0.0.0.0"), AddressClass::Special);
        assert_eq!(class("::ffff:0:5db8:d70e"), AddressClass::Public);
    }

    #[test]
    fn local_use_nat64_is_refused_whatever_it_embeds() {
        assert_eq!(class("64:ff9b:1::a9fe:a9fe"), AddressClass::Special);
        // Even a public IPv4 address behind it: the prefix only ever leads into a local network.
        assert_eq!(class("64:ff9b:1::5db8:d70e"), AddressClass::Special);
        assert_eq!(class("64:ff9b:1:ffff:ffff:ffff:ffff:ffff"), AddressClass::Special);
        // The well-known prefix beside it is still judged by the address it reaches.
        assert_eq!(class("64:ff9b::5db8:d70e"), AddressClass::Public);
        assert_eq!(class("64:ff9b::7f00:1"), AddressClass::Loopback);
    }

    #[test]
    fn site_local_is_refused_between_link_local_and_multicast() {
        assert_eq!(class("fec0::1"), AddressClass::Special);
        assert_eq!(class("feff:ffff::1"), AddressClass::Special);
        // The neighbours keep their own classes.
        assert_eq!(class("febf:ffff::1"), AddressClass::LinkLocal);
        assert_eq!(class("ff02::1"), AddressClass::Special);
    }

    #[test]
    fn the_6to4_relay_anycast_range_is_refused_in_every_spelling() {
        assert_eq!(class("192.88.99.1"), AddressClass::Special);
        assert_eq!(class("192.88.99.255"), AddressClass::Special);
        assert_eq!(class("::ffff:192.88.99.1"), AddressClass::Special);
        assert_eq!(class("2002:c058:6301::"), AddressClass::Special);
        // The addresses just outside it are ordinary.
        assert_eq!(class("192.88.98.255"), AddressClass::Public);
        assert_eq!(class("192.88.100.0"), AddressClass::Public);
    }
}
