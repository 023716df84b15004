//! The server side: every check of RFC 9449 §4.3, replay registration included.

use serde_json::Value;

use crate::error::{Error, JoseError, KeyError, NonceProblem, ProofError};
use crate::jose::algorithm::Algorithm;
use crate::jose::json::{self, Object};
use crate::jose::key_fixes_algorithm;
use crate::jose::key_type::KeyType;
use crate::jose::public_key::PublicKey;
use crate::jose::thumbprint::Thumbprint;
use crate::jose::{base64url, jws};
use crate::proof::htu;
use crate::proof::nonce::NonceEngine;
use crate::proof::options::{ProofOptions, MAX_PROOF_RSA_BITS};
use crate::proof::replay::{
    AsyncReplayStore, Insertion, MemoryReplayStore, ReplayKey, ReplayStore,
};
use crate::proof::request::ProofRequest;
use crate::time::{Clock, UnixTime};

/// Verifies DPoP proofs (RFC 9449 §4.3) and remembers accepted ones so none is accepted twice.
///
/// ```
/// use keybound::{ProofRequest, ProofSigner, ProofVerifier, SigningKey, UnixTime};
///
/// let signer = ProofSigner::new(SigningKey::generate()?);
/// let now = UnixTime::now();
/// let proof = signer.proof("POST", "https://as.example.com/token").sign(now)?;
///
/// let verifier = ProofVerifier::new();
/// let headers = [proof.as_str()]; // every DPoP header value the request carried
/// let request = ProofRequest::new("POST", "https://as.example.com/token", &headers);
/// let verified = verifier.verify(&request, now)?;
/// assert_eq!(verified.thumbprint(), signer.thumbprint());
///
/// // The same proof a second time is a replay.
/// assert!(verifier.verify(&request, now).is_err());
/// # Ok::<(), keybound::Error>(())
/// ```
pub struct ProofVerifier<S = MemoryReplayStore> {
    options: ProofOptions,
    replay: S,
    nonces: Option<NoncePolicy>,
}

/// Where required nonces come from.
enum NoncePolicy {
    /// Stateless HMAC nonces (the normal server case).
    Engine(NonceEngine),
    /// One nonce the server handed out and requires (one-shot checks, scripting).
    Fixed(String),
}

impl NoncePolicy {
    fn issue(&self, now: UnixTime) -> String {
        match self {
            Self::Engine(engine) => engine.issue(now),
            Self::Fixed(nonce) => nonce.clone(),
        }
    }

    /// `Ok(true)` for a current nonce, `Ok(false)` for an older one still accepted.
    fn check(&self, nonce: &str, now: UnixTime) -> Result<bool, NonceProblem> {
        match self {
            Self::Engine(engine) => engine.check(nonce, now),
            Self::Fixed(expected) if expected == nonce => Ok(true),
            Self::Fixed(_) => Err(NonceProblem::Invalid),
        }
    }
}

impl ProofVerifier<MemoryReplayStore> {
    /// A verifier with [`ProofOptions::default`], an in-memory replay store of the default
    /// capacity, and no nonce requirement.
    pub fn new() -> Self {
        Self::with_replay_store(MemoryReplayStore::default())
    }
}

impl Default for ProofVerifier<MemoryReplayStore> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> ProofVerifier<S> {
    /// A verifier that remembers accepted proofs in `replay` (share one store among all the
    /// verifiers, and all the servers, that accept proofs for the same URLs).
    pub fn with_replay_store(replay: S) -> Self {
        Self {
            options: ProofOptions::new(),
            replay,
            nonces: None,
        }
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: ProofOptions) -> Self {
        self.options = options;
        self
    }

    /// Requires a server nonce from `engine` in every proof (RFC 9449 §8, §11.3).
    pub fn with_nonces(mut self, engine: NonceEngine) -> Self {
        self.nonces = Some(NoncePolicy::Engine(engine));
        self
    }

    /// Requires exactly `nonce` — one value the server handed out — in every proof. For
    /// one-shot checks and scripts; servers use [`with_nonces`](Self::with_nonces). Refused if
    /// `nonce` is not `1*NQCHAR` (RFC 9449 §8.1).
    pub fn with_required_nonce(mut self, nonce: impl Into<String>) -> Result<Self, Error> {
        let nonce = nonce.into();
        if !crate::proof::syntax::is_nonce(&nonce) {
            return Err(Error::InvalidArgument("nonce"));
        }
        self.nonces = Some(NoncePolicy::Fixed(nonce));
        Ok(self)
    }

    /// The options in force.
    pub fn options(&self) -> &ProofOptions {
        &self.options
    }

    /// The nonce engine, if nonces are required (to rotate its secret).
    pub fn nonce_engine(&self) -> Option<&NonceEngine> {
        match &self.nonces {
            Some(NoncePolicy::Engine(engine)) => Some(engine),
            _ => None,
        }
    }

    /// A fresh nonce to send in `DPoP-Nonce`, if nonces are required.
    pub fn issue_nonce(&self, now: UnixTime) -> Option<String> {
        self.nonces.as_ref().map(|policy| policy.issue(now))
    }

    /// The replay store.
    pub fn replay_store(&self) -> &S {
        &self.replay
    }

    pub(crate) fn replay_entry(&self, proof: &VerifiedProof) -> (ReplayKey, UnixTime) {
        let key = ReplayKey::new(&proof.thumbprint, &proof.jti);
        let expires = UnixTime::from_secs(self.options.replay_expiry(proof.iat.as_secs()));
        (key, expires)
    }

    /// [`verify`](Self::verify) for a store with an asynchronous API (Redis): the checks run
    /// inline (CPU only, no I/O), then the replay registration is awaited.
    pub async fn verify_async(
        &self,
        request: &ProofRequest<'_>,
        now: UnixTime,
    ) -> Result<VerifiedProof, Error>
    where
        S: AsyncReplayStore,
    {
        let checked = self.check(request, now)?;
        self.register_async(&checked, now).await?;
        Ok(checked)
    }

    /// [`register`](Self::register) through an asynchronous store.
    pub(crate) async fn register_async(
        &self,
        proof: &VerifiedProof,
        now: UnixTime,
    ) -> Result<(), Error>
    where
        S: AsyncReplayStore,
    {
        let (key, expires) = self.replay_entry(proof);
        match AsyncReplayStore::insert_if_absent(&self.replay, &key, expires, now).await? {
            Insertion::Inserted => Ok(()),
            Insertion::AlreadyPresent => Err(ProofError::Replayed.into()),
        }
    }

    /// [`verify`](Self::verify) at the time `clock` reads.
    pub fn verify_with_clock(
        &self,
        request: &ProofRequest<'_>,
        clock: &dyn Clock,
    ) -> Result<VerifiedProof, Error>
    where
        S: ReplayStore,
    {
        self.verify(request, clock.now())
    }

    /// Runs every check of RFC 9449 §4.3 on the request's proof, then records it in the replay
    /// store. Only a proof that passed every check, and was not seen before, comes back.
    pub fn verify(&self, request: &ProofRequest<'_>, now: UnixTime) -> Result<VerifiedProof, Error>
    where
        S: ReplayStore,
    {
        let checked = self.check(request, now)?;
        self.register(&checked, now)?;
        Ok(checked)
    }

    /// Records a checked proof as used; refuses it if it was seen before. Crate-private, like
    /// [`check`](Self::check): outside the crate only [`verify`](Self::verify) is reachable.
    pub(crate) fn register(&self, proof: &VerifiedProof, now: UnixTime) -> Result<(), Error>
    where
        S: ReplayStore,
    {
        let (key, expires) = self.replay_entry(proof);
        match ReplayStore::insert_if_absent(&self.replay, &key, expires, now)? {
            Insertion::Inserted => Ok(()),
            Insertion::AlreadyPresent => Err(ProofError::Replayed.into()),
        }
    }

    /// Every stateless check, without replay registration. Crate-private so that callers
    /// outside the crate cannot skip [`register`](Self::register); the request guard uses it to
    /// register a proof only after the token binding and revocation checks pass.
    pub(crate) fn check(
        &self,
        request: &ProofRequest<'_>,
        now: UnixTime,
    ) -> Result<VerifiedProof, Error> {
        let opts = &self.options;
        // Step 1: exactly one DPoP header. A comma means several values folded into one line
        // (RFC 9110 §5.3); a compact JWS never contains one.
        let proof = match request.dpop_headers {
            [] => return Err(ProofError::MissingHeader.into()),
            [one] => one.trim_matches([' ', '\t']),
            _ => return Err(ProofError::MultipleHeaders.into()),
        };
        if proof.is_empty() {
            return Err(ProofError::MissingHeader.into());
        }
        if proof.contains(',') {
            return Err(ProofError::MultipleHeaders.into());
        }
        if proof.len() > opts.max_proof_len {
            return Err(ProofError::TooLarge.into());
        }

        // Step 2: a well-formed compact JWS with a supported asymmetric `alg` (`none`, HS* and
        // unknown names never parse).
        let jws = jws::Compact::parse(proof, opts.max_json_depth).map_err(ProofError::Jose)?;
        let header = jws.header();

        // Step 4: typ.
        match header.get("typ") {
            None => return Err(ProofError::Jose(JoseError::MissingHeader("typ")).into()),
            Some(Value::String(typ)) if jws::typ_is(typ, "dpop+jwt") => {}
            Some(_) => return Err(ProofError::WrongType.into()),
        }

        // Step 7 (and the key for step 6): a supported public key, no private part, RSA at
        // most 4096 bits.
        let key = match header.get("jwk") {
            None => return Err(ProofError::Jose(JoseError::MissingHeader("jwk")).into()),
            Some(Value::Object(jwk)) => {
                PublicKey::from_jwk_object(jwk).map_err(ProofError::InvalidKey)?
            }
            Some(_) => return Err(ProofError::Jose(JoseError::InvalidHeader("jwk")).into()),
        };
        if let KeyType::Rsa { modulus_bits } = key.key_type() {
            if modulus_bits > MAX_PROOF_RSA_BITS {
                return Err(ProofError::InvalidKey(KeyError::RsaModulusSize {
                    bits: modulus_bits,
                })
                .into());
            }
        }

        // Step 5: `alg` accepted by policy and fixed by the key (RFC 8725 §3.1), before any
        // signature arithmetic.
        key_fixes_algorithm::check(
            jws.algorithm(),
            key.key_type(),
            key.algorithm(),
            opts.algorithms,
        )
        .map_err(ProofError::Jose)?;

        // Step 3: the claims.
        let payload = base64url::decode(jws.payload_b64()).map_err(ProofError::Jose)?;
        let claims = json::parse_object(&payload, opts.max_json_depth).map_err(ProofError::Jose)?;
        let jti = required_str(&claims, "jti")?;
        if jti.is_empty() {
            return Err(ProofError::InvalidClaim("jti").into());
        }
        if jti.len() > opts.max_jti_len {
            return Err(ProofError::JtiTooLong.into());
        }
        let htm = required_str(&claims, "htm")?;
        let htu_claim = required_str(&claims, "htu")?;
        let iat = numeric_date(&claims, "iat")?;

        // Step 8: htm, case-sensitive.
        if htm != request.method {
            return Err(ProofError::MethodMismatch.into());
        }

        // RFC 9449 §4.2: `htu` is the target URI *without* query and fragment parts. A proof
        // that carries either was not made by the rule (and would compare as equal to a URL
        // the client never named), so it is refused rather than trimmed.
        if htu_claim.contains(['?', '#']) {
            return Err(ProofError::InvalidClaim("htu").into());
        }

        // Step 9: htu, after RFC 3986 normalisation of both sides. `normalize` drops the
        // query first, so a claim byte-equal to the URL without its query normalizes exactly
        // as the URL does: one normalization answers for both (same result, same errors).
        let expected = htu::normalize(request.url);
        if htu_claim == htu::without_query_and_fragment(request.url) {
            if expected.is_err() {
                return Err(ProofError::InvalidClaim("htu").into());
            }
        } else {
            let claimed = htu::normalize(htu_claim).map_err(|_| ProofError::InvalidClaim("htu"))?;
            if claimed != expected.map_err(|_| ProofError::UrlMismatch)? {
                return Err(ProofError::UrlMismatch.into());
            }
        }

        // Step 11: iat within [now - max_age - leeway, now + leeway].
        let earliest = now
            .as_secs()
            .saturating_sub(opts.max_age_secs.saturating_add(opts.leeway_secs));
        if iat < earliest {
            return Err(ProofError::TooOld {
                iat,
                now: now.as_secs(),
            }
            .into());
        }
        if iat > now.as_secs().saturating_add(opts.leeway_secs) {
            return Err(ProofError::FromTheFuture {
                iat,
                now: now.as_secs(),
            }
            .into());
        }

        // Step 12: ath binds the proof to the presented access token.
        match (request.access_token, optional_str(&claims, "ath")?) {
            (Some(hash), Some(ath)) => {
                let ath =
                    base64url::decode_array::<32>(ath).map_err(|_| ProofError::AthMismatch)?;
                if &ath != hash.as_bytes() {
                    return Err(ProofError::AthMismatch.into());
                }
            }
            (Some(_), None) => return Err(ProofError::MissingAth.into()),
            (None, Some(_)) => return Err(ProofError::UnexpectedAth.into()),
            (None, None) => {}
        }

        // Step 10: the server's nonce, when the server requires one.
        let mut fresh_nonce = None;
        if let Some(policy) = &self.nonces {
            let current = match optional_str(&claims, "nonce")? {
                None => Err(NonceProblem::Missing),
                Some(nonce) => policy.check(nonce, now),
            };
            match current {
                Ok(true) => {}
                Ok(false) => fresh_nonce = Some(policy.issue(now)),
                Err(problem) => {
                    return Err(Error::UseDpopNonce {
                        problem,
                        nonce: policy.issue(now),
                    })
                }
            }
        }

        // Step 6: the signature, by the embedded key. Last of the stateless checks: the
        // cheap checks above refuse most junk before any elliptic-curve arithmetic.
        jws.verify(&key, opts.algorithms)
            .map_err(ProofError::Jose)?;

        Ok(VerifiedProof {
            alg: jws.algorithm(),
            thumbprint: key.thumbprint(),
            public_key: key,
            jti: jti.to_owned(),
            iat: UnixTime::from_secs(iat),
            htm: htm.to_owned(),
            htu: htu_claim.to_owned(),
            fresh_nonce,
        })
    }
}

impl<S> core::fmt::Debug for ProofVerifier<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProofVerifier")
            .field("options", &self.options)
            .field("nonces_required", &self.nonces.is_some())
            .finish_non_exhaustive()
    }
}

fn optional_str<'a>(claims: &'a Object, name: &'static str) -> Result<Option<&'a str>, ProofError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ProofError::InvalidClaim(name)),
    }
}

fn required_str<'a>(claims: &'a Object, name: &'static str) -> Result<&'a str, ProofError> {
    optional_str(claims, name)?.ok_or(ProofError::MissingClaim(name))
}

fn numeric_date(claims: &Object, name: &'static str) -> Result<u64, ProofError> {
    let value = claims.get(name).ok_or(ProofError::MissingClaim(name))?;
    json::numeric_date(value).ok_or(ProofError::InvalidClaim(name))
}

/// A proof that passed every check of RFC 9449 §4.3 and was recorded as used. Only
/// [`ProofVerifier::verify`] makes one.
#[derive(Clone, Debug)]
#[must_use]
pub struct VerifiedProof {
    alg: Algorithm,
    public_key: PublicKey,
    thumbprint: Thumbprint,
    jti: String,
    iat: UnixTime,
    htm: String,
    htu: String,
    fresh_nonce: Option<String>,
}

impl VerifiedProof {
    /// The proof key's RFC 7638 thumbprint: compare with `cnf.jkt`, or bind a new token to it.
    pub fn thumbprint(&self) -> Thumbprint {
        self.thumbprint
    }

    /// The proof's `alg`.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The proof's public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The proof's `jti`.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The proof's `iat`.
    pub fn issued_at(&self) -> UnixTime {
        self.iat
    }

    /// The proof's `htm`.
    pub fn htm(&self) -> &str {
        &self.htm
    }

    /// The proof's `htu`, as the client wrote it.
    pub fn htu(&self) -> &str {
        &self.htu
    }

    /// A new nonce to send in `DPoP-Nonce` with the successful response, when the proof's
    /// nonce is still accepted but no longer current (RFC 9449 §8.2).
    pub fn fresh_nonce(&self) -> Option<&str> {
        self.fresh_nonce.as_deref()
    }
}
