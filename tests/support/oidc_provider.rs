//! A throwaway node-oidc-provider for tests (`tests/oidc_provider/provider.mjs`): 127.0.0.1, a
//! port the OS picks, in-memory state, killed on drop (and exiting by itself when this process
//! goes away, since it watches its stdin). Also runs `dpop_proof.mjs` for proofs made by panva's
//! `dpop` and `jose` packages.
//!
//! Without `node` the fixture is unavailable: a loud SKIPPED line and `None`, or a panic when
//! `KEYBOUND_REQUIRE_OIDC` is set (as `.ci/run` sets it).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// How long `provider.mjs` may take to print `READY`.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// `tests/oidc_provider/`.
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc_provider")
}

/// The oldest Node.js the fixture runs on: oidc-provider 9 calls `URL.parse` (Node 20.18+;
/// Debian 12's own `nodejs` 18 is too old). Tested with 20.20.
const MIN_NODE: (u32, u32) = (20, 18);

/// Whether `node` runs, is recent enough, and the npm packages are installed (running `npm ci`
/// once if they are not). Otherwise panics when the fixture is required, or says loudly that
/// the test did not run and returns `None`.
fn ready() -> Option<()> {
    static PROBLEM: Mutex<Option<Option<String>>> = Mutex::new(None);
    let mut problem = PROBLEM.lock().unwrap_or_else(|e| e.into_inner());
    let Some(reason) = problem.get_or_insert_with(install) else {
        return Some(());
    };
    assert!(
        std::env::var_os("KEYBOUND_REQUIRE_OIDC").is_none(),
        "KEYBOUND_REQUIRE_OIDC is set but the node-oidc-provider fixture is unavailable: {reason}"
    );
    // Straight to stderr, past the test harness's capture of `eprintln!`.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: {reason}; the node-oidc-provider interop tests did not run ***\n"
    );
    None
}

/// `None` when the fixture is usable, else why not.
fn install() -> Option<String> {
    let Ok(output) = Command::new("node").arg("--version").output() else {
        return Some("node is not on PATH".into());
    };
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let mut numbers = version
        .trim_start_matches('v')
        .split('.')
        .map(str::parse::<u32>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(major)), Some(Ok(minor))) if (major, minor) >= MIN_NODE => {}
        _ => {
            let (major, minor) = MIN_NODE;
            return Some(format!(
                "node {version} is too old (need {major}.{minor} or later)"
            ));
        }
    }
    let dir = fixture_dir();
    if dir.join("node_modules/oidc-provider/package.json").exists() {
        return None;
    }
    eprintln!("tests/oidc_provider/node_modules is missing: running npm ci");
    let installed = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .is_ok_and(|status| status.success());
    (!installed).then(|| "`npm ci` failed in tests/oidc_provider".into())
}

/// A running `node provider.mjs`.
pub struct OidcProvider {
    issuer: String,
    child: Child,
    // Held open: the provider exits when it closes.
    _stdin: ChildStdin,
    stderr: Arc<Mutex<String>>,
}

impl OidcProvider {
    /// Starts a provider with `config` (see `tests/oidc_provider/README.md`), or returns `None`
    /// (after saying so loudly) when node is missing and the fixture is not required.
    pub fn start(config: &Value) -> Option<Self> {
        ready()?;
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .arg(config.to_string())
            .current_dir(fixture_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn node provider.mjs");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");

        // Both pipes are drained for the provider's whole life, so it never blocks on them.
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = stderr_pipe.read(&mut buffer) {
                let text = String::from_utf8_lossy(&buffer[..n]);
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_str(&text);
            }
        });
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(issuer) = line.strip_prefix("READY ") {
                    let _ = ready_tx.send(issuer.to_owned());
                }
            }
        });

        let mut provider = Self {
            issuer: String::new(),
            child,
            _stdin: stdin,
            stderr,
        };
        match ready_rx.recv_timeout(READY_TIMEOUT) {
            Ok(issuer) => provider.issuer = issuer,
            Err(_) => panic!(
                "provider.mjs did not print READY within {READY_TIMEOUT:?} (config {config}); \
                 its stderr:\n{}",
                provider.stderr()
            ),
        }
        Some(provider)
    }

    /// The issuer identifier, `http://127.0.0.1:<port>` (no trailing slash).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `issuer` + `path` (e.g. `/token`, `/jwks`, `/__admin/rotate`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Whether the provider logs `needle` to stderr within two seconds (it logs every refusal
    /// with its internal detail).
    pub fn logs(&self, needle: &str) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while !self.stderr().contains(needle) {
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// What the provider wrote to stderr so far (for failure messages).
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A DPoP proof made by `dpop_proof.mjs`.
#[derive(Debug)]
pub struct NodeProof {
    /// The compact JWS.
    pub proof: String,
    /// Its header `alg`.
    pub alg: String,
    /// The public JWK in its header.
    pub jwk: Value,
    /// The RFC 7638 thumbprint of `jwk`, base64url.
    pub jkt: String,
}

/// Runs `node jwe.mjs` (panva's `jose`) with `request` on stdin and returns its JSON answer:
/// `{"op":"decrypt","jwe","jwk"}` → `{plaintext, header}`, `{"op":"encrypt","plaintext","jwk",
/// "enc"}` → `{jwe}`. Call only after [`OidcProvider::start`] returned a provider.
pub fn node_jwe(request: &Value) -> Value {
    node_json("jwe.mjs", request)
}

/// Runs `node <script>` in the fixture directory with `request` on stdin; its stdout as JSON.
fn node_json(script: &str, request: &Value) -> Value {
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(fixture_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn node {script}: {e}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write the request");
    let output = child.wait_with_output().expect("run node");
    assert!(
        output.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON from node")
}

/// Runs `node dpop_proof.mjs` with `request` on stdin: `{"alg", "htm", "htu", "accessToken"?,
/// "nonce"?, "keyFile"?}`. Call only after [`OidcProvider::start`] returned a provider.
pub fn node_proof(request: &Value) -> NodeProof {
    let answer = node_json("dpop_proof.mjs", request);
    let text = |name: &str| answer[name].as_str().expect(name).to_owned();
    NodeProof {
        proof: text("proof"),
        alg: text("alg"),
        jkt: text("jkt"),
        jwk: answer["jwk"].clone(),
    }
}
