//! Minting RFC 9068 access tokens bound to a DPoP key (RFC 9449 §6.1).

use rand_core::TryCryptoRng;
use serde_json::{Map, Value};

use crate::error::{Error, JweError};
use crate::jose::jwe::content_encryption::ContentEncryption;
use crate::jose::jwe::key_management::{KeyManagement, RecipientPublicKey};
use crate::jose::jwe::nested;
use crate::jose::thumbprint::Thumbprint;
use crate::jose::{base64url, jws};
use crate::secure_url;
use crate::time::UnixTime;
use crate::token::claims::REGISTERED;
use crate::token::issuer_keys::IssuerKeys;

/// Default access-token lifetime: 5 minutes. DPoP binding limits what a stolen token is worth;
/// a short lifetime limits how long a token survives its key being compromised.
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 300;

/// Upper bound on the configurable access-token lifetime: 1 hour. Longer-lived access is what
/// refresh tokens are for.
pub const MAX_TOKEN_LIFETIME_SECS: u64 = 3600;

/// Random bytes in each token `jti`: 128 bits.
const JTI_BYTES: usize = 16;

/// What the token is for: subject, audience, client and scope, and the key it is bound to.
#[derive(Clone, Debug)]
#[non_exhaustive]
#[must_use]
pub struct TokenRequest {
    /// `sub`.
    pub subject: String,
    /// `aud`: the resource server(s) the token is for.
    pub audience: Vec<String>,
    /// `client_id`.
    pub client_id: String,
    /// `scope`, space-separated; `None` omits the claim.
    pub scope: Option<String>,
    /// `cnf.jkt`: the thumbprint of the client's DPoP key (from the token request's proof).
    pub jkt: Thumbprint,
    /// Further claims; registered names (`iss`, `sub`, `aud`, `exp`, `iat`, `nbf`, `jti`,
    /// `client_id`, `scope`, `cnf`, `token_type`) are refused.
    pub extra: Map<String, Value>,
    /// Lifetime in seconds; `None` uses the issuer's default.
    pub lifetime_secs: Option<u64>,
}

impl TokenRequest {
    /// A request for `subject`, the resource `audience`, `client_id`, bound to `jkt`.
    pub fn new(
        subject: impl Into<String>,
        audience: impl Into<String>,
        client_id: impl Into<String>,
        jkt: Thumbprint,
    ) -> Self {
        Self {
            subject: subject.into(),
            audience: vec![audience.into()],
            client_id: client_id.into(),
            scope: None,
            jkt,
            extra: Map::new(),
            lifetime_secs: None,
        }
    }

    /// Sets `scope` (space-separated scopes).
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Adds a further audience.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience.push(audience.into());
        self
    }

    /// Adds an extra claim.
    pub fn with_claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    /// Sets this token's lifetime (at most [`MAX_TOKEN_LIFETIME_SECS`]).
    pub fn with_lifetime_secs(mut self, secs: u64) -> Self {
        self.lifetime_secs = Some(secs);
        self
    }
}

/// A freshly minted access token. `Debug` does not print the token.
#[derive(Clone)]
#[must_use]
pub struct IssuedToken {
    /// The compact JWS to hand to the client.
    pub access_token: String,
    /// Seconds until it expires (`expires_in` of the token response).
    pub expires_in: u64,
    /// Its `jti`, for revocation.
    pub jti: String,
    /// Its `exp`.
    pub expires_at: UnixTime,
}

impl core::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &"..")
            .field("expires_in", &self.expires_in)
            .field("jti", &self.jti)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Mints RFC 9068 `at+jwt` access tokens signed with the active key's algorithm and bound to a
/// DPoP key.
///
/// Any [`SigningKey`](crate::SigningKey) signs: ES256/384/512, Ed25519/EdDSA, RS*/PS*.
/// **RSA keys:** the default pure-Rust backend's RSA signing is not constant-time
/// (RUSTSEC-2023-0071, "Marvin"); an issuer that signs with RSA should enable the `aws-lc`
/// feature, or sign with an EC or Ed25519 key. Verification is unaffected.
///
/// Header: `typ: at+jwt`, `alg` = the key's algorithm, `kid` = its thumbprint. Claims: `iss`,
/// `sub`, `aud`, `exp`, `iat`, `jti` (128 random bits), `client_id`, optional `scope`, the
/// caller's extra claims and `cnf: {"jkt": …}`.
#[derive(Debug)]
pub struct TokenIssuer {
    issuer: String,
    keys: IssuerKeys,
    lifetime_secs: u64,
    insecure_http: bool,
    encryption: Vec<AudienceEncryption>,
}

/// Tokens for `audience` are encrypted to its key (issue 15).
pub(crate) struct AudienceEncryption {
    pub(crate) audience: String,
    pub(crate) recipient: RecipientPublicKey,
    pub(crate) kid: Option<String>,
    pub(crate) alg: KeyManagement,
    pub(crate) enc: ContentEncryption,
}

impl TokenIssuer {
    /// An issuer named `issuer` (the `iss` claim, e.g. `https://as.example.com`) signing with
    /// `keys`, default lifetime [`DEFAULT_TOKEN_LIFETIME_SECS`].
    ///
    /// An `http` issuer on a host that is not loopback (RFC 8414 §2 requires `https`) makes
    /// [`issue`](Self::issue) fail with [`Error::InsecureUrl`]`("issuer")`, unless
    /// [`allow_insecure_http`](Self::allow_insecure_http).
    pub fn new(issuer: impl Into<String>, keys: IssuerKeys) -> Self {
        Self {
            issuer: issuer.into(),
            keys,
            lifetime_secs: DEFAULT_TOKEN_LIFETIME_SECS,
            insecure_http: false,
            encryption: Vec::new(),
        }
    }

    /// Encrypts tokens for `encryption.audience` to its key: the signed `at+jwt` becomes a
    /// nested JWT (RFC 7519 §5.2), a compact JWE with `cty: "JWT"`. A token for several
    /// audiences one of which has a key is refused (a compact JWE has one recipient), and so is
    /// a key for the legacy `RSA-OAEP` (SHA-1), which keybound never encrypts with:
    /// [`issue`](Self::issue) fails with [`Error::InvalidArgument`]`("encryption key")`.
    pub fn with_encryption(
        self,
        audience: impl Into<String>,
        key: &crate::EncryptionKey,
        enc: ContentEncryption,
    ) -> Self {
        self.with_encryption_parts(AudienceEncryption {
            audience: audience.into(),
            recipient: key.recipient().clone(),
            kid: key.kid().map(str::to_owned),
            alg: key.algorithm(),
            enc,
        })
    }

    pub(crate) fn with_encryption_parts(mut self, encryption: AudienceEncryption) -> Self {
        self.encryption
            .retain(|e| e.audience != encryption.audience);
        self.encryption.push(encryption);
        self
    }

    /// The encryption for a token to `audiences`, if any.
    fn encryption_for(&self, audiences: &[String]) -> Result<Option<&AudienceEncryption>, Error> {
        let mut configured = audiences
            .iter()
            .filter_map(|aud| self.encryption.iter().find(|e| &e.audience == aud));
        match (configured.next(), audiences.len()) {
            (None, _) => Ok(None),
            (Some(encryption), 1) => Ok(Some(encryption)),
            (Some(_), _) => Err(Error::InvalidArgument("audience")),
        }
    }

    /// Accepts an `http` issuer on any host (for test rigs only).
    pub fn allow_insecure_http(mut self) -> Self {
        self.insecure_http = true;
        self
    }

    /// Sets the default lifetime; refused above [`MAX_TOKEN_LIFETIME_SECS`] or at zero.
    pub fn with_lifetime_secs(mut self, secs: u64) -> Result<Self, Error> {
        self.lifetime_secs = checked_lifetime(secs)?;
        Ok(self)
    }

    /// The `iss` value.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The default token lifetime in seconds.
    pub fn lifetime_secs(&self) -> u64 {
        self.lifetime_secs
    }

    /// The signing keys (to publish [`IssuerKeys::jwks`]).
    pub fn keys(&self) -> &IssuerKeys {
        &self.keys
    }

    /// The signing keys, to rotate them.
    pub fn keys_mut(&mut self) -> &mut IssuerKeys {
        &mut self.keys
    }

    /// Mints a token at `now` with a `jti` from the operating system's generator.
    pub fn issue(&self, request: &TokenRequest, now: UnixTime) -> Result<IssuedToken, Error> {
        self.issue_with_rng(request, now, &mut getrandom::SysRng)
    }

    /// Mints a token at `now` with a `jti` drawn from `rng`.
    pub fn issue_with_rng<R: TryCryptoRng + ?Sized>(
        &self,
        request: &TokenRequest,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<IssuedToken, Error> {
        secure_url::refuse_plain_http(&self.issuer, self.insecure_http, "issuer")?;
        let lifetime = match request.lifetime_secs {
            Some(secs) => checked_lifetime(secs)?,
            None => self.lifetime_secs,
        };
        if request.subject.is_empty() {
            return Err(Error::InvalidArgument("subject"));
        }
        if request.client_id.is_empty() {
            return Err(Error::InvalidArgument("client_id"));
        }
        if request.audience.is_empty() || request.audience.iter().any(String::is_empty) {
            return Err(Error::InvalidArgument("audience"));
        }
        if request
            .extra
            .keys()
            .any(|name| REGISTERED.contains(&name.as_str()))
        {
            return Err(Error::InvalidArgument("extra"));
        }
        let mut random = [0u8; JTI_BYTES];
        rng.try_fill_bytes(&mut random)
            .map_err(|_| Error::Randomness)?;
        let jti = base64url::encode(&random);
        let expires_at = now.saturating_add(lifetime);

        let mut claims = Map::new();
        claims.insert("iss".into(), self.issuer.clone().into());
        claims.insert("sub".into(), request.subject.clone().into());
        claims.insert(
            "aud".into(),
            match request.audience.as_slice() {
                [one] => one.clone().into(),
                many => many.to_vec().into(),
            },
        );
        claims.insert("exp".into(), expires_at.as_secs().into());
        claims.insert("iat".into(), now.as_secs().into());
        claims.insert("jti".into(), jti.clone().into());
        claims.insert("client_id".into(), request.client_id.clone().into());
        if let Some(scope) = &request.scope {
            claims.insert("scope".into(), scope.clone().into());
        }
        for (name, value) in &request.extra {
            claims.insert(name.clone(), value.clone());
        }
        let mut cnf = Map::new();
        cnf.insert("jkt".into(), request.jkt.to_base64url().into());
        claims.insert("cnf".into(), cnf.into());

        let header = format!(
            r#"{{"typ":"at+jwt","alg":"{}","kid":"{}"}}"#,
            self.keys.active().algorithm(),
            self.keys.active_kid()
        );
        // Serializing a map of JSON values cannot fail.
        let payload = serde_json::to_vec(&claims).map_err(|_| Error::InvalidArgument("extra"))?;
        let encryption = self.encryption_for(&request.audience)?;
        let signed = jws::sign(
            &base64url::encode(header.as_bytes()),
            &payload,
            self.keys.active(),
        )?;
        let access_token = match encryption {
            None => signed,
            Some(e) => nested::encrypt(&signed, &e.recipient, e.kid.as_deref(), e.alg, e.enc)
                .map_err(|error| match error {
                    // The legacy RSA-OAEP (SHA-1) key of a `DecryptionKey` made for it.
                    JweError::Refused(_) => Error::InvalidArgument("encryption key"),
                    _ => Error::Randomness,
                })?,
        };
        Ok(IssuedToken {
            access_token,
            expires_in: lifetime,
            jti,
            expires_at,
        })
    }
}

fn checked_lifetime(secs: u64) -> Result<u64, Error> {
    if secs == 0 || secs > MAX_TOKEN_LIFETIME_SECS {
        return Err(Error::InvalidArgument("lifetime_secs"));
    }
    Ok(secs)
}

impl core::fmt::Debug for AudienceEncryption {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AudienceEncryption")
            .field("audience", &self.audience)
            .field("kid", &self.kid)
            .field("alg", &self.alg.as_str())
            .field("enc", &self.enc.as_str())
            .finish_non_exhaustive()
    }
}
