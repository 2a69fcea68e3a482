//! Rules of the code base that no compiler checks: every Rust source file of
//! the workspace opens with a `//!` doc saying what it is for (as
//! rust-analyzer's `xtask/src/tidy.rs` asks of its own); no type documented by
//! an OpenAPI schema uses a serde attribute utoipa does not read.

use std::path::{Path, PathBuf};

/// The workspace's Rust files, outside build output, installed packages and
/// vendored third-party crates (`vendor/`, kept as published upstream).
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a directory") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if !(name.starts_with('.')
                || name == "target"
                || name == "node_modules"
                || name == "vendor")
            {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// The workspace's Rust files, checked to be the workspace.
fn workspace_files() -> (PathBuf, Vec<PathBuf>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(
        files.len() > 100,
        "found only {} files: is {} the workspace?",
        files.len(),
        root.display()
    );
    (root, files)
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let (root, files) = workspace_files();
    let undocumented: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).expect("read a source file");
            !text.starts_with("//!")
        })
        .map(|path| {
            path.strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "these files do not open with a `//!` doc: {undocumented:?}"
    );
}

/// utoipa 6 reads `rename_all` but not `rename_all_fields`: a schema derived from
/// an enum with it names the variants' fields in snake case while the wire has
/// them in camel case (the REST document's `ChatChange` did). Such an enum puts
/// `#[serde(rename_all = "camelCase")]` on each struct variant instead.
#[test]
fn no_schema_type_renames_fields_where_utoipa_cannot_see() {
    let (root, files) = workspace_files();
    let mut offenders = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read a source file");
        let lines: Vec<&str> = text.lines().collect();
        for (at, line) in lines.iter().enumerate() {
            let attribute = line.trim_start().starts_with("rename_all_fields")
                || (line.contains("#[serde(") && line.contains("rename_all_fields"));
            if !attribute {
                continue;
            }
            // The attributes of the item this line belongs to: up to the item.
            let start = lines[..at]
                .iter()
                .rposition(|l| {
                    !(l.starts_with("#[") || l.starts_with("    ") || l.starts_with(")]"))
                })
                .map_or(0, |p| p + 1);
            if lines[start..at].iter().any(|l| l.contains("ToSchema")) {
                let name = path.strip_prefix(&root).unwrap_or(path).display();
                offenders.push(format!("{name}:{}", at + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "rename_all_fields on a ToSchema type (utoipa ignores it): {offenders:?}"
    );
}
