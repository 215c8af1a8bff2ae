//! Calendar context for routines: an iCalendar file or feed
//! ([`source`]: a path, or an http(s) URL fetched on the outbound policy
//! with ETag/Last-Modified), expanded into the instances of a day or week
//! in the user's zone ([`expand`]; zone names in [`zones`]).
//!
//! Not supported (the instance is refused or read as said): custom
//! `VTIMEZONE` rules under a name the tz database and the Windows table do
//! not know (the event is an error naming the zone); `RANGE=THISANDFUTURE`
//! overrides (applied to the one instance named); `EXRULE` (deprecated by
//! RFC 5545, ignored); `RDATE` periods; VTODO and VJOURNAL (only VEVENT is
//! read). A repeated wall-clock time (DST fall-back) is read as its first
//! pass, a skipped one as the hour after the gap.

pub mod expand;
pub mod source;
pub mod zones;

#[cfg(test)]
mod expand_tests;

pub use expand::{CalendarError, Instance, When, instances};
pub use source::{CalendarFetchError, CalendarSource};

/// The `[calendar]` table.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarConfig {
    /// Non-public hosts, addresses or CIDR ranges calendar feeds may be
    /// fetched from (loopback and private ranges are refused otherwise).
    pub allow: Vec<String>,
}

impl CalendarConfig {
    /// A source on this policy, caching feeds in `cache`.
    pub fn source(&self, cache: std::path::PathBuf) -> Result<CalendarSource, String> {
        let policy = crate::outbound::AddressPolicy::from_allowlist(&self.allow)
            .map_err(|error| format!("calendar.allow: {error}"))?
            .named("calendar.allow");
        CalendarSource::new(policy, cache)
    }
}
