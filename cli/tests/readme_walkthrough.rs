//! The README's command-line walkthrough, run exactly as written (issue 16).
//!
//! The `sh` block right after the `<!-- readme-walkthrough: … -->` marker in README.md is read
//! from the file at test time (no copy that could drift) and run by `bash` under
//! `set -euo pipefail`, in a fresh empty directory, with `PATH` starting at a directory that
//! holds only the two binaries the README has the reader install:
//!
//! - `keybound`: this package's binary (`CARGO_BIN_EXE_keybound`);
//! - `axum_api`: the root package's example, built here with
//!   `cargo build --example axum_api --features axum`. `cargo test --workspace` builds the root
//!   package without the `axum` feature, so the example (`required-features = ["axum"]`) is not
//!   among that run's artifacts, and a binary left in `target/` by an earlier build may be stale.
//!   Cargo itself says where the fresh binary is (`--message-format json`).
//!
//! The block starts the server itself (`axum_api jwks.json 127.0.0.1:3000 &`), so the test needs
//! that port free and checks it first; the whole process group (bash and the server it put in
//! the background) is killed at the end, whatever happened. Every line must succeed (`curl
//! --fail` included); then the output must hold the server's "listening" line, the orders line
//! that `curl` printed, and two `verify-request` answers, both `"valid":true`. A missing `bash`,
//! `curl` or free port is a failure, not a skip (`.ci/run` installs `curl` when missing).
#![cfg(unix)]

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The line right before the walkthrough's fenced block in README.md.
const MARKER: &str =
    "<!-- readme-walkthrough: cli/tests/readme_walkthrough.rs runs the next sh block verbatim -->";
/// The address the walkthrough starts the example API on.
const ADDR: &str = "127.0.0.1:3000";
/// Generous: a 3072-bit RSA key generation and a dozen one-shot processes on a busy machine.
const TIMEOUT: Duration = Duration::from_secs(300);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_path_buf()
}

/// The lines between the marker's "```sh" and the closing "```", exactly as in README.md.
fn walkthrough_block(readme: &str) -> String {
    let lines: Vec<&str> = readme.lines().collect();
    let markers: Vec<usize> = (0..lines.len()).filter(|&i| lines[i] == MARKER).collect();
    assert_eq!(
        markers.len(),
        1,
        "README.md holds the marker once: {MARKER}"
    );
    let open = markers[0] + 1;
    assert_eq!(
        lines.get(open),
        Some(&"```sh"),
        "the marker precedes a ```sh fence"
    );
    let close = (open + 1..lines.len())
        .find(|&i| lines[i] == "```")
        .expect("the walkthrough's ```sh block is closed");
    let block = lines[open + 1..close].join("\n") + "\n";
    for needed in [
        "axum_api jwks.json 127.0.0.1:3000 &",
        "curl ",
        "keybound verify-request ",
    ] {
        assert!(block.contains(needed), "the walkthrough runs `{needed}`");
    }
    block
}

/// Variables cargo sets for a test process that a nested `cargo build` must not inherit.
const SET_BY_CARGO_PREFIXES: [&str; 4] = [
    "CARGO_PKG_",
    "CARGO_MANIFEST_",
    "CARGO_CRATE_",
    "CARGO_BIN_",
];
const SET_BY_CARGO: [&str; 4] = [
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// Builds the example API and returns the path cargo reports for its executable.
fn build_axum_api() -> PathBuf {
    let mut cargo = Command::new(env!("CARGO"));
    // Without the variables cargo sets for this test process (CARGO_MANIFEST_DIR, CARGO_PKG_NAME,
    // …): build scripts that watch them (ring's) would otherwise see a change and rebuild, here
    // and again in the next ordinary `cargo build`.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if SET_BY_CARGO_PREFIXES.iter().any(|p| name.starts_with(p))
            || SET_BY_CARGO.contains(&&*name)
        {
            cargo.env_remove(&*name);
        }
    }
    let output = cargo
        .arg("build")
        .arg("--manifest-path")
        .arg(repo_root().join("Cargo.toml"))
        .args([
            "-p",
            "keybound",
            "--example",
            "axum_api",
            "--features",
            "axum",
            "--message-format",
            "json",
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build --example axum_api");
    assert!(
        output.status.success(),
        "cargo build --example axum_api --features axum failed"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == "axum_api"
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the axum_api executable")
}

/// Kills the script's whole process group (bash and the background server) when dropped,
/// so a failed assertion or a panic never leaves the server holding the port.
struct ProcessGroup(Child);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // The group id is bash's pid (`process_group(0)`); bash's own `kill` builtin, since
        // bash is required anyway. Errors are ignored: the group may be gone already.
        let _ = Command::new("bash")
            .args(["-c", &format!("kill -KILL -- -{} 2>/dev/null", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

fn require_tool(name: &str, arg: &str) {
    let found = Command::new(name)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        found,
        "the README walkthrough needs `{name}` on PATH (.ci/run installs it when missing)"
    );
}

#[test]
fn readme_walkthrough_runs_as_written() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("read README.md");
    let block = walkthrough_block(&readme);
    require_tool("bash", "--version");
    require_tool("curl", "--version");
    // The block starts its own server on ADDR: another listener there would answer instead.
    drop(std::net::TcpListener::bind(ADDR).unwrap_or_else(|e| {
        panic!("the README walkthrough starts its API on {ADDR}, which is taken: {e}")
    }));
    let axum_api = build_axum_api();

    let root = std::env::temp_dir().join(format!(
        "keybound-readme-walkthrough-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    let (bin, work) = (root.join("bin"), root.join("work"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_keybound"), bin.join("keybound")).unwrap();
    std::os::unix::fs::symlink(&axum_api, bin.join("axum_api")).unwrap();
    let script = root.join("walkthrough.sh");
    std::fs::write(&script, format!("set -euo pipefail\n{block}")).unwrap();
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();

    // Output to files, not pipes: the background server keeps its copy of stdout open.
    let (stdout_path, stderr_path) = (root.join("stdout"), root.join("stderr"));
    let child = Command::new("bash")
        .arg(&script)
        .current_dir(&work)
        .env("PATH", &path)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(File::create(&stderr_path).unwrap())
        .process_group(0)
        .spawn()
        .expect("start bash");
    let mut group = ProcessGroup(child);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = group.0.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(group);
    let stdout = std::fs::read_to_string(&stdout_path).unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    let report = format!(
        "script {}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        script.display()
    );
    match status {
        None => panic!("the walkthrough did not finish in {TIMEOUT:?}\n{report}"),
        Some(status) => assert!(
            status.success(),
            "the walkthrough failed: {status}\n{report}"
        ),
    }

    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.contains(&format!("listening on http://{ADDR}").as_str()),
        "the example API started\n{report}"
    );
    assert!(
        lines.contains(&"orders of alice (client keybound-cli)"),
        "curl printed the orders line\n{report}"
    );
    // `verify-request` prints one JSON object with "valid"; `inspect` prints "verified".
    let verdicts: Vec<Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|object| object.get("valid").cloned())
        .collect();
    assert_eq!(
        verdicts,
        [Value::Bool(true), Value::Bool(true)],
        "both verify-request lines say \"valid\":true\n{report}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}
