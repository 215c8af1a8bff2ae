//! What the bench commands share: a scratch database that exists only for
//! the measurement, the process's CPU time and peak memory, and the user
//! the benchmark's jobs belong to.

use anyhow::Context;
use steward_domain::UserId;
use steward_store::DatabaseUrl;

pub(super) const USER: UserId = UserId::LOCAL_OWNER;

/// CPU time (user + system, all threads) this process has used so far, in
/// seconds: `CLOCK_PROCESS_CPUTIME_ID`, to the nanosecond.
pub(super) fn process_cpu_seconds() -> f64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}

/// CPU time the threads of this process named `name` have used so far, in
/// seconds (`/proc/self/task/*/schedstat`, to the nanosecond); `None` where
/// the system does not tell, or no thread has that name.
pub(super) fn thread_cpu_seconds(name: &str) -> Option<f64> {
    let mut nanoseconds = None;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let path = task.path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else { continue };
        if comm.trim_end() != name {
            continue;
        }
        let schedstat = std::fs::read_to_string(path.join("schedstat")).ok()?;
        let on_cpu: u64 = schedstat.split_whitespace().next()?.parse().ok()?;
        *nanoseconds.get_or_insert(0) += on_cpu;
    }
    nanoseconds.map(|nanoseconds| nanoseconds as f64 / 1e9)
}

/// Peak resident memory (VmHWM) of this process, or of process `pid`, in MiB.
pub(super) fn peak_rss_mb(pid: Option<u32>) -> f64 {
    let path = pid.map_or_else(|| "/proc/self/status".to_string(), |pid| format!("/proc/{pid}/status"));
    std::fs::read_to_string(path)
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib / 1024.0)
        })
        .unwrap_or(0.0)
}

pub(super) fn describe(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(_) => "sqlite".into(),
        DatabaseUrl::Postgres(_) => "postgres".into(),
    }
}

/// A database that exists only for the benchmark: a SQLite file in a
/// temporary directory, or a fresh schema on the given PostgreSQL server.
pub(super) struct Scratch {
    pub(super) url: DatabaseUrl,
    _directory: Option<tempfile::TempDir>,
    schema: Option<steward_store::postgres::scratch::ScratchSchema>,
}

impl Scratch {
    pub(super) async fn create(database: Option<&str>) -> anyhow::Result<Scratch> {
        match database {
            None => {
                let directory = tempfile::tempdir().context("cannot create a temporary directory")?;
                Ok(Scratch {
                    url: DatabaseUrl::Sqlite(directory.path().join("bench.db")),
                    _directory: Some(directory),
                    schema: None,
                })
            }
            Some(text) => match DatabaseUrl::parse(text).map_err(|error| anyhow::anyhow!("--database: {error}"))? {
                DatabaseUrl::Sqlite(path) if path.exists() => {
                    anyhow::bail!("--database: {} exists; the benchmark needs a new file", path.display())
                }
                DatabaseUrl::Sqlite(path) => {
                    Ok(Scratch { url: DatabaseUrl::Sqlite(path), _directory: None, schema: None })
                }
                DatabaseUrl::Postgres(server) => {
                    let schema = steward_store::postgres::scratch::ScratchSchema::create(&server, "steward_bench")
                        .await
                        .context("cannot create a scratch schema for the benchmark")?;
                    Ok(Scratch {
                        url: DatabaseUrl::Postgres(schema.url.clone()),
                        _directory: None,
                        schema: Some(schema),
                    })
                }
            },
        }
    }

    pub(super) async fn remove(self) {
        if let Some(schema) = self.schema {
            let name = schema.name().to_string();
            if let Err(error) = schema.drop_schema().await {
                eprintln!("warning: could not drop the benchmark schema {name}: {error}");
            }
        }
    }
}

/// CPU time (user + system) used so far by the processes named `postgres`
/// on this machine, in seconds, or `None` if there are none (the server is
/// elsewhere). Read from `/proc/<pid>/stat`, whose times are in clock ticks
/// of `USER_HZ`, 100 on Linux. Backends that exit between two readings take
/// their time with them, which the benchmark avoids by keeping its
/// connections open while it measures.
pub(super) fn local_postgres_cpu_seconds() -> Option<f64> {
    const USER_HZ: f64 = 100.0;
    let mut ticks = 0_u64;
    let mut found = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid … utime stime: fields 14 and 15, counted
        // after the closing parenthesis since comm may hold spaces.
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        if !head.ends_with("(postgres") {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (Some(user), Some(system)) = (fields.get(11), fields.get(12)) else { continue };
        if let (Ok(user), Ok(system)) = (user.parse::<u64>(), system.parse::<u64>()) {
            ticks += user + system;
            found = true;
        }
    }
    found.then(|| ticks as f64 / USER_HZ)
}
