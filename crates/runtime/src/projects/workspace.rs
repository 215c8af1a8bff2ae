//! A task's isolated workspace: its own folder under
//! `$STEWARD_HOME/projects/<project>/tasks/<task>` — with a repository, a
//! git worktree there on the task's branch `steward/project-<id>/<task>`
//! (started from its first dependency's branch, so a chain builds on the
//! work before it, else from HEAD) — kept across the task's runs, so a
//! task sent back is fixed where it was made. Each run's workspace
//! (`$STEWARD_HOME/workspaces/<run>`) is a link to it, and the validated
//! work is committed on the branch.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use git2::{BranchType, IndexAddOption, Repository, Signature, WorktreeAddOptions};
use steward_domain::ProjectId;

/// Why a task's workspace could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("the project's repository {}: {message}", path.display())]
    Repository { path: PathBuf, message: String },
    #[error("{operation} {}: {message}", path.display())]
    Io { operation: &'static str, path: PathBuf, message: String },
}

impl From<git2::Error> for WorkspaceError {
    fn from(error: git2::Error) -> Self {
        WorkspaceError::Repository { path: PathBuf::new(), message: error.message().to_string() }
    }
}

fn io<'a>(operation: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> WorkspaceError + 'a {
    move |error| WorkspaceError::Io { operation, path: path.to_path_buf(), message: error.to_string() }
}

/// A task key made safe for a branch, a folder and a worktree name.
fn safe(key: &str) -> String {
    let cleaned: String = key
        .chars()
        .map(|character| if character.is_ascii_alphanumeric() || "-_".contains(character) { character } else { '-' })
        .collect();
    cleaned.trim_matches('-').to_string()
}

/// The branch a task's work goes on.
pub fn branch_of(project: ProjectId, task: &str) -> String {
    format!("steward/project-{project}/{}", safe(task))
}

/// The task's own folder.
pub fn folder_of(home: &Path, project: ProjectId, task: &str) -> PathBuf {
    home.join("projects").join(project.to_string()).join("tasks").join(safe(task))
}

/// Where the task works: its folder, and its branch when the project has a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskWorkspace {
    pub folder: PathBuf,
    pub branch: Option<String>,
}

/// Makes the task's folder (a worktree on its branch when `repository` is
/// given) unless it exists; `after` are the tasks it depends on, in order.
pub fn prepare(
    home: &Path,
    repository: Option<&Path>,
    project: ProjectId,
    task: &str,
    after: &[String],
) -> Result<TaskWorkspace, WorkspaceError> {
    let folder = folder_of(home, project, task);
    let Some(repository) = repository else {
        std::fs::create_dir_all(&folder).map_err(io("create", &folder))?;
        return Ok(TaskWorkspace { folder, branch: None });
    };
    let branch = branch_of(project, task);
    if folder.join(".git").exists() {
        return Ok(TaskWorkspace { folder, branch: Some(branch) });
    }
    let in_repository = |error: git2::Error| WorkspaceError::Repository {
        path: repository.to_path_buf(),
        message: error.message().to_string(),
    };
    let repo = Repository::open(repository).map_err(in_repository)?;
    let existing = repo.find_branch(&branch, BranchType::Local).ok();
    let reference = match existing {
        Some(found) => found.into_reference(),
        None => {
            let base = after
                .iter()
                .find_map(|dependency| repo.find_branch(&branch_of(project, dependency), BranchType::Local).ok())
                .map(|found| found.into_reference().peel_to_commit())
                .unwrap_or_else(|| repo.head().and_then(|head| head.peel_to_commit()))
                .map_err(|error| WorkspaceError::Repository {
                    path: repository.to_path_buf(),
                    message: format!("no commit to start the task's branch from: {}", error.message()),
                })?;
            repo.branch(&branch, &base, false).map_err(in_repository)?.into_reference()
        }
    };
    let parent = folder.parent().unwrap_or(home);
    std::fs::create_dir_all(parent).map_err(io("create", parent))?;
    let mut options = WorktreeAddOptions::new();
    options.reference(Some(&reference));
    let name = format!("steward-project-{project}-{}", safe(task));
    repo.worktree(&name, &folder, Some(&options)).map_err(in_repository)?;
    Ok(TaskWorkspace { folder, branch: Some(branch) })
}

/// Makes the run's workspace a link to the task's folder. A run that has
/// already written into a folder of its own is refused (it started before
/// the link: its work would not be where the task's is).
pub fn link_run(run_workspace: &Path, folder: &Path) -> Result<(), WorkspaceError> {
    if let Some(parent) = run_workspace.parent() {
        std::fs::create_dir_all(parent).map_err(io("create", parent))?;
    }
    if std::fs::read_link(run_workspace).is_ok_and(|target| target == folder) {
        return Ok(());
    }
    if run_workspace.exists() {
        // Created on its first tool call; empty means nothing went there yet.
        std::fs::remove_dir(run_workspace).map_err(io("take over the run's own workspace", run_workspace))?;
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(folder, run_workspace).map_err(io("link", run_workspace))?;
    #[cfg(not(unix))]
    return Err(WorkspaceError::Io {
        operation: "link",
        path: run_workspace.to_path_buf(),
        message: "task workspaces need symbolic links (Unix)".into(),
    });
    #[cfg(unix)]
    Ok(())
}

/// Commits everything in the task's worktree on its branch (`message`);
/// `None` when there was nothing to commit or no repository.
pub fn commit(workspace: &TaskWorkspace, message: &str) -> Result<Option<String>, WorkspaceError> {
    if workspace.branch.is_none() {
        return Ok(None);
    }
    let repo = Repository::open(&workspace.folder)?;
    let mut index = repo.index()?;
    index.add_all(["*"], IndexAddOption::DEFAULT, None)?;
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let parent = repo.head()?.peel_to_commit()?;
    if parent.tree_id() == tree.id() {
        return Ok(None);
    }
    let signature = Signature::now("Steward", "steward@localhost")?;
    let id = repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &[&parent])?;
    Ok(Some(id.to_string()))
}

/// The files of the task's folder (not `.git`) for the validator: each
/// path with its size, and the text of small files, within `budget` characters.
pub fn describe_files(folder: &Path, budget: usize) -> String {
    let mut paths = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => paths.push(path),
                _ => {}
            }
        }
    }
    paths.sort();
    if paths.is_empty() {
        return "(no files)\n".into();
    }
    let mut text = String::new();
    for path in paths {
        let relative = path.strip_prefix(folder).unwrap_or(&path).display().to_string();
        let size = std::fs::metadata(&path).map(|metadata| metadata.len()).unwrap_or(0);
        let _ = writeln!(text, "--- {relative} ({size} bytes)");
        let room = budget.saturating_sub(text.len());
        if let Ok(body) = std::fs::read_to_string(&path)
            && body.len() < room
        {
            let _ = writeln!(text, "{}", body.trim_end());
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_repo(dir: &Path) -> Repository {
        let repo = Repository::init(dir).unwrap();
        std::fs::write(dir.join("README.md"), "# Shop\n").unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("README.md")).unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let signature = Signature::now("Ada", "ada@example.com").unwrap();
        repo.commit(Some("HEAD"), &signature, &signature, "start", &tree, &[]).unwrap();
        drop(tree);
        repo
    }

    #[test]
    fn a_chain_of_tasks_builds_on_the_branch_before_it() {
        let (home, origin) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let repo = git_repo(origin.path());
        let first = prepare(home.path(), Some(origin.path()), ProjectId(4), "T001", &[]).unwrap();
        assert_eq!(first.branch.as_deref(), Some("steward/project-4/T001"));
        assert!(first.folder.join("README.md").is_file(), "the worktree holds the repository's files");
        std::fs::write(first.folder.join("cart.rs"), "pub struct Cart;\n").unwrap();
        let committed = commit(&first, "T001: a cart").unwrap();
        assert!(committed.is_some());
        assert_eq!(commit(&first, "again").unwrap(), None, "nothing new, no commit");

        let second = prepare(home.path(), Some(origin.path()), ProjectId(4), "T002", &["T001".into()]).unwrap();
        assert!(second.folder.join("cart.rs").is_file(), "T002 starts from T001's branch");
        assert!(!origin.path().join("cart.rs").exists(), "the repository's own checkout is untouched");
        let again = prepare(home.path(), Some(origin.path()), ProjectId(4), "T002", &[]).unwrap();
        assert_eq!(again, second, "preparing again reuses the worktree");
        assert!(repo.find_branch("steward/project-4/T002", BranchType::Local).is_ok());

        let run = home.path().join("workspaces").join("17");
        link_run(&run, &second.folder).unwrap();
        link_run(&run, &second.folder).unwrap();
        assert!(run.join("cart.rs").is_file(), "the run's workspace is the task's folder");
        let described = describe_files(&run, 10_000);
        assert!(described.contains("--- cart.rs (17 bytes)\npub struct Cart;"), "{described}");
        assert!(!described.contains(".git"), "{described}");
    }

    #[test]
    fn without_a_repository_a_task_gets_a_folder_and_no_commit() {
        let home = tempfile::tempdir().unwrap();
        let workspace = prepare(home.path(), None, ProjectId(1), "1.2", &[]).unwrap();
        assert!(workspace.folder.ends_with("projects/1/tasks/1-2"), "{}", workspace.folder.display());
        assert!(workspace.folder.is_dir());
        assert_eq!(commit(&workspace, "x").unwrap(), None);
        let error = prepare(home.path(), Some(&home.path().join("nowhere")), ProjectId(1), "T1", &[]).unwrap_err();
        assert!(error.to_string().starts_with("the project's repository"), "{error}");
    }
}
