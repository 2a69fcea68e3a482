//! Builds the web UI (`ui/`) into `OUT_DIR` and generates the table of its files,
//! precompressed, that `src/web.rs` embeds in the binary.
//!
//! The UI is built from its sources on every change to them (Cargo reruns this
//! script when anything under `ui/src`, `ui/public` or the UI's build files
//! changes), never taken from a `ui/dist` left in the tree, so the binary cannot
//! serve a stale UI. It needs Node and npm: `npm ci` when `ui/node_modules` is
//! missing or older than the lockfile, then Vite. Without npm the server is built
//! API-only and says so (a Cargo warning here, a log line at start); a UI that
//! fails to build fails the build.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let ui = manifest.join("../ui");
    let out = PathBuf::from(env("OUT_DIR"));
    for input in [
        "src",
        "public",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", ui.join(input).display());
    }
    let dist = out.join("ui-dist");
    let built = if npm_available() {
        build_ui(&ui, &dist);
        true
    } else {
        println!(
            "cargo:warning=npm not found: coup-server is built without the web UI (API only); install Node 20+ and npm to serve it"
        );
        false
    };
    let mut files = Vec::new();
    if built {
        collect(&dist, &dist, &mut files);
    }
    files.sort();
    let table = generate(&dist, &out, &files);
    std::fs::write(out.join("web_assets.rs"), table).expect("write web_assets.rs");
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by Cargo"))
}

fn npm_available() -> bool {
    Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn build_ui(ui: &Path, dist: &Path) {
    // `npm ci` only when the installed tree is missing or older than the lockfile:
    // it deletes and reinstalls node_modules, which other builds may be using.
    let installed = ui.join("node_modules/.package-lock.json");
    let stale = match (
        modified(&installed),
        modified(&ui.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    };
    if stale {
        run(ui, &["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
    }
    let dist = dist.to_str().expect("OUT_DIR is UTF-8");
    run(
        ui,
        &[
            "run",
            "build",
            "--",
            "--outDir",
            dist,
            "--emptyOutDir",
            "--logLevel",
            "warn",
        ],
    );
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn run(dir: &Path, args: &[&str]) {
    let status = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("npm {}: {e}", args.join(" ")));
    assert!(
        status.success(),
        "npm {} failed in {}",
        args.join(" "),
        dir.display()
    );
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let rel = path.strip_prefix(root).expect("under root");
            let rel = rel.to_str().expect("UTF-8 file name").replace('\\', "/");
            files.push(rel);
        }
    }
}

/// `web_assets.rs`: one `Asset` per file, with gzip and Brotli copies written
/// next to it when they are smaller.
fn generate(dist: &Path, out: &Path, files: &[String]) -> String {
    let compressed = out.join("ui-compressed");
    let mut table = String::from("&[\n");
    for rel in files {
        let source = dist.join(rel);
        let bytes = std::fs::read(&source).expect("read a built file");
        let content_type = content_type(rel);
        let (gzip, br) = if compressible(content_type) {
            let key = rel.replace('/', "__");
            (
                write_if_smaller(&compressed.join(format!("{key}.gz")), gzip(&bytes), &bytes),
                write_if_smaller(
                    &compressed.join(format!("{key}.br")),
                    brotli(&bytes),
                    &bytes,
                ),
            )
        } else {
            (None, None)
        };
        let include = |p: Option<PathBuf>| match p {
            Some(p) => format!(
                "Some(include_bytes!({:?}) as &[u8])",
                p.display().to_string()
            ),
            None => "None".to_owned(),
        };
        let _ = writeln!(
            table,
            "    Asset {{ path: {path:?}, content_type: {content_type:?}, etag: {etag:?}, identity: include_bytes!({source:?}), gzip: {gzip}, br: {br} }},",
            path = format!("/{rel}"),
            etag = format!("\"{:016x}\"", fnv1a(&bytes)),
            source = source.display().to_string(),
            gzip = include(gzip),
            br = include(br),
        );
    }
    table.push(']');
    table
}

fn write_if_smaller(path: &Path, compressed: Vec<u8>, original: &[u8]) -> Option<PathBuf> {
    if compressed.len() >= original.len() {
        return None;
    }
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(path, compressed).expect("write a compressed copy");
    Some(path.to_owned())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli");
    out
}

/// A stable content hash for the ETag (the same bytes give the same tag in
/// every build, so revalidation survives a rebuild that changed nothing).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/manifest")
        || content_type.starts_with("image/svg")
}
