//! The Redis stores over TLS (`rediss://`) against a real `redis-server` started by the tests
//! with `--tls-port` on a free loopback port (plain-text port off, no persistence, killed at the
//! end). The CA, server and client certificates are made at test time with rcgen and written to
//! a temporary directory. Without the binary (or with one built without TLS) the tests say
//! loudly that they were skipped; with `KEYBOUND_REQUIRE_REDIS=1` (as `.ci/run` sets) that is a
//! failure.
//!
//! What is shown: the replay and revocation stores work through a server whose certificate the
//! configured CA issued, and fail closed — `StoreError::Unavailable`, a refused request, never
//! an accepted one — when the CA is not trusted, the certificate names another host, or the
//! server requires a client certificate that is missing or from another CA.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use keybound::{
    AsyncReplayStore, AsyncRevocationStore, Error, Insertion, IssuerKeys, ProofError, ProofSigner,
    ProofVerifier, RedisConfig, RedisReplayStore, RedisRevocationStore, ReplayKey, RequestGuard,
    ResourceRequest, Revocation, SigningKey, StoreError, TokenError, TokenIssuer, TokenRequest,
    TokenVerifier, UnixTime,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const API: &str = "https://api.example.com/orders";

// ---------------------------------------------------------------------------------------------
// Test PKI

/// A certificate authority made for one test.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self {
            pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf certificate for `names` (DNS names or IP addresses) and its key, PEM.
    fn issue(&self, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> (String, String) {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "keybound test");
        params.extended_key_usages = vec![purpose];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn server(&self, names: &[&str]) -> (String, String) {
        self.issue(names, ExtendedKeyUsagePurpose::ServerAuth)
    }

    fn client(&self) -> (String, String) {
        self.issue(&["keybound-client"], ExtendedKeyUsagePurpose::ClientAuth)
    }
}

// ---------------------------------------------------------------------------------------------
// A TLS redis-server

/// Whether client certificates are asked for (`--tls-auth-clients`).
#[derive(Clone, Copy)]
enum ClientAuth {
    /// Verified when presented, not required.
    Optional,
    /// Required.
    Required,
}

/// A `redis-server` child process with TLS only on 127.0.0.1:`port`; killed and its
/// directory removed on drop.
struct TlsRedis {
    port: u16,
    child: Option<Child>,
    dir: PathBuf,
}

fn skip_or_fail(message: &str) {
    assert!(
        std::env::var("KEYBOUND_REQUIRE_REDIS").is_err(),
        "{message}"
    );
    eprintln!("\n*** SKIPPED: {message}; the Redis TLS tests did not run ***\n");
}

impl TlsRedis {
    /// Starts one presenting `server` (certificate and key PEM) and trusting `ca` for client
    /// certificates, or returns `None` (after saying so loudly) when redis-server is missing or
    /// has no TLS.
    fn start(server: &(String, String), ca: &Ca, auth: ClientAuth) -> Option<Self> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            skip_or_fail("redis-server is not on PATH");
            return None;
        }
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "keybound-redis-tls-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, contents: &str| {
            let path = dir.join(name);
            std::fs::write(&path, contents).unwrap();
            path
        };
        let cert = write("server.pem", &server.0);
        let key = write("server-key.pem", &server.1);
        let ca_file = write("ca.pem", &ca.pem);
        let log = dir.join("redis.log");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let auth = match auth {
            ClientAuth::Optional => "optional",
            ClientAuth::Required => "yes",
        };
        let child = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--tls-cert-file")
            .arg(&cert)
            .arg("--tls-key-file")
            .arg(&key)
            .arg("--tls-ca-cert-file")
            .arg(&ca_file)
            .args(["--tls-auth-clients", auth])
            .arg("--logfile")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn redis-server");
        let mut server = Self {
            port,
            child: Some(child),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = server.child.as_mut().unwrap().try_wait().unwrap();
            if let Some(status) = exited {
                let output = server.child.take().unwrap().wait_with_output().unwrap();
                let said = format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stderr),
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
                let lower = said.to_ascii_lowercase();
                if lower.contains("tls") && lower.contains("not supported") {
                    skip_or_fail(&format!(
                        "redis-server has no TLS support ({status}): {said}"
                    ));
                    return None;
                }
                panic!("redis-server exited ({status}): {said}");
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    /// `rediss://{host}:{port}/`.
    fn url(&self, host: &str) -> String {
        format!("rediss://{host}:{}/", self.port)
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// A generous deadline: the test machine may be busy; failures still come at once.
fn config() -> RedisConfig {
    RedisConfig::new()
        .with_prefix("tls-test:")
        .with_timeout(Duration::from_secs(2))
}

fn trusting(ca: &Ca) -> RedisConfig {
    config().with_root_certificates_pem(ca.pem.as_bytes())
}

/// One insertion of a fresh replay key: what the guard does for every proof.
async fn insert(store: &RedisReplayStore, key: &ReplayKey) -> Result<Insertion, StoreError> {
    let now = UnixTime::now();
    store
        .insert_if_absent(key, UnixTime::from_secs(now.as_secs() + 60), now)
        .await
}

fn fresh_key() -> ReplayKey {
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    ReplayKey::new(&client.thumbprint(), &format!("{:?}", Instant::now()))
}

/// Opens a replay store at `url` and asserts that it fails closed.
async fn assert_fails_closed(url: &str, config: &RedisConfig, why: &str) {
    let store = RedisReplayStore::open(url, config).unwrap();
    assert_eq!(
        insert(&store, &fresh_key()).await,
        Err(StoreError::Unavailable),
        "{why}"
    );
    let revocations = RedisRevocationStore::open(url, config).unwrap();
    let now = UnixTime::now();
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    assert_eq!(
        revocations
            .revoke(&Revocation::key(client.thumbprint(), now), now)
            .await,
        Err(StoreError::Unavailable),
        "{why}"
    );
}

type RedisGuard = RequestGuard<RedisReplayStore, RedisRevocationStore>;

fn guard(url: &str, config: &RedisConfig, issuer: &TokenIssuer) -> RedisGuard {
    RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::with_replay_store(
            RedisReplayStore::open(url, config).unwrap(),
        ))
        .with_revocation_store(RedisRevocationStore::open(url, config).unwrap())
}

async fn send(
    guard: &RedisGuard,
    token: &str,
    proof: &str,
) -> Result<keybound::Authorized, keybound::Rejection> {
    let authorization = format!("DPoP {token}");
    let (authz, dpop) = ([authorization.as_str()], [proof]);
    guard
        .check_async(
            &ResourceRequest::new("GET", API, &authz, &dpop),
            UnixTime::now(),
        )
        .await
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn stores_work_over_tls_with_the_test_ca() {
    let ca = Ca::new("keybound test CA");
    let Some(server) = TlsRedis::start(
        &ca.server(&["localhost", "127.0.0.1"]),
        &ca,
        ClientAuth::Optional,
    ) else {
        return;
    };
    // The replay store, by IP address and by name: insert, then the same key is a replay.
    for host in ["127.0.0.1", "localhost"] {
        let store = RedisReplayStore::open(&server.url(host), &trusting(&ca)).unwrap();
        let key = fresh_key();
        assert_eq!(
            insert(&store, &key).await,
            Ok(Insertion::Inserted),
            "{host}"
        );
        assert_eq!(
            insert(&store, &key).await,
            Ok(Insertion::AlreadyPresent),
            "{host}"
        );
    }

    // The whole guard over TLS: accepted once, the same proof is a replay, a revoked key is
    // refused.
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let guard = guard(&server.url("127.0.0.1"), &trusting(&ca), &issuer);
    let token = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
            UnixTime::now(),
        )
        .unwrap()
        .access_token;
    let proof = || {
        client
            .proof("GET", API)
            .with_access_token(&token)
            .sign(UnixTime::now())
            .unwrap()
    };
    let first = proof();
    assert!(send(&guard, &token, &first).await.is_ok());
    let replayed = send(&guard, &token, &first).await.unwrap_err();
    assert_eq!(replayed.error(), &Error::InvalidProof(ProofError::Replayed));
    let now = UnixTime::now();
    guard
        .revocation()
        .revoke(&Revocation::key(client.thumbprint(), now), now)
        .await
        .unwrap();
    let revoked = send(&guard, &token, &proof()).await.unwrap_err();
    assert_eq!(revoked.status(), 401);
    assert_eq!(revoked.error(), &Error::InvalidToken(TokenError::Revoked));
}

#[tokio::test]
async fn an_untrusted_ca_fails_closed() {
    let ca = Ca::new("keybound test CA");
    let Some(server) = TlsRedis::start(
        &ca.server(&["localhost", "127.0.0.1"]),
        &ca,
        ClientAuth::Optional,
    ) else {
        return;
    };
    let url = server.url("127.0.0.1");
    // The platform's trust store does not hold the test CA.
    assert_fails_closed(&url, &config(), "platform roots").await;
    // Only another CA trusted: the platform's store is not consulted either.
    let other = Ca::new("another CA");
    assert_fails_closed(&url, &trusting(&other), "another CA").await;

    // Through the guard: a request is refused with 503, never accepted unchecked.
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let guard = guard(&url, &trusting(&other), &issuer);
    let token = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
            UnixTime::now(),
        )
        .unwrap()
        .access_token;
    let proof = client
        .proof("GET", API)
        .with_access_token(&token)
        .sign(UnixTime::now())
        .unwrap();
    let refused = send(&guard, &token, &proof).await.unwrap_err();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.error(), &Error::Store(StoreError::Unavailable));
}

#[tokio::test]
async fn a_certificate_for_another_host_fails_closed() {
    let ca = Ca::new("keybound test CA");
    let Some(server) = TlsRedis::start(
        &ca.server(&["redis.example.net", "10.9.8.7"]),
        &ca,
        ClientAuth::Optional,
    ) else {
        return;
    };
    for host in ["127.0.0.1", "localhost"] {
        assert_fails_closed(&server.url(host), &trusting(&ca), host).await;
    }
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate_from_the_servers_ca() {
    let ca = Ca::new("keybound test CA");
    let Some(server) = TlsRedis::start(
        &ca.server(&["localhost", "127.0.0.1"]),
        &ca,
        ClientAuth::Required,
    ) else {
        return;
    };
    let url = server.url("127.0.0.1");
    let (cert, key) = ca.client();
    let with_client = trusting(&ca).with_client_certificate_pem(cert, key);
    let store = RedisReplayStore::open(&url, &with_client).unwrap();
    let replay_key = fresh_key();
    assert_eq!(insert(&store, &replay_key).await, Ok(Insertion::Inserted));
    assert_eq!(
        insert(&store, &replay_key).await,
        Ok(Insertion::AlreadyPresent)
    );
    let revocations = RedisRevocationStore::open(&url, &with_client).unwrap();
    let now = UnixTime::now();
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    revocations
        .revoke(&Revocation::key(client.thumbprint(), now), now)
        .await
        .unwrap();

    assert_fails_closed(&url, &trusting(&ca), "no client certificate").await;
    let (cert, key) = Ca::new("another CA").client();
    let foreign = trusting(&ca).with_client_certificate_pem(cert, key);
    assert_fails_closed(&url, &foreign, "client certificate from another CA").await;
}

#[tokio::test]
async fn insecure_and_plaintext_urls_are_refused_before_connecting() {
    // No server needed: nothing is sent anywhere.
    let open = |url: &str, config: &RedisConfig| RedisReplayStore::open(url, config).err();
    let ca = Ca::new("keybound test CA");
    for url in [
        "rediss://127.0.0.1:6380/#insecure",
        "rediss://redis.example.net/#insecure",
    ] {
        assert_eq!(open(url, &trusting(&ca)), Some(StoreError::InsecureTls));
        assert_eq!(
            open(url, &config().allow_plaintext()),
            Some(StoreError::InsecureTls)
        );
    }
    let remote = "redis://redis.example.net:6379/";
    assert_eq!(
        open(remote, &config()),
        Some(StoreError::PlaintextTransport)
    );
    assert_eq!(
        RedisRevocationStore::open(remote, &config()).err(),
        Some(StoreError::PlaintextTransport)
    );
    assert_eq!(open(remote, &config().allow_plaintext()), None);
    assert_eq!(open("redis://127.0.0.1:6379/", &config()), None);
    // A CA for a URL without TLS: the caller meant `rediss://`.
    assert_eq!(
        open("redis://127.0.0.1:6379/", &trusting(&ca)),
        Some(StoreError::InvalidConfig)
    );
    assert_eq!(
        open(
            "rediss://127.0.0.1/",
            &config().with_root_certificates_pem("no PEM here")
        ),
        Some(StoreError::InvalidConfig)
    );
}
