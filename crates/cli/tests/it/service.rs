//! `steward service install --user`: the unit it prints is the unit it
//! writes, in `$XDG_CONFIG_HOME/systemd/user`, running this very binary on
//! the given home; `systemd-analyze verify` accepts it where systemd's tools
//! are installed (no running systemd needed).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::STEWARD;

fn service(config_home: &Path, args: &[&str]) -> std::process::Output {
    Command::new(STEWARD)
        .args(["service", "install"])
        .args(args)
        .env("XDG_CONFIG_HOME", config_home)
        .env_remove("STEWARD_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run steward")
}

#[test]
fn the_user_unit_runs_this_binary_on_the_home_and_is_written_where_systemd_looks() {
    let config_home = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let home_text = home.path().display().to_string();
    let binary = Path::new(STEWARD).canonicalize().unwrap();

    let printed = service(config_home.path(), &["--user", "--print", "--home", &home_text]);
    assert!(printed.status.success(), "{}", String::from_utf8_lossy(&printed.stderr));
    let unit = String::from_utf8(printed.stdout).unwrap();
    let exec = format!("ExecStart={} serve --home {home_text}\n", binary.display());
    assert!(unit.contains(&exec), "{exec} in:\n{unit}");
    for line in ["[Install]\nWantedBy=default.target", "Restart=on-failure", "KillSignal=SIGTERM", "UMask=0077"] {
        assert!(unit.contains(line), "{line} in:\n{unit}");
    }
    let unit_path = config_home.path().join("systemd/user/steward.service");
    assert!(!unit_path.exists(), "--print writes nothing");

    let written = service(config_home.path(), &["--user", "--home", &home_text, "--json"]);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let document: serde_json::Value = serde_json::from_slice(&written.stdout).unwrap();
    assert_eq!(document["path"], unit_path.display().to_string());
    assert_eq!(document["written"], true);
    assert_eq!(std::fs::read_to_string(&unit_path).unwrap(), unit);

    if let Ok(verify) = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&unit_path).output() {
        let complaints = String::from_utf8_lossy(&verify.stderr);
        assert!(verify.status.success() && complaints.trim().is_empty(), "systemd-analyze verify: {complaints}");
    }

    let refused = service(config_home.path(), &["--home", &home_text, "--json"]);
    assert_eq!(refused.status.code(), Some(2));
    let document: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(document["error"]["field"], "--user", "{document}");
}
