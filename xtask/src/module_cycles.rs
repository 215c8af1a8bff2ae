//! The module-cycle check: inside a crate, modules import each other one way,
//! as the crates do. It reads every `crate::`, `super::` and `self::` path
//! in a crate's `src/` (code before `#[cfg(test)]`; `use` trees expanded),
//! resolves each to the module that defines the item (following `pub use`
//! re-exports), and reports every group of modules that reach each other.
//!
//! A module and its ancestors are not edges: a parent declares its children
//! and children use what their parent defines; only modules on different
//! branches of the tree can form a loop worth untangling.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::problem::Problem;

/// Crates not checked yet, with the reason. None today: the store's
/// backends' core (`sqlite/`, `postgres/`) now sits below its areas.
const UNCHECKED_CRATES: &[(&str, &str)] = &[];

/// Loops that existed when this check arrived, each being untangled by the
/// work named: crate folder, the loop as reported, who takes it apart. Add
/// none; a loop that no longer exists is simply not found, and its line can
/// go.
const KNOWN_LOOPS: &[(&str, &str, &str)] = &[(
    "crates/store",
    "actions ↔ approvals ↔ runs",
    "the two per-dialect loops of before the area-first layout, now one: a run moves its action and a \
     person's move of an action stops its runs; an approval's last decision resumes its run",
)];

/// A module's path inside its crate: `["agent", "run"]`; the root is empty.
type ModulePath = Vec<String>;

/// A path of a `use` tree, with its `as` alias.
type UsePath = (Vec<String>, Option<String>);

/// What one module file says: the paths it uses and what it re-exports.
#[derive(Default)]
struct ModuleFile {
    /// Absolute paths (from the crate root) of everything referenced.
    references: Vec<ModulePath>,
    /// `pub use` names: exported name → absolute path of the item.
    reexports: BTreeMap<String, ModulePath>,
    /// `pub use …::*`: modules whose items this one re-exports.
    globs: Vec<ModulePath>,
}

/// Checks the crate whose sources are in `src` (shown as `crate_dir`).
pub fn check(crate_dir: &Path, src: &Path, files: &[PathBuf], problems: &mut Vec<Problem>) {
    let path = crate_dir.to_string_lossy().replace('\\', "/");
    if UNCHECKED_CRATES.iter().any(|(dir, _)| *dir == path) {
        return;
    }
    let mut modules: BTreeMap<ModulePath, ModuleFile> = BTreeMap::new();
    for file in files {
        let Ok(relative) = file.strip_prefix(src) else { continue };
        let Some(module) = module_path(relative) else { continue };
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        modules.insert(module.clone(), parse(&module, &code_before_tests(&text)));
    }
    let mut edges: BTreeMap<ModulePath, BTreeSet<ModulePath>> = BTreeMap::new();
    for (module, file) in &modules {
        for reference in &file.references {
            let Some(target) = resolve(&modules, reference, 0) else { continue };
            if is_prefix(&target, module) || is_prefix(module, &target) {
                continue;
            }
            // The edge joins the two branches where they part: a module
            // using `tools::http::address_policy` from `tools::config` makes
            // `tools::config` depend on `tools::http` as a whole.
            let shared = module.iter().zip(&target).take_while(|(left, right)| left == right).count();
            edges.entry(module[..=shared].to_vec()).or_default().insert(target[..=shared].to_vec());
        }
    }
    for group in loops(&edges) {
        let names: Vec<String> = group.iter().map(|module| module.join("::")).collect();
        if KNOWN_LOOPS.iter().any(|(dir, members, _)| *dir == path && *members == names.join(" ↔ ")) {
            continue;
        }
        problems.push(Problem {
            path: crate_dir.to_path_buf(),
            message: format!(
                "modules import each other in a loop: {}; move the shared piece down so imports point one way",
                names.join(" ↔ ")
            ),
        });
    }
}

/// `agent/run.rs` → `agent::run`, `agent/mod.rs` → `agent`, `lib.rs` → the
/// root; `None` for files of other crate roots (`bin/`).
fn module_path(relative: &Path) -> Option<ModulePath> {
    let mut segments: Vec<String> = relative.iter().map(|segment| segment.to_string_lossy().into_owned()).collect();
    if segments.first().is_some_and(|first| first == "bin") {
        return None;
    }
    let last = segments.pop()?;
    let stem = last.strip_suffix(".rs")?;
    let is_root = segments.is_empty() && (stem == "lib" || stem == "main");
    if stem != "mod" && !is_root {
        segments.push(stem.to_string());
    }
    Some(segments)
}

/// The code of a file without comment lines and without its test module
/// (by convention last, after `#[cfg(test)]`).
fn code_before_tests(text: &str) -> String {
    let mut code = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if !trimmed.starts_with("//") {
            code.push_str(line);
            code.push('\n');
        }
    }
    code
}

fn parse(module: &ModulePath, code: &str) -> ModuleFile {
    let mut file = ModuleFile::default();
    let bytes = code.as_bytes();
    let mut index = 0;
    while index < code.len() {
        let rest = &code[index..];
        let after_identifier = index > 0 && (is_identifier_byte(bytes[index - 1]) || bytes[index - 1] == b'$');
        let starts_path = ["crate::", "super::", "self::"].iter().any(|prefix| rest.starts_with(prefix));
        if starts_path && !after_identifier {
            let consumed = record(module, rest, is_pub_use(&code[..index]), false, &mut file);
            index += consumed.max(1);
            continue;
        }
        // `pub use child::Item;` in a module re-exports from its own child.
        if rest.starts_with("use ") && !after_identifier && is_pub(&code[..index]) {
            let tree = rest["use ".len()..].trim_start();
            let offset = rest.len() - tree.len();
            let anchored = ["crate::", "super::", "self::", "::"].iter().any(|prefix| tree.starts_with(prefix));
            if !anchored {
                index += offset + record(module, tree, true, true, &mut file).max(1);
                continue;
            }
        }
        index += rest.chars().next().map_or(1, char::len_utf8);
    }
    file
}

/// Records the path or `use` tree at the start of `text` (relative to the
/// module itself when `relative`); returns the bytes read.
fn record(module: &ModulePath, text: &str, exported: bool, relative: bool, file: &mut ModuleFile) -> usize {
    let (trees, consumed) = use_tree(text);
    for (mut path, alias) in trees {
        if relative {
            path.insert(0, "self".to_string());
        }
        let Some(absolute) = absolute(module, &path) else { continue };
        if exported {
            match path.last().map(String::as_str) {
                Some("*") => file.globs.push(absolute[..absolute.len() - 1].to_vec()),
                Some(name) => {
                    file.reexports.insert(alias.unwrap_or_else(|| name.to_string()), absolute.clone());
                }
                None => {}
            }
        }
        file.references.push(absolute);
    }
    consumed
}

/// The words of the statement `before` ends in (after its last `;`, `{` or `}`).
fn statement_words(before: &str) -> Vec<&str> {
    before.rsplit([';', '{', '}']).next().unwrap_or_default().split_whitespace().collect()
}

/// Whether `before` ends with a visibility (`pub`, `pub(crate)`).
fn is_pub(before: &str) -> bool {
    statement_words(before).last().is_some_and(|word| word.starts_with("pub"))
}

/// Whether the path starting after `before` is the tree of a `pub use`.
fn is_pub_use(before: &str) -> bool {
    let words = statement_words(before);
    words.len() >= 2 && words[words.len() - 1] == "use" && words[words.len() - 2].starts_with("pub")
}

/// Reads a path or `use` tree at the start of `text`: every full path with
/// its `as` alias, and how many bytes were read.
fn use_tree(text: &str) -> (Vec<UsePath>, usize) {
    let mut segments = Vec::new();
    let mut index = 0;
    loop {
        let identifier_end = text[index..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '*'))
            .map_or(text.len(), |end| index + end);
        if identifier_end > index {
            segments.push(text[index..identifier_end].to_string());
            index = identifier_end;
        }
        if text[index..].starts_with("::") {
            index += 2;
            if text[index..].starts_with('{') {
                let (group, consumed) = group(&text[index + 1..]);
                let trees = group
                    .into_iter()
                    .map(|(mut path, alias)| {
                        let mut full = segments.clone();
                        full.append(&mut path);
                        (full, alias)
                    })
                    .collect();
                return (trees, index + 1 + consumed);
            }
            continue;
        }
        break;
    }
    let rest = &text[index..];
    let alias = rest.trim_start().strip_prefix("as ").map(|after| {
        let after = after.trim_start();
        after[..after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len())].to_string()
    });
    (vec![(segments, alias)], index)
}

/// The items of a `{…}` group (after its `{`), and the bytes up to its `}`.
fn group(text: &str) -> (Vec<UsePath>, usize) {
    let mut trees = Vec::new();
    let mut index = 0;
    while index < text.len() {
        let rest = &text[index..];
        let skipped = rest.len() - rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',').len();
        index += skipped;
        if text[index..].starts_with('}') {
            return (trees, index + 1);
        }
        let (mut items, consumed) = use_tree(&text[index..]);
        trees.append(&mut items);
        index += consumed.max(1);
        // Skip an `as alias` (already read) up to the next `,` or `}`.
        let rest = &text[index..];
        index += rest.find([',', '}']).unwrap_or(rest.len());
    }
    (trees, index)
}

/// A path written in `module`, from the crate root (`crate::`, `self::`,
/// `super::`); `None` when it climbs above the root.
fn absolute(module: &ModulePath, path: &[String]) -> Option<ModulePath> {
    let mut segments = path.iter().peekable();
    let mut base: ModulePath = match segments.next().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("self") => module.clone(),
        Some("super") => module.get(..module.len().checked_sub(1)?)?.to_vec(),
        _ => return None,
    };
    while segments.peek().is_some_and(|segment| *segment == "super") {
        segments.next();
        base.pop()?;
    }
    base.extend(segments.filter(|segment| *segment != "self").cloned());
    Some(base)
}

/// The module that defines what `path` names: its longest module prefix,
/// followed through that module's re-exports.
fn resolve(modules: &BTreeMap<ModulePath, ModuleFile>, path: &ModulePath, depth: usize) -> Option<ModulePath> {
    let length = (0..=path.len()).rev().find(|length| modules.contains_key(&path[..*length]))?;
    let module = path[..length].to_vec();
    let Some(name) = path.get(length) else { return Some(module) };
    if depth > 8 {
        return Some(module);
    }
    let file = &modules[&module];
    if let Some(target) = file.reexports.get(name) {
        let mut target = target.clone();
        target.extend(path[length + 1..].iter().cloned());
        return resolve(modules, &target, depth + 1);
    }
    for glob in &file.globs {
        let mut target = glob.clone();
        target.extend(path[length..].iter().cloned());
        if let Some(found) = resolve(modules, &target, depth + 1)
            && found != *glob
        {
            return Some(found);
        }
    }
    Some(module)
}

fn is_prefix(prefix: &ModulePath, path: &ModulePath) -> bool {
    path.starts_with(prefix)
}

fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Groups of two or more modules that reach each other (strongly connected
/// components), each sorted.
fn loops(edges: &BTreeMap<ModulePath, BTreeSet<ModulePath>>) -> Vec<Vec<ModulePath>> {
    let nodes: BTreeSet<&ModulePath> = edges.keys().chain(edges.values().flatten()).collect();
    let reach = |from: &ModulePath| -> BTreeSet<ModulePath> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(node) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&ModulePath, BTreeSet<ModulePath>> =
        nodes.iter().map(|node| (*node, reach(node))).collect();
    let mut grouped = BTreeSet::new();
    let mut groups = Vec::new();
    for node in &nodes {
        if grouped.contains(*node) || !reachable[node].contains(*node) {
            continue;
        }
        let group: Vec<ModulePath> = nodes
            .iter()
            .filter(|other| reachable[node].contains(**other) && reachable[**other].contains(*node))
            .map(|other| (*other).clone())
            .collect();
        grouped.extend(group.iter().cloned());
        groups.push(group);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(module: &[&str], code: &str) -> Vec<String> {
        let module: ModulePath = module.iter().map(ToString::to_string).collect();
        parse(&module, code).references.iter().map(|path| path.join("::")).collect()
    }

    #[test]
    fn use_trees_expand_to_absolute_paths() {
        let found = paths(
            &["agent", "run"],
            "use super::steps::{replay, NextMove as Move};\nuse crate::tools::{self, http::{Fetch}};\n\
             let x = super::super::clock::now(); $crate::hidden::X;",
        );
        assert_eq!(
            found,
            ["agent::steps::replay", "agent::steps::NextMove", "tools", "tools::http::Fetch", "clock::now"]
        );
    }

    #[test]
    fn a_loop_through_a_reexport_is_found_and_a_parent_is_no_edge() {
        let root = std::env::temp_dir().join(format!("steward-cycles-{}", std::process::id()));
        let src = root.join("src");
        std::fs::create_dir_all(src.join("tools")).unwrap();
        let write = |name: &str, text: &str| std::fs::write(src.join(name), text).unwrap();
        write("lib.rs", "//! Root.\npub mod tools;\npub mod usecases;\n");
        write("tools/mod.rs", "//! Tools.\nmod config;\nmod http;\npub use config::ToolsConfig;\n");
        write("tools/config.rs", "//! Config.\nuse super::http::HttpSettings;\npub struct ToolsConfig;\n");
        write("tools/http.rs", "//! Http.\nuse crate::tools::ToolsConfig;\npub struct HttpSettings;\n");
        write("usecases.rs", "//! Uses.\nuse crate::tools::ToolsConfig;\n#[cfg(test)]\nuse crate::usecases;\n");
        let files: Vec<PathBuf> = ["lib.rs", "tools/mod.rs", "tools/config.rs", "tools/http.rs", "usecases.rs"]
            .iter()
            .map(|name| src.join(name))
            .collect();
        let mut problems = Vec::new();
        check(Path::new("crates/x"), &src, &files, &mut problems);
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].contains("tools::config ↔ tools::http"), "{messages:?}");
        std::fs::remove_dir_all(root).ok();
    }
}
