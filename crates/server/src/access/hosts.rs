//! `HostPolicy`: which `Host` names a server answers to (DNS rebinding
//! protection; `guard/origin.rs` applies it).

use std::net::IpAddr;

/// Which `Host` names the server answers to.
#[derive(Clone, Debug, PartialEq)]
pub struct HostPolicy {
    /// Whether `Host` is checked at all.
    enforce: bool,
    /// Names (without port, lowercase) accepted besides loopback names;
    /// `*` accepts any.
    allowed: Vec<String>,
}

impl Default for HostPolicy {
    /// Loopback names only.
    fn default() -> Self {
        HostPolicy { enforce: true, allowed: Vec::new() }
    }
}

impl HostPolicy {
    /// For a server bound to `bind`: on a loopback address, loopback names
    /// and `allowed`; on another address only `allowed` when it is set (a
    /// public server is reached by names only its operator knows), else any
    /// name, since authentication is then required.
    pub fn for_bind(bind: IpAddr, allowed: impl IntoIterator<Item = String>) -> Self {
        let allowed: Vec<String> =
            allowed.into_iter().map(|host| host.trim().trim_end_matches('.').to_ascii_lowercase()).collect();
        HostPolicy { enforce: bind.is_loopback() || !allowed.is_empty(), allowed }
    }

    pub(crate) fn listed(&self, host: &str) -> bool {
        self.allowed.iter().any(|allowed| allowed == "*" || allowed == host)
    }

    /// Whether a `Host` name (port stripped) is served.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        !self.enforce || is_loopback_name(&host) || self.listed(&host)
    }
}

/// `localhost`, `*.localhost`, `127.x.x.x` and `[::1]`.
fn is_loopback_name(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let literal = host.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).unwrap_or(host);
    literal.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
