//! One error type for the crate, and the HTTP answer each error stands for.
//!
//! Errors carry typed context only (`&'static str` names, numbers the server computed); no
//! error ever echoes text from a proof, a token or a header, so an error can be logged or
//! shown without leaking or reflecting attacker input.

use core::fmt;

/// Where an error is answered: the two server roles answer the same failure differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// The authorization server's token endpoint (RFC 9449 §5): errors are 400 responses with
    /// a JSON body (RFC 6749 §5.2).
    Token,
    /// A protected resource (RFC 9449 §7): errors are 401 responses with a
    /// `WWW-Authenticate: DPoP …` challenge (RFC 6750 §3).
    Resource,
}

/// The `error` value of an OAuth error response or `WWW-Authenticate` challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request` (RFC 6750 §3.1): the request itself is malformed.
    InvalidRequest,
    /// `invalid_token` (RFC 6750 §3.1): the access token is bad, expired, revoked or unbound.
    InvalidToken,
    /// `invalid_dpop_proof` (RFC 9449 §5, §7.1): the DPoP proof is missing or fails a check.
    InvalidDpopProof,
    /// `use_dpop_nonce` (RFC 9449 §8, §9): retry with the nonce in the `DPoP-Nonce` header.
    UseDpopNonce,
    /// `insufficient_scope` (RFC 6750 §3.1): the token lacks a scope the resource needs.
    InsufficientScope,
    /// `invalid_grant` (RFC 6749 §5.2): the refresh token is unknown, expired, reused or bound
    /// to another key.
    InvalidGrant,
    /// `temporarily_unavailable` (RFC 6749 §4.1.2.1): a store the check depends on is out of
    /// service; the request was refused, never waved through. Used at the token endpoint; a
    /// resource answers 503 with a challenge without `error`.
    TemporarilyUnavailable,
}

impl ErrorCode {
    /// The registered string form, e.g. `"invalid_dpop_proof"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidGrant => "invalid_grant",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every failure of this crate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The DPoP proof fails a check of RFC 9449 §4.3.
    InvalidProof(ProofError),
    /// The server requires a nonce (RFC 9449 §8) and the proof carries none, or a stale or
    /// unknown one. Answer with `nonce` in a `DPoP-Nonce` header; the client retries once.
    UseDpopNonce {
        /// What was wrong with the proof's nonce.
        problem: NonceProblem,
        /// A fresh nonce for the client to use (server-generated, safe to send).
        nonce: String,
    },
    /// The access token fails a check (RFC 9068 §4, RFC 9449 §6, §7): `invalid_token`.
    InvalidToken(TokenError),
    /// The request is malformed: several `Authorization` headers, or one that is not
    /// `<scheme> <token68>` (RFC 6750 §3.1): `invalid_request`, HTTP 400.
    InvalidRequest(RequestError),
    /// The request carries no credentials this server understands: HTTP 401 with a challenge
    /// and no `error` (RFC 6750 §3).
    NoCredentials,
    /// The token is valid but lacks a scope the resource requires: `insufficient_scope`,
    /// HTTP 403 (RFC 6750 §3.1).
    InsufficientScope,
    /// A refresh token cannot be redeemed: `invalid_grant` (RFC 6749 §5.2).
    InvalidGrant(GrantError),
    /// A key could not be imported or used (JWK syntax, curve, point, private part).
    Key(KeyError),
    /// A state store (replay, revocation) could not answer; the request is refused.
    Store(StoreError),
    /// An authorization server this server depends on (discovery, JWKS, introspection) could
    /// not give a usable answer; the request is refused with 503, never 401 (fail closed).
    Upstream(UpstreamError),
    /// The caller passed an argument this crate cannot use (a local programming or
    /// configuration error, never attacker input). The string names the argument.
    InvalidArgument(&'static str),
    /// A URL the caller configured is plain `http` to a host that is not loopback: tokens and
    /// proofs would travel in the clear. The string names the argument; each API that checks
    /// offers an explicitly named insecure option (e.g. `PublicUrlPolicy::insecure_http`).
    InsecureUrl(&'static str),
    /// The operating system's random number generator failed.
    Randomness,
    /// An external signer (HSM, KMS, keystore) failed to sign.
    Signer,
}

impl Error {
    /// The `error` code this failure answers with at `endpoint`, if any.
    pub fn code(&self, endpoint: Endpoint) -> Option<ErrorCode> {
        match self {
            Self::InvalidProof(ProofError::MultipleHeaders) if endpoint == Endpoint::Resource => {
                Some(ErrorCode::InvalidRequest)
            }
            Self::InvalidProof(_) => Some(ErrorCode::InvalidDpopProof),
            Self::UseDpopNonce { .. } => Some(ErrorCode::UseDpopNonce),
            Self::InvalidToken(_) => Some(ErrorCode::InvalidToken),
            Self::InvalidRequest(_) => Some(ErrorCode::InvalidRequest),
            Self::NoCredentials => None,
            Self::InsufficientScope => Some(ErrorCode::InsufficientScope),
            Self::InvalidGrant(_) => Some(ErrorCode::InvalidGrant),
            // RFC 6750 §3.1 registers no resource-server code for "try later": a resource
            // answers 503 with a bare challenge; the token endpoint uses the RFC 6749 code.
            Self::Store(_) | Self::Upstream(_) if endpoint == Endpoint::Resource => None,
            Self::Store(_) | Self::Upstream(_) => Some(ErrorCode::TemporarilyUnavailable),
            Self::Key(_)
            | Self::InvalidArgument(_)
            | Self::InsecureUrl(_)
            | Self::Randomness
            | Self::Signer => None,
        }
    }

    /// The HTTP status this failure answers with at `endpoint`.
    pub fn status(&self, endpoint: Endpoint) -> u16 {
        match self {
            Self::NoCredentials => return 401,
            Self::Store(StoreError::KeyQuotaExceeded { .. }) => return 429,
            Self::Store(_) | Self::Upstream(_) => return 503,
            _ => {}
        }
        match self.code(endpoint) {
            Some(ErrorCode::InvalidRequest) => 400,
            Some(ErrorCode::InsufficientScope) => 403,
            Some(ErrorCode::TemporarilyUnavailable) => 503,
            Some(_) => match endpoint {
                Endpoint::Token => 400,
                Endpoint::Resource => 401,
            },
            None => 500,
        }
    }

    /// A short, fixed description for `error_description`; it never contains request data.
    pub fn description(&self) -> &'static str {
        match self {
            Self::InvalidProof(e) => e.description(),
            Self::UseDpopNonce { problem, .. } => problem.description(),
            Self::InvalidToken(e) => e.description(),
            Self::InvalidRequest(e) => e.description(),
            Self::NoCredentials => "authentication required",
            Self::InsufficientScope => "insufficient scope",
            Self::InvalidGrant(e) => e.description(),
            Self::Key(e) => e.description(),
            Self::Store(e) => e.description(),
            Self::Upstream(e) => e.description(),
            Self::InvalidArgument(_) => "invalid argument",
            Self::InsecureUrl(_) => "insecure url",
            Self::Randomness => "random number generator failure",
            Self::Signer => "signer failure",
        }
    }

    /// A stable snake_case name for the failed check, for logs, metrics and scripts.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidProof(e) => e.reason(),
            Self::UseDpopNonce { problem, .. } => problem.reason(),
            Self::InvalidToken(e) => e.reason(),
            Self::InvalidRequest(e) => e.reason(),
            Self::NoCredentials => "no_credentials",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidGrant(e) => e.reason(),
            Self::Key(e) => e.reason(),
            Self::Store(e) => e.reason(),
            Self::Upstream(e) => e.reason(),
            Self::InvalidArgument(_) => "invalid_argument",
            Self::InsecureUrl(_) => "insecure_url",
            Self::Randomness => "randomness",
            Self::Signer => "signer_failure",
        }
    }

    /// The `Retry-After` seconds to send, if this answer carries one (a key over its share of
    /// the replay store, HTTP 429).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Store(StoreError::KeyQuotaExceeded { retry_after_secs }) => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    /// The nonce to send in a `DPoP-Nonce` response header, if this answer carries one.
    pub fn dpop_nonce(&self) -> Option<&str> {
        match self {
            Self::UseDpopNonce { nonce, .. } => Some(nonce),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidProof(e) => write!(f, "invalid DPoP proof: {e}"),
            Self::UseDpopNonce { problem, .. } => write!(f, "DPoP nonce required: {problem}"),
            Self::InvalidToken(e) => write!(f, "invalid access token: {e}"),
            Self::InvalidRequest(e) => write!(f, "invalid request: {e}"),
            Self::NoCredentials => f.write_str("no credentials"),
            Self::InsufficientScope => f.write_str("insufficient scope"),
            Self::InvalidGrant(e) => write!(f, "invalid grant: {e}"),
            Self::Key(e) => write!(f, "unusable key: {e}"),
            Self::Store(e) => write!(f, "store failure: {e}"),
            Self::Upstream(e) => write!(f, "authorization server unavailable: {e}"),
            Self::InvalidArgument(name) => write!(f, "invalid argument: {name}"),
            Self::InsecureUrl(name) => write!(
                f,
                "insecure URL for {name}: https is required (http only to a loopback host)"
            ),
            Self::Randomness => f.write_str("the system random number generator failed"),
            Self::Signer => f.write_str("the external signer failed"),
        }
    }
}

/// `Display` is the whole message, causes included; `source()` hands out the typed cause for
/// code that walks the chain (an error reporter that prints every level repeats the inner text).
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidProof(e) => Some(e),
            Self::InvalidToken(e) => Some(e),
            Self::InvalidRequest(e) => Some(e),
            Self::InvalidGrant(e) => Some(e),
            Self::Key(e) => Some(e),
            Self::Store(e) => Some(e),
            Self::Upstream(e) => Some(e),
            Self::UseDpopNonce { problem, .. } => Some(problem),
            Self::NoCredentials
            | Self::InsufficientScope
            | Self::InvalidArgument(_)
            | Self::InsecureUrl(_)
            | Self::Randomness
            | Self::Signer => None,
        }
    }
}

impl From<ProofError> for Error {
    fn from(e: ProofError) -> Self {
        Self::InvalidProof(e)
    }
}

impl From<TokenError> for Error {
    fn from(e: TokenError) -> Self {
        Self::InvalidToken(e)
    }
}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Self {
        Self::InvalidRequest(e)
    }
}

impl From<GrantError> for Error {
    fn from(e: GrantError) -> Self {
        Self::InvalidGrant(e)
    }
}

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<UpstreamError> for Error {
    fn from(e: UpstreamError) -> Self {
        Self::Upstream(e)
    }
}

/// A failure of the JOSE layer: compact serialization, base64url, JSON, `alg`, `crit`,
/// signature (RFC 7515, RFC 7518 §3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JoseError {
    /// Not exactly three `.`-separated segments (RFC 7515 §7.1).
    SegmentCount,
    /// A segment is not strict unpadded base64url.
    Base64,
    /// A segment is not well-formed JSON (or not UTF-8).
    Json,
    /// A JSON object names the same member twice.
    DuplicateMember,
    /// JSON nested deeper than allowed.
    TooDeep,
    /// The JSON value is not an object.
    NotAnObject,
    /// A required header parameter is absent; the name is the parameter's.
    MissingHeader(&'static str),
    /// A header parameter has the wrong JSON type or value; the name is the parameter's.
    InvalidHeader(&'static str),
    /// `alg` is not a supported asymmetric algorithm, or not one the verifier's policy
    /// accepts (`none`, HMAC and unknown names are refused before any crypto).
    UnsupportedAlgorithm,
    /// `alg` does not fit the key: another key type, curve or size, or not the key's own JWK
    /// `alg` (RFC 8725 §3.1). Refused before any crypto.
    AlgorithmKeyMismatch,
    /// `crit` lists extensions this implementation does not understand (RFC 7515 §4.1.11).
    UnsupportedCritical,
    /// The signature does not have the algorithm's exact length: ECDSA `r ‖ s` of 2×32/48/66
    /// bytes (RFC 7518 §3.4; DER is refused), Ed25519 64 bytes, RSA the modulus length.
    SignatureLength,
    /// The signature does not verify. Deliberately opaque.
    InvalidSignature,
}

impl JoseError {
    /// A stable snake_case name.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::SegmentCount => "malformed_jws",
            Self::Base64 => "invalid_base64url",
            Self::Json => "invalid_json",
            Self::DuplicateMember => "duplicate_json_member",
            Self::TooDeep => "json_too_deep",
            Self::NotAnObject => "json_not_object",
            Self::MissingHeader(_) => "missing_header_parameter",
            Self::InvalidHeader(_) => "invalid_header_parameter",
            Self::UnsupportedAlgorithm => "unsupported_alg",
            Self::AlgorithmKeyMismatch => "alg_key_mismatch",
            Self::UnsupportedCritical => "unsupported_crit",
            Self::SignatureLength => "invalid_signature_length",
            Self::InvalidSignature => "invalid_signature",
        }
    }

    /// A short fixed description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::SegmentCount => "not a compact JWS",
            Self::Base64 => "invalid base64url",
            Self::Json => "invalid JSON",
            Self::DuplicateMember => "duplicate JSON member name",
            Self::TooDeep => "JSON nested too deeply",
            Self::NotAnObject => "JSON value is not an object",
            Self::MissingHeader(_) => "missing JOSE header parameter",
            Self::InvalidHeader(_) => "invalid JOSE header parameter",
            Self::UnsupportedAlgorithm => "unsupported algorithm",
            Self::AlgorithmKeyMismatch => "algorithm does not fit the key",
            Self::UnsupportedCritical => "unsupported critical header",
            Self::SignatureLength => "invalid signature length",
            Self::InvalidSignature => "invalid signature",
        }
    }
}

impl fmt::Display for JoseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingHeader(name) => write!(f, "missing header parameter `{name}`"),
            Self::InvalidHeader(name) => write!(f, "invalid header parameter `{name}`"),
            other => f.write_str(other.description()),
        }
    }
}

impl std::error::Error for JoseError {}

/// A DPoP proof that fails a check of RFC 9449 §4.3 (the step is named on each variant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProofError {
    /// No `DPoP` header (step 1).
    MissingHeader,
    /// More than one `DPoP` header (step 1).
    MultipleHeaders,
    /// The proof exceeds the configured size limit; nothing was decoded.
    TooLarge,
    /// Not a well-formed compact JWS, bad `alg`, `crit` or signature (steps 2, 5, 6).
    Jose(JoseError),
    /// `typ` is not `dpop+jwt` (step 4).
    WrongType,
    /// The `jwk` header is not a usable public key (an RSA key above 4096 bits included), or
    /// holds a private key (step 7).
    InvalidKey(KeyError),
    /// A required claim is absent (step 3); the name is the claim's.
    MissingClaim(&'static str),
    /// A claim has the wrong type or syntax (step 3); the name is the claim's.
    InvalidClaim(&'static str),
    /// `jti` is longer than the configured limit.
    JtiTooLong,
    /// `htm` does not equal the request method (step 8).
    MethodMismatch,
    /// `htu` does not match the request URL after RFC 3986 normalisation (step 9).
    UrlMismatch,
    /// `iat` is older than the acceptance window (step 11).
    TooOld {
        /// The proof's `iat`.
        iat: u64,
        /// The verifier's time.
        now: u64,
    },
    /// `iat` is further in the future than the leeway allows (step 11).
    FromTheFuture {
        /// The proof's `iat`.
        iat: u64,
        /// The verifier's time.
        now: u64,
    },
    /// An access token was presented but the proof has no `ath` (step 12).
    MissingAth,
    /// `ath` is not the hash of the presented access token (step 12).
    AthMismatch,
    /// The proof has `ath` but no access token was presented.
    UnexpectedAth,
    /// This proof (`jkt`, `jti`) was already accepted within its window (RFC 9449 §11.1).
    Replayed,
    /// The proof is signed by another key than the one the authorization request committed to
    /// with `dpop_jkt` (RFC 9449 §10, §10.1).
    UnexpectedKey,
}

impl ProofError {
    /// A stable snake_case name for the failed check.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_proof",
            Self::MultipleHeaders => "multiple_proofs",
            Self::TooLarge => "proof_too_large",
            Self::Jose(e) => e.reason(),
            Self::WrongType => "wrong_typ",
            Self::InvalidKey(KeyError::PrivateKey) => "private_key_in_jwk",
            Self::InvalidKey(_) => "invalid_jwk",
            Self::MissingClaim(_) => "missing_claim",
            Self::InvalidClaim(_) => "invalid_claim",
            Self::JtiTooLong => "jti_too_long",
            Self::MethodMismatch => "htm_mismatch",
            Self::UrlMismatch => "htu_mismatch",
            Self::TooOld { .. } => "iat_too_old",
            Self::FromTheFuture { .. } => "iat_in_future",
            Self::MissingAth => "missing_ath",
            Self::AthMismatch => "ath_mismatch",
            Self::UnexpectedAth => "unexpected_ath",
            Self::Replayed => "replayed",
            Self::UnexpectedKey => "dpop_jkt_mismatch",
        }
    }

    /// A short fixed description for `error_description`.
    pub const fn description(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing DPoP proof",
            Self::MultipleHeaders => "more than one DPoP header",
            Self::TooLarge => "DPoP proof too large",
            Self::Jose(e) => e.description(),
            Self::WrongType => "wrong typ",
            Self::InvalidKey(KeyError::PrivateKey) => "private key in jwk",
            Self::InvalidKey(_) => "invalid jwk",
            Self::MissingClaim(_) => "missing claim",
            Self::InvalidClaim(_) => "invalid claim",
            Self::JtiTooLong => "jti too long",
            Self::MethodMismatch => "htm mismatch",
            Self::UrlMismatch => "htu mismatch",
            Self::TooOld { .. } => "proof too old",
            Self::FromTheFuture { .. } => "proof issued in the future",
            Self::MissingAth => "missing ath",
            Self::AthMismatch => "ath mismatch",
            Self::UnexpectedAth => "unexpected ath",
            Self::Replayed => "DPoP proof replayed",
            Self::UnexpectedKey => "proof key does not match dpop_jkt",
        }
    }
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Jose(e) => e.fmt(f),
            Self::InvalidKey(e) => write!(f, "jwk header: {e}"),
            Self::MissingClaim(name) => write!(f, "missing claim `{name}`"),
            Self::InvalidClaim(name) => write!(f, "invalid claim `{name}`"),
            Self::TooOld { iat, now } => write!(f, "iat {iat} too old at {now}"),
            Self::FromTheFuture { iat, now } => write!(f, "iat {iat} in the future at {now}"),
            other => f.write_str(other.description()),
        }
    }
}

impl std::error::Error for ProofError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Jose(e) => Some(e),
            Self::InvalidKey(e) => Some(e),
            _ => None,
        }
    }
}

impl From<JoseError> for ProofError {
    fn from(e: JoseError) -> Self {
        Self::Jose(e)
    }
}

/// Why a nonce-requiring server asks for a (new) nonce (RFC 9449 §8, §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NonceProblem {
    /// The proof has no `nonce` claim.
    Missing,
    /// The `nonce` claim is not one this server issued, or has expired.
    Invalid,
}

impl NonceProblem {
    /// A stable snake_case name.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing_nonce",
            Self::Invalid => "invalid_nonce",
        }
    }

    /// A short fixed description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Missing => "nonce required",
            Self::Invalid => "nonce stale or unknown",
        }
    }
}

impl fmt::Display for NonceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for NonceProblem {}

/// A key that cannot be imported or used (RFC 7517, RFC 7518 §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyError {
    /// The JWK text is not a strict JSON object.
    Malformed(JoseError),
    /// A required member is absent; the name is the member's.
    MissingMember(&'static str),
    /// A member has the wrong JSON type; the name is the member's.
    InvalidMember(&'static str),
    /// `kty` is not `EC`, `OKP` or `RSA` (`oct` and other symmetric keys are never used).
    UnsupportedKeyType,
    /// `crv` is not `P-256`, `P-384`, `P-521` (EC) or `Ed25519` (OKP) for a signature key, not
    /// `P-256`, `P-384` (EC) or `X25519` (OKP) for an encryption key.
    UnsupportedCurve,
    /// A coordinate or OKP public key is not exactly the curve's length of strict base64url.
    InvalidCoordinate,
    /// The point is not on its curve (or is the identity), or the Ed25519 key is
    /// non-canonical or of small order.
    InvalidPoint,
    /// The RSA modulus has a size outside the accepted range (2048..=8192 bits for any key;
    /// callers may narrow the upper bound).
    RsaModulusSize {
        /// The modulus size in bits (estimated from the text's length when the text was too
        /// long to decode at all).
        bits: usize,
    },
    /// The RSA public exponent is even, below 3 or above 2^32.
    InvalidRsaExponent,
    /// The RSA modulus and exponent do not form a usable key.
    InvalidRsaKey,
    /// The RSA modulus has the ROCA fingerprint (CVE-2017-15361): it can be factored.
    WeakRsaKey,
    /// The PEM text is not a supported, unencrypted key of the expected kind.
    InvalidPem,
    /// An RSA private key does not say which algorithm it signs with (RS* or PS*); give one.
    AlgorithmRequired,
    /// A private member (`d`, …) where only a public key belongs.
    PrivateKey,
    /// The private scalar is out of range or does not match `x`/`y`.
    InvalidPrivateKey,
    /// `alg` is present and is not a supported signature algorithm that fits the key (or not
    /// the one asked for); for an encryption key, `alg` is not a supported JWE key management
    /// algorithm that fits the key.
    WrongAlgorithm,
    /// `use` is present and is not `sig` (`enc` for an encryption key), or `key_ops` does not
    /// allow the operation.
    WrongUse,
    /// A key set names the same `kid` twice (ambiguous, refused).
    DuplicateKid,
    /// A key set holds no key this crate can verify signatures with.
    NoUsableKey,
}

impl KeyError {
    /// A stable snake_case name.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Malformed(e) => e.reason(),
            Self::MissingMember(_) => "missing_jwk_member",
            Self::InvalidMember(_) => "invalid_jwk_member",
            Self::UnsupportedKeyType => "unsupported_kty",
            Self::UnsupportedCurve => "unsupported_crv",
            Self::InvalidCoordinate => "invalid_coordinate",
            Self::InvalidPoint => "invalid_point",
            Self::RsaModulusSize { .. } => "rsa_modulus_size",
            Self::InvalidRsaExponent => "invalid_rsa_exponent",
            Self::InvalidRsaKey => "invalid_rsa_key",
            Self::WeakRsaKey => "weak_rsa_key",
            Self::InvalidPem => "invalid_pem",
            Self::AlgorithmRequired => "jwk_alg_required",
            Self::PrivateKey => "private_key_in_jwk",
            Self::InvalidPrivateKey => "invalid_private_key",
            Self::WrongAlgorithm => "wrong_jwk_alg",
            Self::WrongUse => "wrong_jwk_use",
            Self::DuplicateKid => "duplicate_kid",
            Self::NoUsableKey => "no_usable_key",
        }
    }

    /// A short fixed description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Malformed(e) => e.description(),
            Self::MissingMember(_) => "missing JWK member",
            Self::InvalidMember(_) => "invalid JWK member",
            Self::UnsupportedKeyType => "unsupported kty",
            Self::UnsupportedCurve => "unsupported crv",
            Self::InvalidCoordinate => "invalid coordinate",
            Self::InvalidPoint => "invalid public key point",
            Self::RsaModulusSize { .. } => "RSA modulus size not accepted",
            Self::InvalidRsaExponent => "invalid RSA exponent",
            Self::InvalidRsaKey => "invalid RSA key",
            Self::WeakRsaKey => "RSA key with the ROCA weakness",
            Self::InvalidPem => "invalid or unsupported PEM key",
            Self::AlgorithmRequired => "RSA key needs an alg",
            Self::PrivateKey => "private key where a public key belongs",
            Self::InvalidPrivateKey => "invalid private key",
            Self::WrongAlgorithm => "key alg does not fit",
            Self::WrongUse => "key use does not fit",
            Self::DuplicateKid => "duplicate kid in key set",
            Self::NoUsableKey => "no usable signing key in key set",
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingMember(name) => write!(f, "missing JWK member `{name}`"),
            Self::InvalidMember(name) => write!(f, "invalid JWK member `{name}`"),
            Self::RsaModulusSize { bits } => write!(f, "RSA modulus of {bits} bits not accepted"),
            other => f.write_str(other.description()),
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Malformed(e) => Some(e),
            _ => None,
        }
    }
}

/// An access token that fails a check (RFC 9068 §4, RFC 9449 §6, §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenError {
    /// The token exceeds the configured size limit; nothing was decoded.
    TooLarge,
    /// Not a well-formed compact JWS, bad `alg`, `crit` or signature.
    Jose(JoseError),
    /// `typ` is not `at+jwt` or `application/at+jwt` (RFC 9068 §4 step 1).
    WrongType,
    /// The header has no `kid` naming the signing key.
    MissingKeyId,
    /// `kid` names no key in the issuer's key set (unknown, or removed after rotation).
    UnknownKey,
    /// The issuer key `kid` names is an RSA key larger than this verifier accepts
    /// ([`TokenOptions::max_rsa_bits`](crate::TokenOptions::max_rsa_bits)).
    KeyTooLarge {
        /// The key's modulus size in bits.
        bits: usize,
    },
    /// A required claim is absent; the name is the claim's.
    MissingClaim(&'static str),
    /// A claim has the wrong type; the name is the claim's.
    InvalidClaim(&'static str),
    /// `iss` is not the expected issuer.
    WrongIssuer,
    /// `aud` does not name this resource server.
    WrongAudience,
    /// `exp` has passed (beyond the leeway).
    Expired {
        /// The token's `exp`.
        exp: u64,
        /// The verifier's time.
        now: u64,
    },
    /// `nbf` or `iat` lies in the future (beyond the leeway).
    NotYetValid {
        /// The token's `nbf` (or `iat`).
        nbf: u64,
        /// The verifier's time.
        now: u64,
    },
    /// `exp − iat` exceeds the verifier's maximum token lifetime.
    LifetimeTooLong,
    /// The token was revoked (by `jti`, by key or by subject).
    Revoked,
    /// Presented with the `DPoP` scheme but not bound to a key (no `cnf.jkt`).
    NotBound,
    /// `cnf.jkt` is not the thumbprint of the proof's key: the presenter does not hold the
    /// key the token is bound to (RFC 9449 §7.1).
    KeyMismatch,
    /// A DPoP-bound token presented with the `Bearer` scheme (downgrade, RFC 9449 §7.2).
    BoundTokenAsBearer,
    /// Presented with the `Bearer` scheme where only DPoP is accepted.
    BearerNotAccepted,
    /// The authorization server's introspection endpoint says the token is not active
    /// (RFC 7662 §2.2: unknown, expired, revoked — it does not say which).
    Inactive,
    /// The introspection answer's `token_type` contradicts its `cnf` (a bound token that is
    /// not `DPoP`, or `DPoP` without `cnf.jkt`).
    WrongTokenType,
    /// An encrypted token (compact JWE) that cannot be decrypted, or whose algorithms or
    /// header are refused.
    Jwe(JweError),
    /// A plain signed token where the verifier requires encrypted ones
    /// (`TokenVerifier::requiring_encryption`).
    NotEncrypted,
}

impl TokenError {
    /// A stable snake_case name.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::TooLarge => "token_too_large",
            Self::Jose(e) => e.reason(),
            Self::WrongType => "wrong_token_typ",
            Self::MissingKeyId => "missing_kid",
            Self::UnknownKey => "unknown_kid",
            Self::KeyTooLarge { .. } => "issuer_key_too_large",
            Self::MissingClaim(_) => "missing_token_claim",
            Self::InvalidClaim(_) => "invalid_token_claim",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::Expired { .. } => "token_expired",
            Self::NotYetValid { .. } => "token_not_yet_valid",
            Self::LifetimeTooLong => "token_lifetime_too_long",
            Self::Revoked => "token_revoked",
            Self::NotBound => "token_not_bound",
            Self::KeyMismatch => "key_binding_mismatch",
            Self::BoundTokenAsBearer => "bound_token_as_bearer",
            Self::BearerNotAccepted => "bearer_not_accepted",
            Self::Inactive => "token_inactive",
            Self::WrongTokenType => "wrong_token_type",
            Self::Jwe(e) => e.reason(),
            Self::NotEncrypted => "token_not_encrypted",
        }
    }

    /// A short fixed description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::TooLarge => "access token too large",
            Self::Jose(_) => "malformed or badly signed access token",
            Self::WrongType => "not an at+jwt access token",
            Self::MissingKeyId => "access token has no kid",
            Self::UnknownKey => "access token signed by an unknown key",
            Self::KeyTooLarge { .. } => "access token signed by a key larger than accepted",
            Self::MissingClaim(_) => "access token lacks a required claim",
            Self::InvalidClaim(_) => "access token has an invalid claim",
            Self::WrongIssuer => "access token from another issuer",
            Self::WrongAudience => "access token for another audience",
            Self::Expired { .. } => "access token expired",
            Self::NotYetValid { .. } => "access token not yet valid",
            Self::LifetimeTooLong => "access token lifetime too long",
            Self::Revoked => "access token revoked",
            Self::NotBound => "access token is not DPoP-bound",
            Self::KeyMismatch => "invalid DPoP key binding",
            Self::BoundTokenAsBearer => "DPoP-bound token presented as bearer",
            Self::BearerNotAccepted => "DPoP scheme required",
            Self::Inactive => "access token not active",
            Self::WrongTokenType => "access token type does not match its binding",
            Self::Jwe(e) => e.description(),
            Self::NotEncrypted => "access token must be encrypted",
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Jose(e) => e.fmt(f),
            Self::Jwe(e) => e.fmt(f),
            Self::MissingClaim(name) => write!(f, "missing claim `{name}`"),
            Self::InvalidClaim(name) => write!(f, "invalid claim `{name}`"),
            Self::Expired { exp, now } => write!(f, "expired at {exp}, now {now}"),
            Self::NotYetValid { nbf, now } => write!(f, "not valid before {nbf}, now {now}"),
            other => f.write_str(other.description()),
        }
    }
}

impl std::error::Error for TokenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Jose(e) => Some(e),
            Self::Jwe(e) => Some(e),
            _ => None,
        }
    }
}

/// A request whose credentials cannot be read (RFC 6750 §3.1 `invalid_request`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestError {
    /// More than one `Authorization` header, or several methods of presenting a token.
    MultipleAuthorization,
    /// An `Authorization` header that is not `<scheme> <token68>`.
    MalformedAuthorization,
    /// A `dpop_jkt` parameter that is not a base64url SHA-256 thumbprint (RFC 9449 §10), or
    /// that appears more than once (RFC 6749 §3.1).
    InvalidDpopJkt,
    /// A token or PAR request with another method than `POST` (RFC 6749 §3.2, RFC 9126 §2.1).
    MethodNotPost,
}

impl RequestError {
    /// A stable snake_case name.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::MultipleAuthorization => "multiple_authorization",
            Self::MalformedAuthorization => "malformed_authorization",
            Self::InvalidDpopJkt => "invalid_dpop_jkt",
            Self::MethodNotPost => "method_not_post",
        }
    }

    /// A short fixed description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::MultipleAuthorization => "multiple methods used to include access token",
            Self::MalformedAuthorization => "malformed Authorization header",
            Self::InvalidDpopJkt => "malformed dpop_jkt",
            Self::MethodNotPost => "the endpoint takes POST requests only",
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for RequestError {}

/// A refresh token that cannot be redeemed (RFC 6749 §5.2 `invalid_grant`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrantError {
    /// Unknown, expired, or its family was revoked.
    UnknownRefreshToken,
    /// Already used: the whole token family is now revoked (OAuth 2.0 Security BCP §4.14.2).
    RefreshTokenReused,
    /// The refresh request's proof is signed by another key than the token is bound to
    /// (RFC 9449 §5).
    KeyMismatch,
}

impl GrantError {
    /// A stable snake_case name.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::UnknownRefreshToken => "unknown_refresh_token",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::KeyMismatch => "refresh_key_mismatch",
        }
    }

    /// A short fixed description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::UnknownRefreshToken => "invalid refresh token",
            Self::RefreshTokenReused => "refresh token reused",
            Self::KeyMismatch => "refresh token bound to another key",
        }
    }
}

impl fmt::Display for GrantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for GrantError {}

/// Why an encrypted token (a compact JWE, RFC 7516) is refused. Every cryptographic failure —
/// a wrong key, a bad tag, bad padding, a bad wrapped key, an invalid ephemeral point — is the
/// one opaque [`DecryptionFailed`](Self::DecryptionFailed), so errors are no decryption oracle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JweError {
    /// Not five `.`-separated segments, a segment that is not strict base64url, or a protected
    /// header that is not a JSON object (RFC 7516 §7.1).
    Malformed,
    /// The JWE or one of its segments is over its size limit (checked before decoding).
    TooLarge,
    /// Refused before any decryption work; the name says what: an algorithm family
    /// (`"RSA1_5"`, `"RSA-OAEP"`, `"dir"`, `"A*KW"`, `"A*GCMKW"`, `"PBES2"`, an unknown `"alg"` or
    /// `"enc"`) or a header member (`"zip"`, `"crit"`, `"cty"`, `"epk"`, `"apu"`, `"apv"`).
    Refused(&'static str),
    /// No decryption key fits the token (its `kid` is unknown, or none is configured).
    NoKey,
    /// Decryption failed. Deliberately opaque.
    DecryptionFailed,
    /// The plaintext is not a signed compact JWS (a JWE inside a JWE, or plain JSON): RFC 7519
    /// §5.2 nested JWTs only.
    NotNested,
}

impl JweError {
    /// A stable snake_case name.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "malformed_jwe",
            Self::TooLarge => "jwe_too_large",
            Self::Refused(_) => "jwe_refused",
            Self::NoKey => "jwe_no_key",
            Self::DecryptionFailed => "decryption_failed",
            Self::NotNested => "jwe_not_nested",
        }
    }

    /// A short fixed description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Malformed => "malformed encrypted token",
            Self::TooLarge => "encrypted token too large",
            Self::Refused(_) => "encryption algorithm or header refused",
            Self::NoKey => "no key to decrypt the token",
            Self::DecryptionFailed => "the token could not be decrypted",
            Self::NotNested => "the encrypted token does not hold a signed JWT",
        }
    }
}

impl fmt::Display for JweError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(what) => write!(f, "{}: {what}", self.description()),
            _ => f.write_str(self.description()),
        }
    }
}

impl std::error::Error for JweError {}

/// A state store that could not answer. Checks that depend on it fail closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreError {
    /// The store is full of entries that are still live; it refuses new ones rather than
    /// forgetting one that could still be replayed.
    Full,
    /// The store could not be reached or timed out.
    Unavailable,
    /// This proof's key already holds its share of the replay store (see
    /// `MemoryReplayStore::with_per_key_limit`): the request is refused with **429 Too Many
    /// Requests** and `Retry-After`, while other keys keep working.
    KeyQuotaExceeded {
        /// Seconds until the key's oldest counted proofs stop counting (`Retry-After`).
        retry_after_secs: u64,
    },
    /// Refused before connecting: a plain-text connection (`redis://`) to a host that is not
    /// loopback, without the store's explicit plain-text opt-in. Replay and revocation state
    /// between servers travels over TLS.
    PlaintextTransport,
    /// Refused before connecting: TLS without certificate verification (a `rediss://…#insecure`
    /// URL). Never accepted.
    InsecureTls,
    /// Refused before connecting: the store's address or settings are unusable (a URL that
    /// does not parse, PEM without a certificate or key, TLS settings for a URL without TLS).
    InvalidConfig,
}

impl StoreError {
    /// A stable snake_case name.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Full => "store_full",
            Self::Unavailable => "store_unavailable",
            Self::KeyQuotaExceeded { .. } => "key_quota_exceeded",
            Self::PlaintextTransport => "store_plaintext_transport",
            Self::InsecureTls => "store_insecure_tls",
            Self::InvalidConfig => "store_invalid_config",
        }
    }

    /// A short fixed description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Full => "store full",
            Self::Unavailable => "store unavailable",
            Self::KeyQuotaExceeded { .. } => "too many proofs by this key; retry later",
            Self::PlaintextTransport => "plain-text connection to a remote store refused",
            Self::InsecureTls => "store TLS without certificate verification refused",
            Self::InvalidConfig => "invalid store configuration",
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for StoreError {}

/// An authorization server (or its metadata, key set or introspection endpoint) that could not
/// give a usable answer. None of these carries the server's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpstreamError {
    /// The connection failed or timed out.
    Unreachable,
    /// The server answered with this unexpected HTTP status.
    Status(u16),
    /// The response body exceeds the configured size limit; it was not read further.
    TooLarge,
    /// The response is not the expected JSON document (or lacks a required member).
    Malformed,
    /// The metadata names another `issuer` than the one configured (RFC 8414 §3.3).
    IssuerMismatch,
    /// A URL is neither `https` nor `http` on a loopback host.
    InsecureUrl,
    /// The metadata has no endpoint for what was asked (e.g. no `jwks_uri`).
    MissingEndpoint(&'static str),
    /// The key set could not be read (see [`KeyError`]).
    KeySet(KeyError),
    /// No key set has been fetched yet.
    KeysNotLoaded,
    /// The last key set fetched is past its lifetime and its grace period, and fetching a new
    /// one keeps failing.
    KeysExpired,
    /// An opaque token needs introspection, which only the asynchronous check performs (the
    /// synchronous one answers from the introspection cache).
    IntrospectionNeedsAsync,
}

impl UpstreamError {
    /// A stable snake_case name.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Unreachable => "upstream_unreachable",
            Self::Status(_) => "upstream_status",
            Self::TooLarge => "upstream_response_too_large",
            Self::Malformed => "upstream_response_malformed",
            Self::IssuerMismatch => "issuer_metadata_mismatch",
            Self::InsecureUrl => "insecure_upstream_url",
            Self::MissingEndpoint(_) => "missing_upstream_endpoint",
            Self::KeySet(_) => "unusable_key_set",
            Self::KeysNotLoaded => "key_set_not_loaded",
            Self::KeysExpired => "key_set_expired",
            Self::IntrospectionNeedsAsync => "introspection_needs_async",
        }
    }

    /// A short fixed description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Unreachable => "authorization server unreachable",
            Self::Status(_) => "authorization server answered with an unexpected status",
            Self::TooLarge => "authorization server response too large",
            Self::Malformed => "authorization server response malformed",
            Self::IssuerMismatch => "authorization server metadata names another issuer",
            Self::InsecureUrl => "authorization server URL is not https",
            Self::MissingEndpoint(_) => "authorization server metadata lacks an endpoint",
            Self::KeySet(_) => "authorization server key set unusable",
            Self::KeysNotLoaded => "authorization server key set not loaded",
            Self::KeysExpired => "authorization server key set expired",
            Self::IntrospectionNeedsAsync => "token introspection not available here",
        }
    }
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => write!(f, "unexpected HTTP status {status}"),
            Self::MissingEndpoint(name) => write!(f, "metadata lacks `{name}`"),
            Self::KeySet(e) => write!(f, "unusable key set: {e}"),
            other => f.write_str(other.description()),
        }
    }
}

impl std::error::Error for UpstreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::KeySet(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_failures_answer_503_without_a_code() {
        let error = Error::Upstream(UpstreamError::KeysExpired);
        assert_eq!(error.status(Endpoint::Resource), 503);
        assert_eq!(error.code(Endpoint::Resource), None);
        assert_eq!(error.status(Endpoint::Token), 503);
    }

    #[test]
    fn http_faces() {
        let proof = Error::InvalidProof(ProofError::UrlMismatch);
        assert_eq!(proof.status(Endpoint::Resource), 401);
        assert_eq!(proof.status(Endpoint::Token), 400);
        assert_eq!(
            proof.code(Endpoint::Resource),
            Some(ErrorCode::InvalidDpopProof)
        );

        let multiple = Error::InvalidProof(ProofError::MultipleHeaders);
        assert_eq!(
            multiple.code(Endpoint::Resource),
            Some(ErrorCode::InvalidRequest)
        );
        assert_eq!(multiple.status(Endpoint::Resource), 400);
        assert_eq!(
            multiple.code(Endpoint::Token),
            Some(ErrorCode::InvalidDpopProof)
        );

        let nonce = Error::UseDpopNonce {
            problem: NonceProblem::Missing,
            nonce: "abc".into(),
        };
        assert_eq!(nonce.status(Endpoint::Resource), 401);
        assert_eq!(nonce.status(Endpoint::Token), 400);
        assert_eq!(nonce.dpop_nonce(), Some("abc"));
        assert_eq!(
            nonce.code(Endpoint::Token).unwrap().as_str(),
            "use_dpop_nonce"
        );

        let full = Error::Store(StoreError::Full);
        assert_eq!(full.status(Endpoint::Resource), 503);
        assert_eq!(full.reason(), "store_full");
    }

    #[test]
    fn every_wrapping_error_names_its_cause() {
        use std::error::Error as _;
        let jose = JoseError::InvalidSignature;
        let error = Error::InvalidProof(ProofError::Jose(jose));
        let proof = error.source().and_then(|e| e.downcast_ref::<ProofError>());
        assert_eq!(proof, Some(&ProofError::Jose(jose)));
        let inner = proof.and_then(|e| e.source()?.downcast_ref::<JoseError>());
        assert_eq!(inner, Some(&jose));

        let key = Error::Upstream(UpstreamError::KeySet(KeyError::Malformed(jose)));
        let chain: Vec<String> = std::iter::successors(key.source(), |e| (*e).source())
            .map(ToString::to_string)
            .collect();
        assert_eq!(chain.len(), 3, "{chain:?}");
        assert!(Error::InvalidToken(TokenError::Jwe(JweError::NoKey))
            .source()
            .and_then(|e| e.source()?.downcast_ref::<JweError>())
            .is_some());
        let nonce = Error::UseDpopNonce {
            problem: NonceProblem::Missing,
            nonce: "n".into(),
        };
        assert!(nonce.source().is_some());
        assert!(Error::NoCredentials.source().is_none());
    }

    #[test]
    fn display_is_static_text() {
        let e = Error::InvalidProof(ProofError::TooOld { iat: 1, now: 100 });
        assert_eq!(e.to_string(), "invalid DPoP proof: iat 1 too old at 100");
        assert_eq!(e.description(), "proof too old");
        let e = Error::InvalidProof(ProofError::InvalidKey(KeyError::PrivateKey));
        assert_eq!(e.reason(), "private_key_in_jwk");
    }
}
