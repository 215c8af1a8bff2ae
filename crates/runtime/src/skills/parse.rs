//! Parsing one `SKILL.md`: YAML front matter between `---` lines, then the
//! Markdown body. Pure (text in, skill or problems out), so every malformed
//! case is tested without files.

use std::path::Path;

use serde::Deserialize;
use serde_saphyr::{MessageFormatter, Spanned};

use super::problem::{SkillProblem, SkillProblemKind};

/// Longest description: it sits in every context the skill is offered in.
pub const LONGEST_DESCRIPTION: usize = 1024;

/// Longest name, as in the Agent Skills format.
pub const LONGEST_NAME: usize = 64;

/// A `SKILL.md` that parsed and passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedSkill {
    pub name: String,
    /// Line of `name:` in the file, for a later name clash.
    pub name_line: usize,
    pub description: String,
    pub allowed_tools: Option<Vec<String>>,
    pub body: String,
    /// Problems that do not stop the skill from loading.
    pub warnings: Vec<SkillProblem>,
}

#[derive(Debug, Deserialize)]
struct FrontMatter {
    name: Option<Spanned<String>>,
    description: Option<Spanned<String>>,
    #[serde(rename = "allowed-tools")]
    allowed_tools: Option<AllowedTools>,
}

/// `allowed-tools` as a YAML list, or as one string separated by commas or
/// spaces (the form some skill authors use).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AllowedTools {
    List(Vec<String>),
    Text(String),
}

/// Parses the text of `file`; on failure, every problem found.
pub fn parse_skill(text: &str, file: &Path) -> Result<ParsedSkill, Vec<SkillProblem>> {
    let problem = |line: usize, kind: SkillProblemKind| vec![SkillProblem::new(file, Some(line), kind)];
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (front_matter, body) = split_front_matter(text).map_err(|kind| problem(1, kind))?;
    // The front matter starts on the file's second line.
    let file_line = |yaml_line: u64| usize::try_from(yaml_line).unwrap_or(0) + 1;
    let parsed: FrontMatter = serde_saphyr::from_str(front_matter).map_err(|error| {
        let line = error.location().map_or(1, |location| file_line(location.line()));
        problem(line, SkillProblemKind::Yaml { message: yaml_message(&error) })
    })?;

    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut required = |field: &'static str, value: Option<Spanned<String>>| match value {
        None => {
            problems.push(SkillProblem::new(file, Some(1), SkillProblemKind::MissingField { field }));
            None
        }
        Some(spanned) if spanned.value.trim().is_empty() => {
            let line = file_line(spanned.referenced.line());
            problems.push(SkillProblem::new(file, Some(line), SkillProblemKind::EmptyField { field }));
            None
        }
        Some(spanned) => Some((spanned.value.trim().to_owned(), file_line(spanned.referenced.line()))),
    };
    let name = required("name", parsed.name);
    let description = required("description", parsed.description);
    if let Some((name, line)) = &name
        && let Err(reason) = check_name(name)
    {
        let kind = SkillProblemKind::InvalidName { name: name.clone(), reason };
        problems.push(SkillProblem::new(file, Some(*line), kind));
    }
    if let Some((description, line)) = &description {
        let length = description.chars().count();
        if length > LONGEST_DESCRIPTION {
            let kind = SkillProblemKind::DescriptionTooLong { length, limit: LONGEST_DESCRIPTION };
            warnings.push(SkillProblem::new(file, Some(*line), kind));
        }
    }
    match (name, description) {
        (Some((name, name_line)), Some((description, _))) if problems.is_empty() => Ok(ParsedSkill {
            name,
            name_line,
            description,
            allowed_tools: parsed.allowed_tools.map(tool_names),
            body: body.trim().to_owned(),
            warnings,
        }),
        _ => {
            problems.extend(warnings);
            Err(problems)
        }
    }
}

/// Splits `---\n<front matter>\n---\n<body>`; `...` also closes the front
/// matter, as it ends a YAML document.
fn split_front_matter(text: &str) -> Result<(&str, &str), SkillProblemKind> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or_default();
    if first.trim_end() != "---" {
        return Err(SkillProblemKind::MissingFrontMatter);
    }
    let front_start = first.len();
    let mut position = front_start;
    for line in lines {
        if matches!(line.trim_end(), "---" | "...") {
            return Ok((&text[front_start..position], &text[position + line.len()..]));
        }
        position += line.len();
    }
    Err(SkillProblemKind::UnterminatedFrontMatter)
}

/// The parser's message without its location (the problem carries the
/// file's line) and without advice meant for programmers.
fn yaml_message(error: &serde_saphyr::Error) -> String {
    let message = serde_saphyr::DefaultMessageFormatter.format_message(error);
    let message = message.split(", set DuplicateKeyPolicy").next().unwrap_or_default();
    message.escape_debug().to_string()
}

/// Names are lowercase letters, digits and single hyphens, as in the Agent
/// Skills format, so they read the same in every context and tool call.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.chars().count() > LONGEST_NAME {
        return Err("longer than 64 characters");
    }
    if !name.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-') {
        return Err("use only lowercase letters, digits and `-`");
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Err("`-` cannot start or end the name or come twice in a row");
    }
    Ok(())
}

fn tool_names(allowed: AllowedTools) -> Vec<String> {
    let names = match allowed {
        AllowedTools::List(names) => names,
        AllowedTools::Text(text) => text.split([',', ' ']).map(str::to_owned).collect(),
    };
    names.into_iter().map(|name| name.trim().to_owned()).filter(|name| !name.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        parse_skill(text, Path::new("s/SKILL.md")).unwrap_err().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_good_skill_parses() {
        let text = "---\nname: pdf-forms\ndescription: Fill PDF forms.\nallowed-tools: [workspace.read, http.fetch]\nlicense: MIT\n---\n# Steps\nDo it.\n";
        let skill = parse_skill(text, Path::new("SKILL.md")).unwrap();
        assert_eq!(skill.name, "pdf-forms");
        assert_eq!(skill.name_line, 2);
        assert_eq!(skill.allowed_tools.unwrap(), ["workspace.read", "http.fetch"]);
        assert_eq!(skill.body, "# Steps\nDo it.");
    }

    #[test]
    fn allowed_tools_may_be_one_string() {
        let text = "---\r\nname: a\r\ndescription: b\r\nallowed-tools: workspace.read, http.fetch\r\n---\r\nbody";
        let skill = parse_skill(text, Path::new("SKILL.md")).unwrap();
        assert_eq!(skill.allowed_tools.unwrap(), ["workspace.read", "http.fetch"]);
    }

    #[test]
    fn each_problem_names_its_line() {
        assert_eq!(
            problems("# just markdown\n")[0],
            "s/SKILL.md:1: no front matter: SKILL.md must start with a `---` line, then `name:` and `description:`, then `---`"
        );
        assert_eq!(
            problems("---\nname: a\n")[0],
            "s/SKILL.md:1: the front matter opened here is never closed by a `---` line"
        );
        assert_eq!(
            problems("---\nname: a\ndescription: [oops\n---\n")[0],
            "s/SKILL.md:3: bad YAML in the front matter: expected string scalar"
        );
        assert_eq!(
            problems("---\nname: a\nname: b\ndescription: x\n---\n")[0],
            "s/SKILL.md:3: bad YAML in the front matter: duplicate mapping key: name"
        );
        assert_eq!(problems("---\ndescription: x\n---\n"), ["s/SKILL.md:1: the front matter has no `name`"]);
        assert_eq!(
            problems("---\nname: \"\"\n---\n"),
            ["s/SKILL.md:2: `name` is empty", "s/SKILL.md:1: the front matter has no `description`"]
        );
        assert_eq!(
            problems("---\ndescription: x\nname: Bad_Name\n---\n"),
            ["s/SKILL.md:3: invalid name `Bad_Name`: use only lowercase letters, digits and `-`"]
        );
    }

    #[test]
    fn a_description_over_the_limit_loads_with_a_warning() {
        let long = format!("---\nname: a\ndescription: {}\n---\nbody\n", "x".repeat(1025));
        let skill = parse_skill(&long, Path::new("s/SKILL.md")).unwrap();
        assert_eq!(skill.description.chars().count(), 1025);
        let warnings: Vec<String> = skill.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            ["s/SKILL.md:3: warning: the description is 1025 characters; the Agent Skills format allows 1024 \
              (loaded anyway)"]
        );
        // With an error beside it, the skill is still refused and both are told.
        let nameless = format!("---\ndescription: {}\n---\n", "x".repeat(1025));
        assert_eq!(
            problems(&nameless),
            [
                "s/SKILL.md:1: the front matter has no `name`",
                "s/SKILL.md:2: warning: the description is 1025 characters; the Agent Skills format allows 1024 \
                 (loaded anyway)"
            ]
        );
    }

    #[test]
    fn names_follow_the_agent_skills_rules() {
        assert!(check_name("web-research-2").is_ok());
        for bad in ["-a", "a-", "a--b", "A", "a b", "a.b", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
