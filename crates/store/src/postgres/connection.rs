//! Connecting to PostgreSQL with Steward's settings, and the small
//! conversions between domain values and what PostgreSQL stores.

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::{Connection, PgConnection};

use crate::{Result, StoreError};

/// Connections the pool keeps at most unless configured otherwise: enough for
/// a worker pool and the API to overlap, few enough that several nodes fit in
/// PostgreSQL's default `max_connections` (100).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// A connection idle for longer than this is pinged before it is handed
/// out. Pinging every time would cost a round trip per operation.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(30);

/// A session that sits inside a transaction this long is ended by the
/// server. Steward never leaves a transaction open between statements on
/// purpose; the limit protects everyone else (row locks, and the writer lock
/// that event readers wait for) from a node that froze mid-transaction.
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "60s";

/// Parses `url` and adds the session settings Steward relies on.
pub(crate) fn connect_options(url: &str) -> Result<PgConnectOptions> {
    let mut options = PgConnectOptions::from_str(url)
        .map_err(|error| StoreError::Database(format!("invalid PostgreSQL URL: {error}")))?;
    // TLS to a server on this machine protects nothing, and sqlx 0.9.0 does
    // not set TCP_NODELAY, so a statement larger than a TLS record waits
    // 40 ms for a delayed ACK (Nagle's algorithm): a claim of 64 jobs took
    // 50 ms instead of 10. Unless the URL or PGSSLMODE chooses otherwise,
    // "allow" tries without TLS first and still connects to a server that
    // demands it.
    if is_loopback(options.get_host()) && !chooses_ssl_mode(url) && std::env::var_os("PGSSLMODE").is_none() {
        options = options.ssl_mode(PgSslMode::Allow);
    }
    // Named "steward" in pg_stat_activity unless the URL names it otherwise
    // (to tell nodes apart, say).
    let options = match options.get_application_name() {
        Some(_) => options,
        None => options.application_name("steward"),
    };
    Ok(options.options([
        ("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION_TIMEOUT),
        ("timezone", "UTC"),
        // JIT compiles every execution of a statement whose estimated cost
        // passes `jit_above_cost`, and costs 0.2 s or more a time here.
        // Steward's statements are short, but estimates are not always:
        // a claim's `enable_sort = off` prices any sort it cannot avoid at
        // 10^10, and a statement that sorted 500 claimed jobs took 240 ms
        // instead of 15 (docs/benchmarks.md, "One round trip per enqueue").
        ("jit", "off"),
    ]))
}

pub(crate) async fn connect_pool(options: PgConnectOptions, max_connections: u32) -> Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .min_connections(0)
        .test_before_acquire(false)
        .before_acquire(|connection: &mut PgConnection, metadata| {
            Box::pin(async move {
                if metadata.idle_for > PING_WHEN_IDLE_FOR {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .map_err(|error| StoreError::Database(format!("cannot connect to PostgreSQL: {error}")))
}

/// The schema Steward's tables live in (the first existing schema of the
/// `search_path`). Advisory-lock keys and notification payloads include it,
/// so installations in different schemas of one database do not disturb
/// each other.
pub(crate) async fn current_schema(pool: &PgPool) -> Result<String> {
    let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()").fetch_one(pool).await?;
    schema.ok_or_else(|| {
        StoreError::Database(
            "no schema of the search_path exists; create one or fix search_path in the database URL".into(),
        )
    })
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether the URL sets the TLS mode itself.
fn chooses_ssl_mode(url: &str) -> bool {
    let Some((_, query)) = url.split_once('?') else { return false };
    query.split('&').any(|parameter| {
        let name = parameter.split('=').next().unwrap_or_default();
        name.eq_ignore_ascii_case("sslmode") || name.eq_ignore_ascii_case("ssl-mode")
    })
}

/// A count or attempt number as PostgreSQL's `integer`. Domain limits keep
/// these far below `i32::MAX`; saturating keeps a corrupt value visible.
pub(crate) fn to_integer(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A stored `integer` that is never negative, back as a count.
pub(crate) fn from_integer(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

pub(crate) fn to_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) fn from_millis(stored: i64) -> Duration {
    Duration::from_millis(u64::try_from(stored).unwrap_or(0))
}

/// Whether `text` could equal something stored. PostgreSQL refuses NUL in
/// text parameters, and nothing stored contains one, so a filter holding a
/// NUL matches nothing — the answer SQLite gives, without the error.
pub(crate) fn could_be_stored(text: Option<&str>) -> bool {
    text.is_none_or(|text| !text.contains('\0'))
}

/// A `usize` limit as a `bigint` parameter.
pub(crate) fn to_bigint(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_only_tried_second_for_a_local_server_when_nothing_chose_it() {
        if std::env::var_os("PGSSLMODE").is_some() {
            return;
        }
        let mode = |url: &str| format!("{:?}", connect_options(url).unwrap().get_ssl_mode());
        assert_eq!(mode("postgres://steward@127.0.0.1:5432/steward"), "Allow");
        assert_eq!(mode("postgres://steward@localhost/steward?options=-c%20a%3Db"), "Allow");
        assert_eq!(mode("postgres://steward@[::1]/steward"), "Allow");
        assert_eq!(mode("postgres://steward@127.0.0.1/steward?sslmode=require"), "Require");
        assert_eq!(mode("postgres://steward@db.example/steward"), "Prefer");
    }

    /// What a session opened with Steward's options runs with, on the test
    /// database when one is given.
    #[tokio::test]
    async fn sessions_run_in_utc_without_jit_and_end_when_left_in_a_transaction() {
        let Ok(url) = std::env::var("STEWARD_TEST_DATABASE_URL") else { return };
        let mut connection = PgConnection::connect_with(&connect_options(&url).unwrap()).await.unwrap();
        let settings: (String, String, String) = sqlx::query_as(
            "SELECT current_setting('jit'), current_setting('timezone'), \
                    current_setting('idle_in_transaction_session_timeout')",
        )
        .fetch_one(&mut connection)
        .await
        .unwrap();
        assert_eq!(settings, ("off".into(), "UTC".into(), "1min".into()));
    }
}
