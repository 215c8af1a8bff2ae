//! The post-commit hook and what it runs: [`install_hook`] adds a marked
//! block to `post-commit` (created if missing, appended to an existing
//! shell hook — before its first top-level `exit`, so it still runs —,
//! replaced in place when installed again, never duplicated), and
//! [`record_commit`] writes HEAD into `CHANGELOG_RECENT.md`. The block ends
//! in `|| true` and sends all output to /dev/null: the hook never fails or
//! disturbs a commit.

use std::path::PathBuf;

use steward_domain::living_docs::{CHANGELOG_FILE, ChangelogEntry, changelog};

use super::LivingDocsError;
use super::files::{read_optional, write_atomically};
use super::git::Repo;

pub const BLOCK_BEGIN: &str = "# >>> steward living docs >>>";
pub const BLOCK_END: &str = "# <<< steward living docs <<<";

/// What installing did to the hook file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookChange {
    /// There was no hook; one was written.
    Created,
    /// Steward's block was added to an existing hook.
    Appended,
    /// Steward's block was there and was rewritten (a new command line).
    Updated,
    /// Steward's block was there as it would be written.
    Unchanged,
}

/// The hook's path and what was done to it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HookInstall {
    pub path: PathBuf,
    pub change: HookChange,
}

/// Quotes a word for a POSIX shell.
pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Installs the hook so that every commit runs `command` (a shell command
/// line, already quoted) from the top of the working tree.
pub fn install_hook(repo: &Repo, command: &str) -> Result<HookInstall, LivingDocsError> {
    let path = repo.hooks_dir().join("post-commit");
    let block = format!(
        "{BLOCK_BEGIN}\n# Added by `steward sync install-hook`: records each commit in {CHANGELOG_FILE} and tells a \
         running Steward.\n# It never fails a commit; remove these lines to stop it.\n{command} >/dev/null 2>&1 || \
         true\n{BLOCK_END}\n"
    );
    let existing = read_optional(&path)?;
    let (text, change) = match existing.as_deref() {
        None => (format!("#!/bin/sh\n{block}"), HookChange::Created),
        Some(text) => {
            if let Some(start) = text.find(BLOCK_BEGIN) {
                let end = text[start..]
                    .find(BLOCK_END)
                    .map(|offset| start + offset + BLOCK_END.len())
                    .ok_or_else(|| hook_error(&path, "it has Steward's opening line but not its closing line"))?;
                let end = if text[end..].starts_with('\n') { end + 1 } else { end };
                if text[start..end] == block {
                    (text.to_string(), HookChange::Unchanged)
                } else {
                    (format!("{}{block}{}", &text[..start], &text[end..]), HookChange::Updated)
                }
            } else {
                check_shell(&path, text)?;
                (insert_block(text, &block), HookChange::Appended)
            }
        }
    };
    if change != HookChange::Unchanged {
        write_atomically(&path, text.as_bytes())?;
    }
    make_executable(&path)?;
    Ok(HookInstall { path, change })
}

/// Whether `post-commit` carries Steward's block.
pub fn hook_installed(repo: &Repo) -> Result<bool, LivingDocsError> {
    let text = read_optional(&repo.hooks_dir().join("post-commit"))?;
    Ok(text.is_some_and(|text| text.contains(BLOCK_BEGIN)))
}

/// A hook in another language cannot take shell lines.
fn check_shell(path: &std::path::Path, text: &str) -> Result<(), LivingDocsError> {
    let Some(shebang) = text.lines().next().and_then(|line| line.strip_prefix("#!")) else { return Ok(()) };
    let interpreter = shebang.split_whitespace().collect::<Vec<_>>();
    let program = match interpreter.as_slice() {
        [env, program, ..] if env.ends_with("/env") => *program,
        [program, ..] => program.rsplit('/').next().unwrap_or(program),
        [] => return Ok(()),
    };
    if ["sh", "bash", "dash", "zsh", "ksh", "ash"].contains(&program) {
        return Ok(());
    }
    Err(hook_error(
        path,
        &format!(
            "it is a {program} script, which cannot run shell lines; add a call to `steward sync record-commit` to it by hand"
        ),
    ))
}

/// The hook with the block before its first top-level `exit` line (after
/// which nothing would run), else at its end.
fn insert_block(text: &str, block: &str) -> String {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line == "exit" || line.starts_with("exit ") || line.starts_with("exit\n") {
            return format!("{}{block}{}", &text[..offset], &text[offset..]);
        }
        offset += line.len();
    }
    let separator = if text.ends_with('\n') || text.is_empty() { "" } else { "\n" };
    format!("{text}{separator}{block}")
}

fn hook_error(path: &std::path::Path, message: &str) -> LivingDocsError {
    steward_domain::ValidationError::new("hook", format!("{}: {message}", path.display())).into()
}

#[cfg(unix)]
fn make_executable(path: &std::path::Path) -> Result<(), LivingDocsError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |source| LivingDocsError::Io { path: path.to_path_buf(), source };
    let mut permissions = std::fs::metadata(path).map_err(io)?.permissions();
    permissions.set_mode(permissions.mode() | 0o755);
    std::fs::set_permissions(path, permissions).map_err(io)
}

#[cfg(not(unix))]
fn make_executable(_path: &std::path::Path) -> Result<(), LivingDocsError> {
    Ok(())
}

/// Records HEAD (or `commit`) in the repository's `CHANGELOG_RECENT.md`;
/// the entry, and whether it was new.
pub fn record_commit(repo: &Repo, commit: Option<&str>) -> Result<(ChangelogEntry, bool), LivingDocsError> {
    let entry = repo.changelog_entry(commit)?;
    let path = repo.root().join(CHANGELOG_FILE);
    let existing = read_optional(&path)?;
    match changelog::append(existing.as_deref(), &entry) {
        Some(text) => {
            write_atomically(&path, text.as_bytes())?;
            Ok((entry, true))
        }
        None => Ok((entry, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_goes_before_a_top_level_exit_or_at_the_end() {
        let block = "B\n";
        assert_eq!(insert_block("#!/bin/sh\necho hi\nexit 0\n", block), "#!/bin/sh\necho hi\nB\nexit 0\n");
        assert_eq!(
            insert_block("#!/bin/sh\nif x; then\n  exit 1\nfi", block),
            "#!/bin/sh\nif x; then\n  exit 1\nfi\nB\n"
        );
    }

    #[test]
    fn only_shell_hooks_take_the_block() {
        let path = std::path::Path::new("/repo/.git/hooks/post-commit");
        for ok in ["#!/bin/sh\n", "#!/usr/bin/env bash\n", "echo no shebang\n", "#!/bin/bash -e\n"] {
            assert!(check_shell(path, ok).is_ok(), "{ok}");
        }
        let error = check_shell(path, "#!/usr/bin/env python3\nprint(1)\n").unwrap_err().to_string();
        assert!(error.starts_with("hook: /repo/.git/hooks/post-commit: it is a python3 script"), "{error}");
    }

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
