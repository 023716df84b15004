//! The client side: signing a fresh DPoP proof for each request (RFC 9449 §4.1, §4.2).

use rand_core::TryCryptoRng;
use serde::Serialize;

use crate::error::Error;
use crate::jose::jws_signer::JwsSigner;
use crate::jose::signing_key::SigningKey;
use crate::jose::thumbprint::{Thumbprint, TokenHash};
use crate::jose::{base64url, jws};
use crate::proof::{htu, syntax};
use crate::time::UnixTime;

/// Random bytes in each `jti`: 128 bits, above RFC 9449 §4.2's 96-bit floor.
const JTI_BYTES: usize = 16;

/// Signs DPoP proofs with one key. The JOSE header (`typ`, `alg`, public `jwk`) is encoded
/// once, when the signer is made.
///
/// ```
/// use keybound::{ProofSigner, SigningKey, UnixTime};
///
/// let signer = ProofSigner::new(SigningKey::generate()?);
/// let proof = signer
///     .proof("GET", "https://api.example.com/orders?page=2")
///     .with_access_token("eyJhbGciOiJFUzI1NiJ9.e30.sig")
///     .sign(UnixTime::now())?;
/// assert_eq!(proof.split('.').count(), 3);
/// # Ok::<(), keybound::Error>(())
/// ```
/// The key is any [`JwsSigner`]: an in-memory [`SigningKey`] (the default) or a key held
/// by an HSM, KMS or OS keystore.
pub struct ProofSigner<K = SigningKey> {
    key: K,
    header_b64: String,
}

impl<K: JwsSigner> ProofSigner<K> {
    /// A signer for `key`.
    pub fn new(key: K) -> Self {
        let header = format!(
            r#"{{"typ":"dpop+jwt","alg":"{}","jwk":{}}}"#,
            key.algorithm(),
            key.public_key().to_jwk()
        );
        Self {
            header_b64: base64url::encode(header.as_bytes()),
            key,
        }
    }

    /// The signing key.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The thumbprint a server will bind tokens to (`cnf.jkt`, `dpop_jkt`).
    pub fn thumbprint(&self) -> Thumbprint {
        self.key.public_key().thumbprint()
    }

    /// Starts a proof for a request with `method` and `url`. `htu` is `url` without its query
    /// and fragment (RFC 9449 §4.2).
    pub fn proof<'a>(&'a self, method: &'a str, url: &'a str) -> ProofBuilder<'a, K> {
        ProofBuilder {
            signer: self,
            method,
            url,
            access_token: None,
            nonce: None,
        }
    }
}

impl<K: JwsSigner> core::fmt::Debug for ProofSigner<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProofSigner")
            .field("jkt", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

/// One proof being built; finish with [`sign`](Self::sign).
#[must_use = "a proof builder does nothing until signed"]
pub struct ProofBuilder<'a, K = SigningKey> {
    signer: &'a ProofSigner<K>,
    method: &'a str,
    url: &'a str,
    access_token: Option<&'a str>,
    nonce: Option<&'a str>,
}

impl<K> core::fmt::Debug for ProofBuilder<'_, K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The access token is a credential: show only whether one is attached.
        f.debug_struct("ProofBuilder")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("access_token", &self.access_token.map(|_| ".."))
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    jti: &'a str,
    htm: &'a str,
    htu: &'a str,
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

impl<'a, K: JwsSigner> ProofBuilder<'a, K> {
    /// Binds the proof to `access_token` with `ath` (RFC 9449 §4.2), for requests to protected
    /// resources.
    pub fn with_access_token(mut self, access_token: &'a str) -> Self {
        self.access_token = Some(access_token);
        self
    }

    /// Includes the server-provided `nonce` (RFC 9449 §8).
    pub fn with_nonce(mut self, nonce: &'a str) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// Signs the proof with `iat = now` and a random `jti` from the operating system.
    pub fn sign(self, now: UnixTime) -> Result<String, Error> {
        self.sign_with_rng(now, &mut getrandom::SysRng)
    }

    /// Signs the proof with `iat = now` and a `jti` drawn from `rng`.
    pub fn sign_with_rng<R: TryCryptoRng + ?Sized>(
        self,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<String, Error> {
        if !syntax::is_token(self.method) {
            return Err(Error::InvalidArgument("method"));
        }
        let htu = htu::without_query_and_fragment(self.url);
        htu::normalize(htu).map_err(|_| Error::InvalidArgument("url"))?;
        if self.nonce.is_some_and(|n| !syntax::is_nonce(n)) {
            return Err(Error::InvalidArgument("nonce"));
        }
        if self.access_token.is_some_and(|t| !syntax::is_token68(t)) {
            return Err(Error::InvalidArgument("access_token"));
        }
        let mut random = [0u8; JTI_BYTES];
        rng.try_fill_bytes(&mut random)
            .map_err(|_| Error::Randomness)?;
        let jti = base64url::encode(&random);
        let claims = Claims {
            jti: &jti,
            htm: self.method,
            htu,
            iat: now.as_secs(),
            ath: self.access_token.map(|t| TokenHash::of(t).to_base64url()),
            nonce: self.nonce,
        };
        // Serializing a struct of strings and integers cannot fail.
        let payload = serde_json::to_vec(&claims).map_err(|_| Error::InvalidArgument("claims"))?;
        jws::sign(&self.signer.header_b64, &payload, &self.signer.key)
    }
}
