//! An HTTP client that keeps to an [`AddressPolicy`] on every connection.
//! Names are checked by the client's resolver as it connects
//! ([`GuardedResolver`]), so the addresses approved are the addresses used;
//! address literals never reach a resolver, so [`check_url`] checks them —
//! before the first request, and (when the client follows redirects) before
//! every hop. No proxy is used: it would connect to addresses we never see.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use super::address_policy::{AddressPolicy, BlockedAddress, GuardedResolver};

/// Whether the client follows redirects itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirects {
    /// Redirects are returned to the caller, which follows them by hand
    /// (checking each hop with [`check_url`]), as `http.fetch` does to drop
    /// credentials on a change of origin.
    Returned,
    /// Up to this many hops are followed, each checked with [`check_url`].
    Follow(usize),
}

/// Why a URL is not fetched.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum UrlRefused {
    #[error("`{0}`: only http and https URLs can be fetched")]
    Scheme(Url),
    #[error("`{0}` has no host")]
    NoHost(Url),
    #[error(transparent)]
    Blocked(#[from] BlockedAddress),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
}

/// Refuses a URL whose scheme is not HTTP or whose host is a disallowed
/// address literal. Host names pass here: the resolver checks them as the
/// client connects.
pub fn check_url(policy: &AddressPolicy, url: &Url) -> Result<(), UrlRefused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme(url.clone()));
    }
    let address = match url.host() {
        Some(url::Host::Ipv4(address)) => std::net::IpAddr::V4(address),
        Some(url::Host::Ipv6(address)) => std::net::IpAddr::V6(address),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(UrlRefused::NoHost(url.clone())),
    };
    let host = url.host_str().unwrap_or_default();
    Ok(policy.check(host, address)?)
}

/// The address refusal behind a failed request, if that is why it failed
/// (from the resolver or a redirect check, however deep in the error chain).
pub fn blocked_address_in(error: &reqwest::Error) -> Option<&BlockedAddress> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(blocked) = current.downcast_ref::<BlockedAddress>() {
            return Some(blocked);
        }
        if let Some(UrlRefused::Blocked(blocked)) = current.downcast_ref::<UrlRefused>() {
            return Some(blocked);
        }
        source = current.source();
    }
    None
}

/// Builds HTTP clients that keep to a policy.
#[derive(Clone, Debug)]
pub struct GuardedClient {
    policy: Arc<AddressPolicy>,
    user_agent: String,
    connect_timeout: Duration,
    redirects: Redirects,
}

impl GuardedClient {
    /// A client on `policy` that returns redirects to the caller and gives a
    /// connection 10 s.
    pub fn new(policy: Arc<AddressPolicy>, user_agent: impl Into<String>) -> Self {
        GuardedClient {
            policy,
            user_agent: user_agent.into(),
            connect_timeout: Duration::from_secs(10),
            redirects: Redirects::Returned,
        }
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    pub fn redirects(mut self, redirects: Redirects) -> Self {
        self.redirects = redirects;
        self
    }

    pub fn policy(&self) -> &Arc<AddressPolicy> {
        &self.policy
    }

    pub fn build(&self) -> Result<reqwest::Client, reqwest::Error> {
        let redirect = match self.redirects {
            Redirects::Returned => reqwest::redirect::Policy::none(),
            Redirects::Follow(most) => {
                let policy = Arc::clone(&self.policy);
                reqwest::redirect::Policy::custom(move |attempt| {
                    if attempt.previous().len() > most {
                        return attempt.error(UrlRefused::TooManyRedirects(most));
                    }
                    match check_url(&policy, attempt.url()) {
                        Ok(()) => attempt.follow(),
                        Err(refused) => attempt.error(refused),
                    }
                })
            }
        };
        reqwest::Client::builder()
            .redirect(redirect)
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { policy: Arc::clone(&self.policy) }))
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn literals_are_checked_and_names_left_to_the_resolver() {
        let policy = AddressPolicy::default();
        assert_eq!(check_url(&policy, &url("https://example.com/")), Ok(()));
        assert_eq!(check_url(&policy, &url("http://93.184.215.14/")), Ok(()));
        assert!(matches!(check_url(&policy, &url("http://127.0.0.1:8420/")), Err(UrlRefused::Blocked(_))));
        assert!(matches!(check_url(&policy, &url("http://[::1]/")), Err(UrlRefused::Blocked(_))));
        assert!(matches!(check_url(&policy, &url("file:///etc/passwd")), Err(UrlRefused::Scheme(_))));
        let allowed = AddressPolicy::from_allowlist(&["127.0.0.0/8".to_string()]).unwrap();
        assert_eq!(check_url(&allowed, &url("http://127.0.0.1:8420/")), Ok(()));
    }
}
