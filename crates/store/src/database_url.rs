//! Which database to use, parsed from a URL: `sqlite:///path/steward.db` (or a
//! plain path) for the embedded default, `postgres://…` for PostgreSQL.

use std::fmt;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
        }
    }
}

impl fmt::Display for DatabaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    /// The full connection URL; may carry a password, so it is never printed.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the database URL is empty".into());
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(text.to_string()));
        }
        if let Some(rest) = text.strip_prefix("sqlite://") {
            if rest.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite:///var/lib/steward/steward.db".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(rest)));
        }
        if let Some(rest) = text.strip_prefix("sqlite:") {
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(rest)));
        }
        if text.contains("://") {
            return Err(format!(
                "unsupported database URL scheme in {:?}; use sqlite:///path/to/steward.db or postgres://user@host/db",
                text.split("://").next().unwrap_or_default()
            ));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(text)))
    }

    pub fn kind(&self) -> DatabaseKind {
        match self {
            DatabaseUrl::Sqlite(_) => DatabaseKind::Sqlite,
            DatabaseUrl::Postgres(_) => DatabaseKind::Postgres,
        }
    }

    /// A form safe to log: the SQLite path, or the PostgreSQL URL without
    /// its password.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "postgres://…".into();
    };
    let (authority, tail) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            let masked = if credentials.contains(':') { format!("{user}:***") } else { user.to_string() };
            // Query parameters may carry a password too.
            let tail = tail.split('?').next().unwrap_or_default();
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => format!("{scheme}://{authority}{}", tail.split('?').next().unwrap_or_default()),
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds() {
        assert_eq!(DatabaseUrl::parse("/tmp/s.db").unwrap(), DatabaseUrl::Sqlite("/tmp/s.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/s.db").unwrap(), DatabaseUrl::Sqlite("/tmp/s.db".into()));
        assert_eq!(DatabaseUrl::parse("postgres://a@h/db").unwrap().kind(), DatabaseKind::Postgres);
        assert!(DatabaseUrl::parse("mysql://x").unwrap_err().contains("mysql"));
    }

    #[test]
    fn passwords_never_print() {
        let url = DatabaseUrl::parse("postgres://steward:hunter2@db.example/steward?password=hunter2").unwrap();
        let shown = format!("{url} {url:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("steward:***@db.example/steward"), "{shown}");
    }
}
