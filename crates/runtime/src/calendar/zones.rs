//! A calendar's `TZID` as an IANA zone: IANA names as they are; the
//! Windows names Outlook and Exchange write (`W. Europe Standard Time`),
//! for the common zones; and the path-like names some clients prefix
//! (`/mozilla.org/20050126_1/Europe/Berlin`). Anything else is refused with
//! its name: a custom `VTIMEZONE` whose rules are not in the tz database
//! is not read (written down in ARCHITECTURE.md).

use chrono_tz::Tz;

/// Windows zone names and their IANA zone (CLDR's `windowsZones.xml`, territory 001).
const WINDOWS: &[(&str, &str)] = &[
    ("UTC", "UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("India Standard Time", "Asia/Kolkata"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
];

/// The IANA zone a `TZID` names, if we know it.
pub fn zone_of(tzid: &str) -> Option<Tz> {
    let tzid = tzid.trim().trim_matches('"');
    if let Ok(zone) = tzid.parse::<Tz>() {
        return Some(zone);
    }
    if let Some((_, iana)) = WINDOWS.iter().find(|(windows, _)| windows.eq_ignore_ascii_case(tzid)) {
        return iana.parse().ok();
    }
    // `/mozilla.org/20050126_1/Europe/Berlin`, `/citadel.org/…/America/New_York`.
    let parts: Vec<&str> = tzid.split('/').filter(|part| !part.is_empty()).collect();
    (2..=3.min(parts.len())).find_map(|take| parts[parts.len() - take..].join("/").parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_windows_and_prefixed_names_are_read() {
        assert_eq!(zone_of("Europe/Paris"), Some(chrono_tz::Europe::Paris));
        assert_eq!(zone_of("\"W. Europe Standard Time\""), Some(chrono_tz::Europe::Berlin));
        assert_eq!(zone_of("Eastern Standard Time"), Some(chrono_tz::America::New_York));
        assert_eq!(zone_of("/mozilla.org/20050126_1/Europe/Berlin"), Some(chrono_tz::Europe::Berlin));
        assert_eq!(zone_of("America/Argentina/Buenos_Aires"), Some(chrono_tz::America::Argentina::Buenos_Aires));
        assert_eq!(zone_of("Custom Zone 1"), None);
    }
}
