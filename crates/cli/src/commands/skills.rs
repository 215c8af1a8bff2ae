//! `steward skills list` and `steward skills check`: the skills in
//! `$STEWARD_HOME/skills` (and any `--dir`), read straight from disk — no
//! server needed — and every problem with a skill, by file and line.

use std::path::PathBuf;

use anyhow::bail;
use clap::Subcommand;
use serde_json::{Value, json};
use steward_runtime::skills::{SkillCatalog, SkillProblem};

use crate::config::{Config, Overrides};
use crate::options::GlobalOptions;
use crate::output::{print_json, say, table};

#[derive(Debug, Subcommand)]
pub enum SkillsCommand {
    /// List the skills that load: name, description and folder.
    List(SkillsArgs),
    /// Check every skill; print each problem as file:line; fail on errors (and on warnings with --strict).
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub skills: SkillsArgs,

    /// Fail on warnings too (a skill that loads but breaks a limit of the Agent Skills format).
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, clap::Args)]
pub struct SkillsArgs {
    /// Steward's data directory; its `skills/` folder is read (default: STEWARD_HOME).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Another skills directory (an agent's own), read after the home's; repeatable.
    #[arg(long = "dir", value_name = "DIR")]
    pub directories: Vec<PathBuf>,
}

pub fn run(command: SkillsCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    match command {
        SkillsCommand::List(args) => list(args, global),
        SkillsCommand::Check(args) => check(args, global),
    }
}

/// Loads the skills of the home and the extra directories, which must exist
/// (a missing home skills folder just has no skills).
fn load(args: SkillsArgs) -> anyhow::Result<SkillCatalog> {
    let config = Config::load(&Overrides { home: args.home, ..Overrides::default() })?;
    for directory in &args.directories {
        if !directory.is_dir() {
            bail!("--dir {}: no such directory", directory.display());
        }
    }
    let mut directories = vec![config.home.join("skills")];
    directories.extend(args.directories);
    Ok(SkillCatalog::load(&directories))
}

fn list(args: SkillsArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let catalog = load(args)?;
    if global.json {
        let skills: Vec<Value> = catalog
            .skills()
            .map(|skill| {
                json!({
                    "name": skill.name,
                    "description": skill.description,
                    "allowed_tools": skill.allowed_tools,
                    "directory": skill.directory,
                    "source": skill.source,
                })
            })
            .collect();
        print_json(&json!({ "skills": skills, "problems": problems_json(catalog.problems()) }));
        return Ok(());
    }
    if catalog.is_empty() {
        say!("No skills. A skill is a folder with a SKILL.md in $STEWARD_HOME/skills.");
    } else {
        let mut skills = table(["name", "description", "folder"]);
        for skill in catalog.skills() {
            skills.add_row([skill.name.clone(), skill.description.clone(), skill.directory.display().to_string()]);
        }
        say!("{skills}");
    }
    let errors = catalog.errors().count();
    let warnings = catalog.problems().len() - errors;
    if errors > 0 {
        say!("{errors} skill problem(s) left skills out; `steward skills check` shows them.");
    }
    if warnings > 0 {
        say!("{warnings} skill warning(s); `steward skills check` shows them.");
    }
    Ok(())
}

fn check(args: CheckArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let catalog = load(args.skills)?;
    let problems = catalog.problems();
    let errors = catalog.errors().count();
    let warnings = problems.len() - errors;
    let loaded = catalog.skills().count();
    if global.json {
        print_json(&json!({ "skills_loaded": loaded, "problems": problems_json(problems) }));
    } else {
        for problem in problems {
            say!("{problem}");
        }
        let warned = if warnings > 0 { format!(", {warnings} warning(s)") } else { String::new() };
        say!("{loaded} skill(s) load, {errors} problem(s){warned}.");
    }
    let failure = if errors > 0 {
        Some(format!("{errors} skill problem(s) found"))
    } else if args.strict && warnings > 0 {
        Some(format!("{warnings} skill warning(s) found (--strict)"))
    } else {
        None
    };
    if let Some(message) = failure {
        if global.json {
            return Err(crate::failure::AlreadyShown { message }.into());
        }
        bail!(message);
    }
    Ok(())
}

fn problems_json(problems: &[SkillProblem]) -> Vec<Value> {
    problems
        .iter()
        .map(|problem| {
            let severity = if problem.is_warning() { "warning" } else { "error" };
            json!({ "file": problem.file, "line": problem.line, "severity": severity, "message": problem.kind.to_string() })
        })
        .collect()
}
