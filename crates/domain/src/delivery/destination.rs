//! Where a delivery goes, parsed from the URI a person gives
//! (`--deliver slack:#general`), with errors that name the problem.
//!
//! Secrets stay out of what is shown and stored in events: a URL can be
//! given as `$NAME` (read from the environment when sending), and
//! [`Destination::redacted`] shows a webhook URL as its origin only.

use std::fmt;

use crate::validation::ValidationError;

/// A destination of a routine's output.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A Slack incoming webhook (`slack-webhook:https://hooks.slack.com/…`).
    SlackWebhook(UrlSource),
    /// A channel, by name (`#general`) or id (`C0123`), posted to with the bot token.
    SlackChannel(String),
    /// A person's DM, opened with `conversations.open` (`@U0123`).
    SlackUser(String),
    /// A JSON POST signed with HMAC-SHA256 (`webhook:https://…`).
    Webhook(UrlSource),
    /// An e-mail through the configured SMTP server.
    Mail(String),
    /// A file, written whole (replaced atomically).
    File(String),
}

/// A URL given in the destination, or the name of the environment variable
/// holding it (`$SLACK_WEBHOOK_URL`), so a secret URL is never stored.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UrlSource {
    Literal(String),
    Env(String),
}

impl UrlSource {
    fn parse(field: &str, scheme: &str, rest: &str) -> Result<UrlSource, ValidationError> {
        if let Some(name) = rest.strip_prefix('$') {
            let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(ValidationError::new(
                    field,
                    format!("`{scheme}:${name}`: `${name}` is not an environment variable name"),
                ));
            }
            return Ok(UrlSource::Env(name.to_string()));
        }
        let Some((url_scheme, after)) = rest.split_once("://") else {
            return Err(ValidationError::new(
                field,
                format!(
                    "`{scheme}:` needs an http(s) URL or `$VARIABLE` holding one, e.g. `{scheme}:https://example.com/hook`"
                ),
            ));
        };
        if !matches!(url_scheme, "http" | "https") {
            return Err(ValidationError::new(
                field,
                format!("`{scheme}:` URL must be http or https, not {url_scheme:?}"),
            ));
        }
        if after.split(['/', '?', '#']).next().unwrap_or_default().is_empty() {
            return Err(ValidationError::new(field, format!("`{scheme}:` URL has no host")));
        }
        Ok(UrlSource::Literal(rest.to_string()))
    }

    /// The origin only (`https://hooks.slack.com/…`), or `$NAME`.
    fn redacted(&self) -> String {
        match self {
            UrlSource::Env(name) => format!("${name}"),
            UrlSource::Literal(url) => {
                let (scheme, after) = url.split_once("://").unwrap_or(("https", url));
                let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
                let host = authority.rsplit('@').next().unwrap_or_default();
                format!("{scheme}://{host}/…")
            }
        }
    }
}

impl Destination {
    /// Parses `slack-webhook:URL`, `slack:#channel`, `slack:@user`,
    /// `webhook:URL`, `mailto:ADDRESS` or `file:PATH`; an error names `field`.
    pub fn parse(field: &str, text: &str) -> Result<Destination, ValidationError> {
        let text = text.trim();
        let Some((scheme, rest)) = text.split_once(':') else {
            return Err(ValidationError::new(
                field,
                format!(
                    "{text:?} is not a destination; expected slack-webhook:URL, slack:#channel, slack:@user, webhook:URL, mailto:ADDRESS or file:PATH"
                ),
            ));
        };
        match scheme {
            "slack-webhook" => Ok(Destination::SlackWebhook(UrlSource::parse(field, scheme, rest)?)),
            "webhook" => Ok(Destination::Webhook(UrlSource::parse(field, scheme, rest)?)),
            "slack" => parse_slack(field, rest),
            "mailto" => parse_mail(field, rest),
            "file" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(ValidationError::new(field, "`file:` needs a path, e.g. `file:/home/me/plan.md`"));
                }
                if !path.starts_with('/') {
                    return Err(ValidationError::new(field, format!("`file:{path}`: the path must be absolute")));
                }
                Ok(Destination::File(path.to_string()))
            }
            other => Err(ValidationError::new(
                field,
                format!("unknown destination kind {other:?}; expected slack-webhook, slack, webhook, mailto or file"),
            )),
        }
    }

    /// `slack-webhook`, `slack`, `webhook`, `mailto` or `file`.
    pub fn kind(&self) -> &'static str {
        match self {
            Destination::SlackWebhook(_) => "slack-webhook",
            Destination::SlackChannel(_) | Destination::SlackUser(_) => "slack",
            Destination::Webhook(_) => "webhook",
            Destination::Mail(_) => "mailto",
            Destination::File(_) => "file",
        }
    }

    /// What may be shown, logged and stored in events: webhook URLs reduced
    /// to their origin.
    pub fn redacted(&self) -> String {
        match self {
            Destination::SlackWebhook(url) => format!("slack-webhook:{}", url.redacted()),
            Destination::Webhook(url) => format!("webhook:{}", url.redacted()),
            other => other.to_string(),
        }
    }
}

fn parse_slack(field: &str, rest: &str) -> Result<Destination, ValidationError> {
    let valid = |name: &str| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if let Some(channel) = rest.strip_prefix('#') {
        if !valid(channel) {
            return Err(ValidationError::new(field, format!("`slack:#{channel}`: not a channel name")));
        }
        return Ok(Destination::SlackChannel(format!("#{channel}")));
    }
    if let Some(user) = rest.strip_prefix('@') {
        if !valid(user) {
            return Err(ValidationError::new(field, format!("`slack:@{user}`: not a user id")));
        }
        return Ok(Destination::SlackUser(user.to_string()));
    }
    if valid(rest)
        && rest.starts_with(['C', 'G', 'D'])
        && rest.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Ok(Destination::SlackChannel(rest.to_string()));
    }
    Err(ValidationError::new(
        field,
        format!("`slack:{rest}`: expected `slack:#channel`, `slack:@USERID` or a channel id such as `slack:C0123ABCD`"),
    ))
}

fn parse_mail(field: &str, rest: &str) -> Result<Destination, ValidationError> {
    let address = rest.split('?').next().unwrap_or_default();
    let Some((local, domain)) = address.split_once('@') else {
        return Err(ValidationError::new(field, format!("`mailto:{rest}`: an e-mail address needs an @")));
    };
    let bad = |part: &str| part.is_empty() || part.chars().any(|c| c.is_whitespace() || "<>,;\"".contains(c));
    if bad(local) || bad(domain) || !domain.contains('.') && domain != "localhost" {
        return Err(ValidationError::new(field, format!("`mailto:{address}` is not an e-mail address")));
    }
    Ok(Destination::Mail(address.to_string()))
}

impl fmt::Display for Destination {
    /// The URI as given (it may hold a secret URL: show [`Destination::redacted`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = |source: &UrlSource| match source {
            UrlSource::Literal(url) => url.clone(),
            UrlSource::Env(name) => format!("${name}"),
        };
        match self {
            Destination::SlackWebhook(source) => write!(f, "slack-webhook:{}", url(source)),
            Destination::SlackChannel(channel) => write!(f, "slack:{channel}"),
            Destination::SlackUser(user) => write!(f, "slack:@{user}"),
            Destination::Webhook(source) => write!(f, "webhook:{}", url(source)),
            Destination::Mail(address) => write!(f, "mailto:{address}"),
            Destination::File(path) => write!(f, "file:{path}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Destination, String> {
        Destination::parse("deliver[0]", text).map_err(|error| error.to_string())
    }

    #[test]
    fn every_kind_parses_and_prints_back() {
        for text in [
            "slack-webhook:https://hooks.slack.com/services/T1/B2/xyz",
            "slack-webhook:$SLACK_WEBHOOK_URL",
            "slack:#team-plans",
            "slack:@U0123ABC",
            "slack:C0123ABCD",
            "webhook:http://127.0.0.1:9000/hook?token=1",
            "mailto:ana@example.com",
            "file:/tmp/plan.md",
        ] {
            assert_eq!(parse(text).unwrap().to_string(), text);
        }
        assert_eq!(parse("file:///tmp/a.md").unwrap(), Destination::File("/tmp/a.md".into()));
    }

    #[test]
    fn errors_name_the_field_and_the_problem() {
        assert!(parse("slack").unwrap_err().starts_with("deliver[0]: \"slack\" is not a destination"));
        assert!(parse("sms:+33").unwrap_err().contains("unknown destination kind \"sms\""));
        assert!(parse("webhook:ftp://x").unwrap_err().contains("must be http or https"));
        assert!(parse("webhook:example.com").unwrap_err().contains("needs an http(s) URL"));
        assert!(parse("webhook:https:///path").unwrap_err().contains("has no host"));
        assert!(parse("slack:general").unwrap_err().contains("expected `slack:#channel`"));
        assert!(parse("slack:#").unwrap_err().contains("not a channel name"));
        assert!(parse("mailto:ana").unwrap_err().contains("needs an @"));
        assert!(parse("mailto:ana@exa mple.com").unwrap_err().contains("is not an e-mail address"));
        assert!(parse("slack-webhook:$1-x").unwrap_err().contains("not an environment variable name"));
        assert!(parse("file:").unwrap_err().contains("needs a path"));
        assert!(parse("file:plan.md").unwrap_err().contains("must be absolute"));
    }

    #[test]
    fn redaction_keeps_only_the_origin_of_urls() {
        let hook = parse("slack-webhook:https://hooks.slack.com/services/T1/B2/secret").unwrap();
        assert_eq!(hook.redacted(), "slack-webhook:https://hooks.slack.com/…");
        let hook = parse("webhook:https://user:pw@example.com:8443/in?token=secret").unwrap();
        assert_eq!(hook.redacted(), "webhook:https://example.com:8443/…");
        assert_eq!(parse("slack:#a").unwrap().redacted(), "slack:#a");
        assert_eq!(parse("webhook:$HOOK").unwrap().redacted(), "webhook:$HOOK");
    }
}
