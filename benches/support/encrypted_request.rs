//! Encrypted access tokens (nested JWTs, issue 15): a decryption key for each key-management
//! case, an ES256 issuer that encrypts its tokens to it, an ES256 client's request with that
//! token, and guards that decide it with the verified-token cache (warm) or without it (cold).
//! Shared by `benches/encrypted_tokens.rs` and `examples/instruction_counts.rs`; each declares
//! `forgetful_store` and `drbg` (`examples/generate_vectors/drbg.rs`) beside it.
//!
//! Every key comes from a fixed seed, so setup costs the same number of instructions in every
//! run (RSA key generation's cost varies with the primes it happens to find). The encryption
//! itself (ephemeral keys, CEK, IV) still draws from the operating system.

// Each user takes the part it needs.
#![allow(dead_code)]

use base64ct::{Base64UrlUnpadded, Encoding};
use keybound::Algorithm;
use keybound::{
    ContentEncryption, DecryptionKey, EcdhCurve, IssuerKeys, KeyManagement, MemoryRevocationStore,
    ProofSigner, ProofVerifier, RequestGuard, ResourceRequest, SigningKey, TokenIssuer,
    TokenRequest, TokenVerifier, UnixTime,
};
use serde_json::Value;

use crate::drbg::Drbg;
use crate::forgetful_store::ForgetfulStore;

pub const ISS: &str = "https://as.example.com";
pub const AUD: &str = "https://api.example.com";
pub const URL: &str = "https://api.example.com/v1/orders";
const SEED: u64 = 9449;

/// One way to encrypt a token: key management on a curve (or RSA-2048) and content encryption.
#[derive(Clone, Copy)]
pub struct Case {
    /// The benchmark / instruction-count name.
    pub name: &'static str,
    pub alg: KeyManagement,
    pub curve: Option<EcdhCurve>,
    pub enc: ContentEncryption,
}

/// The cold-decryption cases of issue 15: every key-management family with `A256GCM`, and
/// `A128CBC-HS256` for one of them. The first is the one the request benchmarks use.
pub const CASES: [Case; 6] = [
    Case {
        name: "ecdh-es+a128kw_p256_a256gcm",
        alg: KeyManagement::EcdhEsA128Kw,
        curve: Some(EcdhCurve::P256),
        enc: ContentEncryption::A256Gcm,
    },
    Case {
        name: "ecdh-es_p256_a256gcm",
        alg: KeyManagement::EcdhEs,
        curve: Some(EcdhCurve::P256),
        enc: ContentEncryption::A256Gcm,
    },
    Case {
        name: "ecdh-es_x25519_a256gcm",
        alg: KeyManagement::EcdhEs,
        curve: Some(EcdhCurve::X25519),
        enc: ContentEncryption::A256Gcm,
    },
    Case {
        name: "ecdh-es+a256kw_p384_a256gcm",
        alg: KeyManagement::EcdhEsA256Kw,
        curve: Some(EcdhCurve::P384),
        enc: ContentEncryption::A256Gcm,
    },
    Case {
        name: "rsa-oaep-256_2048_a256gcm",
        alg: KeyManagement::RsaOaep256,
        curve: None,
        enc: ContentEncryption::A256Gcm,
    },
    Case {
        name: "ecdh-es+a128kw_p256_a128cbc-hs256",
        alg: KeyManagement::EcdhEsA128Kw,
        curve: Some(EcdhCurve::P256),
        enc: ContentEncryption::A128CbcHs256,
    },
];

/// The case named `name`.
pub fn case(name: &str) -> Case {
    *CASES.iter().find(|c| c.name == name).expect("a case name")
}

/// The deterministic private JWK of `case`'s decryption key (with `kid` = the case name).
fn decryption_jwk(case: &Case) -> String {
    let mut rng = Drbg::new(SEED, case.name);
    let mut jwk: Value = match case.curve {
        Some(EcdhCurve::X25519) => {
            let mut d = [0u8; 32];
            rng.fill(&mut d);
            let public = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(d));
            serde_json::json!({
                "kty": "OKP",
                "crv": "X25519",
                "x": Base64UrlUnpadded::encode_string(public.as_bytes()),
                "d": Base64UrlUnpadded::encode_string(&d),
            })
        }
        curve => {
            // A signing key of the same type, for its private JWK members.
            let key = match curve {
                Some(EcdhCurve::P256) => {
                    SigningKey::generate_for_with_rng(Algorithm::Es256, &mut rng)
                }
                Some(_) => SigningKey::generate_for_with_rng(Algorithm::Es384, &mut rng),
                None => SigningKey::generate_rsa_with_rng(Algorithm::Rs256, 2048, &mut rng),
            }
            .expect("key");
            let mut jwk: Value = serde_json::from_str(&key.to_jwk()).expect("JWK");
            let object = jwk.as_object_mut().expect("object");
            object.remove("use");
            object.remove("key_ops");
            jwk
        }
    };
    jwk["alg"] = Value::from(case.alg.as_str());
    jwk["kid"] = Value::from(case.name);
    jwk.to_string()
}

/// `case`'s decryption key (the same key on every call).
pub fn decryption_key(case: &Case) -> DecryptionKey {
    DecryptionKey::from_jwk(&decryption_jwk(case)).expect("decryption JWK")
}

/// A request's token and proof, and its header values.
pub struct Request {
    pub token: String,
    pub proof: String,
    authorization: String,
}

impl Request {
    /// The request, borrowing its headers from `headers` (see [`Self::headers`]).
    pub fn request<'a>(&'a self, headers: &'a ([&'a str; 1], [&'a str; 1])) -> ResourceRequest<'a> {
        ResourceRequest::new("GET", URL, &headers.0, &headers.1)
    }

    /// The `Authorization` and `DPoP` header values.
    pub fn headers(&self) -> ([&str; 1], [&str; 1]) {
        ([self.authorization.as_str()], [self.proof.as_str()])
    }
}

/// An ES256 issuer and an ES256 client (deterministic keys) at `now`.
pub struct EncryptedTokens {
    pub client: ProofSigner,
    now: UnixTime,
}

fn issuer_key() -> SigningKey {
    SigningKey::generate_for_with_rng(Algorithm::Es256, &mut Drbg::new(SEED, "issuer"))
        .expect("issuer key")
}

impl EncryptedTokens {
    pub fn new(now: UnixTime) -> Self {
        let client =
            SigningKey::generate_for_with_rng(Algorithm::Es256, &mut Drbg::new(SEED, "client"))
                .expect("client key");
        Self {
            client: ProofSigner::new(client),
            now,
        }
    }

    fn issuer(&self) -> TokenIssuer {
        TokenIssuer::new(ISS, IssuerKeys::new(issuer_key()))
    }

    fn issue(&self, issuer: &TokenIssuer) -> String {
        issuer
            .issue(
                &TokenRequest::new("alice", AUD, "app", self.client.thumbprint()),
                self.now,
            )
            .expect("token")
            .access_token
    }

    /// A token encrypted for `case`'s key.
    pub fn encrypted_token(&self, case: &Case) -> String {
        let key = decryption_key(case).encryption_key();
        self.issue(&self.issuer().with_encryption(AUD, &key, case.enc))
    }

    /// The client's request with `token`, its proof signed at `now`.
    pub fn request(&self, token: String) -> Request {
        let proof = self
            .client
            .proof("GET", URL)
            .with_access_token(&token)
            .sign(self.now)
            .expect("proof");
        Request {
            authorization: format!("DPoP {token}"),
            token,
            proof,
        }
    }

    /// A request with a plain (signed, not encrypted) token.
    pub fn plain_request(&self) -> Request {
        self.request(self.issue(&self.issuer()))
    }

    /// A request with a token encrypted for `case`.
    pub fn encrypted_request(&self, case: &Case) -> Request {
        self.request(self.encrypted_token(case))
    }

    /// A guard for the issuer that never remembers proofs, with a token cache of `capacity`
    /// (0: every request verifies the token's signature, and decrypts it), decrypting with
    /// `case`'s key when given.
    pub fn guard(
        &self,
        capacity: usize,
        case: Option<&Case>,
    ) -> RequestGuard<ForgetfulStore, MemoryRevocationStore> {
        let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, self.issuer().keys().key_set()))
            .with_proof_verifier(ProofVerifier::with_replay_store(ForgetfulStore))
            .with_token_cache_capacity(capacity);
        match case {
            Some(case) => guard.with_decryption_key(decryption_key(case)),
            None => guard,
        }
    }
}
