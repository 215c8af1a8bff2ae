//! Which addresses an outbound connection may reach: public addresses, plus
//! what an allowlist names (`tools.http.allow` for `http.fetch`). Loopback,
//! private, link-local, unspecified, multicast and the other special-purpose
//! ranges are refused, so a model (or a URL it planted) cannot reach the
//! host's own services, the local network or a cloud metadata endpoint.
//!
//! The check happens in the DNS resolver the HTTP client uses
//! ([`GuardedResolver`]): the addresses it approves are the very addresses
//! the client connects to, so a name that resolves differently a moment later
//! (DNS rebinding) gains nothing.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Hosts and networks let through although not public.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AddressPolicy {
    /// Lowercase host names, without a trailing dot.
    allowed_hosts: BTreeSet<String>,
    allowed_networks: Vec<IpNet>,
}

/// An entry of `tools.http.allow` that is neither an address, a CIDR range
/// nor a host name.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("`{entry}` is not an IP address, CIDR range (10.0.0.0/8) or host name: {reason}")]
pub struct InvalidAllowEntry {
    pub entry: String,
    pub reason: String,
}

/// A connection `http.fetch` refuses to make.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "`{host}` is {address}, a {range} address; http.fetch only reaches public addresses unless tools.http.allow lists the host or address"
)]
pub struct BlockedAddress {
    pub host: String,
    pub address: IpAddr,
    /// Which kind of non-public range: "loopback", "private", …
    pub range: &'static str,
}

impl AddressPolicy {
    /// Parses allow entries: `127.0.0.1`, `::1`, `[::1]`, `10.0.0.0/8`,
    /// `fd00::/8`, `internal.example`.
    pub fn from_allowlist(entries: &[String]) -> Result<AddressPolicy, InvalidAllowEntry> {
        let mut policy = AddressPolicy::default();
        for entry in entries {
            let invalid = |reason: &str| InvalidAllowEntry { entry: entry.clone(), reason: reason.to_owned() };
            let text = entry.trim();
            let unbracketed = text.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).unwrap_or(text);
            if let Ok(address) = unbracketed.parse::<IpAddr>() {
                policy.allowed_networks.push(IpNet::from(address.to_canonical()));
            } else if text.contains('/') {
                let network = text.parse::<IpNet>().map_err(|error| invalid(&error.to_string()))?;
                policy.allowed_networks.push(network.trunc());
            } else {
                let host = text.trim_end_matches('.').to_ascii_lowercase();
                if host.contains(':') {
                    return Err(invalid("ports and schemes do not belong in allow entries"));
                }
                let valid_label = |label: &str| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
                };
                if host.is_empty() || !host.split('.').all(valid_label) {
                    return Err(invalid("a host name has letters, digits, `-` and dots"));
                }
                policy.allowed_hosts.insert(host);
            }
        }
        Ok(policy)
    }

    /// Whether `host` (a name, not an address) is listed by name; all its
    /// addresses are then allowed.
    pub fn allows_host_name(&self, host: &str) -> bool {
        self.allowed_hosts.contains(host.trim_end_matches('.').to_ascii_lowercase().as_str())
    }

    /// Refuses `address` (which `host` names) unless it is public or allowed.
    pub fn check(&self, host: &str, address: IpAddr) -> Result<(), BlockedAddress> {
        let address = address.to_canonical();
        let Some(range) = non_public_range(address) else {
            return Ok(());
        };
        if self.allowed_networks.iter().any(|network| network.contains(&address)) {
            return Ok(());
        }
        Err(BlockedAddress { host: host.to_owned(), address, range })
    }
}

/// The kind of special-purpose range `address` is in (IANA's IPv4 and IPv6
/// special-purpose registries), or `None` for a public address.
pub fn non_public_range(address: IpAddr) -> Option<&'static str> {
    match address.to_canonical() {
        IpAddr::V4(address) => non_public_ipv4_range(address),
        IpAddr::V6(address) => non_public_ipv6_range(address),
    }
}

fn non_public_ipv4_range(address: Ipv4Addr) -> Option<&'static str> {
    let [first, second, third, _] = address.octets();
    let range = match (first, second, third) {
        (0, _, _) => "unspecified (this-network)",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "private",
        (100, 64..=127, _) => "shared (carrier-grade NAT)",
        (127, _, _) => "loopback",
        (169, 254, _) => "link-local",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 88, 99) => "6to4 relay",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    };
    Some(range)
}

fn non_public_ipv6_range(address: Ipv6Addr) -> Option<&'static str> {
    let segments = address.segments();
    if address.is_unspecified() {
        return Some("unspecified");
    }
    if address.is_loopback() {
        return Some("loopback");
    }
    // NAT64 (64:ff9b::/96) carries an IPv4 address; it is as public as that.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [_, _, _, _, _, _, high, low] = segments;
        let embedded = Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
        return non_public_ipv4_range(embedded);
    }
    let range = match segments[0] {
        0xfc00..=0xfdff => "unique local (private)",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xff00..=0xffff => "multicast",
        0x2001 if segments[1] == 0x0db8 => "documentation",
        0x2001 if segments[1] < 0x0200 => "IETF protocol assignment",
        0x2002 => "6to4",
        // Only 2000::/3 is global unicast; the rest (the local-use NAT64
        // range, discard-only, IPv4-compatible, …) is reserved.
        0x2000..=0x3fff => return None,
        _ => "reserved",
    };
    Some(range)
}

/// The HTTP client's resolver: looks a name up and refuses it when any of
/// its addresses is not allowed (a name answering with public and private
/// addresses is treated as hostile, not filtered).
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    pub policy: Arc<AddressPolicy>,
}

/// A name with no address.
#[derive(Debug, thiserror::Error)]
#[error("`{host}` has no address")]
struct NoAddress {
    host: String,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addresses.is_empty() {
                return Err(Box::new(NoAddress { host }) as Box<dyn std::error::Error + Send + Sync>);
            }
            if !policy.allows_host_name(&host) {
                for address in &addresses {
                    policy.check(&host, address.ip())?;
                }
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range_of(text: &str) -> Option<&'static str> {
        non_public_range(text.parse().unwrap())
    }

    #[test]
    fn special_purpose_ranges_are_named() {
        for (address, range) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.31.255.255", "private"),
            ("192.168.0.1", "private"),
            ("169.254.169.254", "link-local"),
            ("0.0.0.0", "unspecified (this-network)"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("224.0.0.1", "multicast"),
            ("255.255.255.255", "reserved"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("64:ff9b::a00:1", "private"),
            ("fd12::1", "unique local (private)"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("::127.0.0.1", "reserved"),
        ] {
            assert_eq!(range_of(address), Some(range), "{address}");
        }
        for public in ["1.1.1.1", "172.32.0.1", "93.184.216.34", "2606:4700::1111", "64:ff9b::101:101"] {
            assert_eq!(range_of(public), None, "{public}");
        }
    }

    #[test]
    fn allow_entries_are_addresses_networks_or_names() {
        let entries = ["127.0.0.1", "[::1]", "10.0.0.0/8", "Internal.Example."].map(String::from);
        let policy = AddressPolicy::from_allowlist(&entries).unwrap();
        assert!(policy.check("x", "127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("x", "::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("x", "127.0.0.2".parse().unwrap()).is_err());
        assert!(policy.check("x", "10.200.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("x", "192.168.1.1".parse().unwrap()).is_err());
        assert!(policy.allows_host_name("internal.example"));
        assert!(!policy.allows_host_name("example"));

        for bad in ["10.0.0.0/33", "localhost:8080", "http://x", "", "a..b"] {
            let error = AddressPolicy::from_allowlist(&[bad.to_owned()]).unwrap_err();
            assert_eq!(error.entry, bad);
        }
    }
}
