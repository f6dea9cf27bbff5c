//! The shared crate's modules form strict downward layers: no `crate::` or `super::` path in
//! production code runs up to a higher layer, and no two source files need each other. Read off
//! the source text (comments and test modules left out), so a new import that runs back up fails
//! here, with the file and the path named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules, lowest layer first. A module may use its own layer and those below it.
const LAYERS: &[&[&str]] = &[
    &["error", "catalog", "logging", "schema", "cost", "runtime"],
    &["api"],
    &["metrics"],
    &["config"],
    &["bedrock"],
    &["convert"],
    &["keys"],
    &["model_choice"],
    &["stream"],
    &["chat"],
    &["responses"],
    &["tools"],
    &["batch"],
    &["state"],
    &["routes"],
    &["triggers"],
];

type Module = Vec<String>;

fn layer(top: &str) -> usize {
    LAYERS.iter().position(|l| l.contains(&top)).unwrap_or_else(|| panic!("module `{top}` is in no layer of LAYERS"))
}

/// Every source file of `src`, by module path.
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Module = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            found.insert(parts, path);
        }
    }
    found
}

/// The production code of a file: comments and `#[cfg(test)]` modules removed.
fn production_code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// The paths a file names: `crate::a::b` and `super::c` (resolved against `module`), each cut to
/// the longest prefix that is a module.
fn uses(module: &Module, code: &str, all: &BTreeMap<Module, PathBuf>) -> BTreeSet<Module> {
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    for (start, prefix) in [("crate::", None), ("super::", Some(()))] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let begin = from + at;
            from = begin + start.len();
            if begin > 0 && (bytes[begin - 1].is_ascii_alphanumeric() || bytes[begin - 1] == b'_') {
                continue;
            }
            let rest: String =
                code[from..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
            let mut path: Module = match prefix {
                None => Vec::new(),
                // `super` of `a/b.rs` (module a::b) and of `a/b/mod.rs` (also a::b) is `a`.
                Some(()) => module[..module.len().saturating_sub(1)].to_vec(),
            };
            path.extend(rest.split("::").filter(|s| !s.is_empty()).map(str::to_owned));
            let target = (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| all.contains_key(p));
            if let Some(target) = target
                && &target != module
                && !target.starts_with(module)
            {
                out.insert(target);
            }
        }
    }
    out
}

fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let all = modules(&src);
    let mut graph = BTreeMap::new();
    for (module, path) in &all {
        if module.iter().any(|p| p == "tests") {
            continue;
        }
        let code = production_code(&std::fs::read_to_string(path).unwrap());
        graph.insert(module.clone(), uses(module, &code, &all));
    }
    graph
}

#[test]
fn no_module_uses_a_higher_layer() {
    let mut upward = Vec::new();
    for (module, targets) in graph() {
        let Some(top) = module.first() else { continue };
        for target in targets {
            if layer(&target[0]) > layer(top) {
                upward.push(format!("{} uses {}", module.join("::"), target.join("::")));
            }
        }
    }
    assert!(upward.is_empty(), "imports that run up the layers:\n{}", upward.join("\n"));
}

#[test]
fn no_two_files_need_each_other() {
    let graph = graph();
    // Depth-first search for a cycle; a parent's use of its own children (declaring and
    // re-exporting them) is structure, not a dependency, and is not an edge.
    fn visit(
        node: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        path: &mut Vec<Module>,
        done: &mut BTreeSet<Module>,
    ) -> Option<Vec<Module>> {
        if let Some(at) = path.iter().position(|m| m == node) {
            return Some(path[at..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        let cycle = visit(module, &graph, &mut Vec::new(), &mut done);
        let names: Vec<String> = cycle.iter().flatten().map(|m| m.join("::")).collect();
        assert!(cycle.is_none(), "a circle of imports: {}", names.join(" → "));
    }
}

#[test]
fn the_check_sees_an_upward_import() {
    let all: BTreeMap<Module, PathBuf> =
        [vec!["api".to_owned()], vec!["api".to_owned(), "usage".to_owned()], vec!["chat".to_owned()]]
            .into_iter()
            .map(|m| (m, PathBuf::new()))
            .collect();
    let code = production_code("use crate::chat::Planned; // crate::routes\nuse super::usage::Usage;");
    let found = uses(&vec!["api".to_owned(), "response".to_owned()], &code, &all);
    assert_eq!(found, BTreeSet::from([vec!["chat".to_owned()], vec!["api".to_owned(), "usage".to_owned()]]));
}
