//! How a client authenticates to an authorization server's token, pushed authorization and
//! introspection endpoints: `none`, `client_secret_basic`, `client_secret_post`
//! ([RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1)) and
//! `private_key_jwt` ([RFC 7523 §2.2](https://www.rfc-editor.org/rfc/rfc7523#section-2.2)).

use std::sync::Arc;

use base64ct::{Base64, Encoding};
use rand_core::TryCryptoRng;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::client::form;
use crate::error::Error;
use crate::jose::jws_signer::JwsSigner;
use crate::jose::{base64url, jws};
use crate::time::UnixTime;

/// `client_assertion_type` of a JWT client assertion
/// ([RFC 7523 §2.2](https://www.rfc-editor.org/rfc/rfc7523#section-2.2)).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The explicit `typ` of a client-authentication JWT, registered by
/// draft-ietf-oauth-rfc7523bis (`application/client-authentication+jwt`).
const ASSERTION_TYP: &str = "client-authentication+jwt";

/// Random bytes in each assertion's `jti`: 128 bits, so that an authorization server's replay
/// check never sees a collision.
const JTI_BYTES: usize = 16;

/// How a `private_key_jwt` client assertion is made. Every default is written below with its
/// reason.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientAssertionOptions {
    /// Seconds from the assertion's `iat` to its `exp`. Default **60**: an assertion is used
    /// once, right after it is made; a short life bounds what a captured one is worth and how
    /// long the server keeps its `jti`. Must not be 0.
    pub lifetime_secs: u64,
    /// The `kid` header, naming which of the client's registered keys signed. Default
    /// **none**: servers try every registered key with the assertion's `alg`; set it when
    /// the client registered several.
    pub key_id: Option<String>,
    /// Whether the header carries `typ: client-authentication+jwt`. Default **true**:
    /// draft-ietf-oauth-rfc7523bis types client assertions explicitly so that no other JWT
    /// (an ID token, an access token) can be replayed as one (RFC 8725 §3.11).
    /// node-oidc-provider, for one, accepts any `typ`. Turn it off only for a server that
    /// refuses a `typ` it does not know; the assertion then has no `typ`.
    pub explicit_type: bool,
}

impl ClientAssertionOptions {
    /// The defaults described on each field.
    pub const fn new() -> Self {
        Self {
            lifetime_secs: 60,
            key_id: None,
            explicit_type: true,
        }
    }

    /// Sets [`lifetime_secs`](Self::lifetime_secs).
    pub const fn with_lifetime_secs(mut self, secs: u64) -> Self {
        self.lifetime_secs = secs;
        self
    }

    /// Sets [`key_id`](Self::key_id).
    pub fn with_key_id(mut self, kid: impl Into<String>) -> Self {
        self.key_id = Some(kid.into());
        self
    }

    /// Sets [`explicit_type`](Self::explicit_type).
    pub const fn with_explicit_type(mut self, explicit: bool) -> Self {
        self.explicit_type = explicit;
        self
    }
}

impl Default for ClientAssertionOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// A client's identity and how it proves it to the authorization server.
///
/// | constructor | `token_endpoint_auth_method` | what is sent |
/// |---|---|---|
/// | [`none`](Self::none) | `none` | `client_id` in the form (public clients) |
/// | [`secret_basic`](Self::secret_basic) | `client_secret_basic` | `Authorization: Basic` |
/// | [`secret_post`](Self::secret_post) | `client_secret_post` | `client_id`, `client_secret` in the form |
/// | [`private_key_jwt`](Self::private_key_jwt) | `private_key_jwt` | a signed `client_assertion` |
///
/// `client_secret_basic` encodes the id and the secret as
/// `application/x-www-form-urlencoded` *before* base64, as
/// [RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1) requires (an id
/// `a b:c` becomes `a+b%3Ac`), so ids and secrets with `:`, `%`, `+` or spaces work.
///
/// A `private_key_jwt` assertion ([RFC 7523 §3](https://www.rfc-editor.org/rfc/rfc7523#section-3))
/// has `iss` = `sub` = the client id, `aud` = the authorization server's **issuer
/// identifier** (as draft-ietf-oauth-rfc7523bis requires, closing the audience confusion of
/// RFC 7523's "token endpoint URL"), a random `jti`, `iat` and a short `exp`, and is signed by
/// any [`JwsSigner`] — an in-memory [`SigningKey`](crate::SigningKey) or an HSM/KMS key. It is
/// a different key from the DPoP proof key.
///
/// Secrets are zeroized on drop and `Debug` prints none of them.
///
/// ```
/// use std::sync::Arc;
/// use keybound::{ClientAuth, SigningKey};
///
/// let basic = ClientAuth::secret_basic("a b:c", "p@ss:w%rd+");
/// assert_eq!(basic.method(), "client_secret_basic");
/// assert_eq!(format!("{basic:?}"), r#"ClientAuth { client_id: "a b:c", method: "client_secret_basic", .. }"#);
///
/// let jwt = ClientAuth::private_key_jwt("my-service", Arc::new(SigningKey::generate()?));
/// assert_eq!(jwt.client_id(), "my-service");
/// # Ok::<(), keybound::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientAuth {
    client_id: String,
    method: Method,
}

#[derive(Clone)]
enum Method {
    None,
    SecretBasic(Zeroizing<String>),
    SecretPost(Zeroizing<String>),
    PrivateKeyJwt(Assertion),
}

#[derive(Clone)]
struct Assertion {
    signer: Arc<dyn JwsSigner>,
    options: ClientAssertionOptions,
}

/// What a request must carry to authenticate the client: an `Authorization` header value
/// (`client_secret_basic`) and/or form parameters (`client_id`, `client_secret`,
/// `client_assertion_type`, `client_assertion`). Add every pair of [`form`](Self::form) to
/// the request body, and set `Authorization` to [`authorization`](Self::authorization) when
/// there is one. Both are credentials: zeroized on drop, never printed.
pub(crate) struct ClientCredentials {
    /// The full `Authorization` header value (`Basic …`), when the method uses the header.
    pub(crate) authorization: Option<Zeroizing<String>>,
    /// Form parameters to append to the request body, names fixed by the method.
    pub(crate) form: Vec<(&'static str, Zeroizing<String>)>,
}

impl core::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names: Vec<&str> = self.form.iter().map(|(name, _)| *name).collect();
        f.debug_struct("ClientCredentials")
            .field("authorization", &self.authorization.as_ref().map(|_| ".."))
            .field("form", &names)
            .finish()
    }
}

#[derive(Serialize)]
struct AssertionHeader<'a> {
    alg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    typ: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: &'a str,
    iat: u64,
    exp: u64,
}

impl ClientAuth {
    /// A public client (`none`): it sends only its `client_id`, in the form.
    pub fn none(client_id: impl Into<String>) -> Self {
        Self::with_method(client_id, Method::None)
    }

    /// `client_secret_basic`: `Authorization: Basic base64(form(id) ":" form(secret))`
    /// ([RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1)).
    pub fn secret_basic(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self::with_method(
            client_id,
            Method::SecretBasic(Zeroizing::new(secret.into())),
        )
    }

    /// `client_secret_post`: `client_id` and `client_secret` in the form body
    /// ([RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1); the spec
    /// prefers `client_secret_basic`, some servers only accept this).
    pub fn secret_post(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self::with_method(client_id, Method::SecretPost(Zeroizing::new(secret.into())))
    }

    /// `private_key_jwt` ([RFC 7523 §2.2](https://www.rfc-editor.org/rfc/rfc7523#section-2.2))
    /// with the default [`ClientAssertionOptions`]: a fresh assertion signed by `signer` for
    /// every request.
    pub fn private_key_jwt(client_id: impl Into<String>, signer: Arc<dyn JwsSigner>) -> Self {
        Self::private_key_jwt_with_options(client_id, signer, ClientAssertionOptions::new())
    }

    /// `private_key_jwt` with `options` (lifetime, `kid`, explicit `typ`).
    pub fn private_key_jwt_with_options(
        client_id: impl Into<String>,
        signer: Arc<dyn JwsSigner>,
        options: ClientAssertionOptions,
    ) -> Self {
        Self::with_method(
            client_id,
            Method::PrivateKeyJwt(Assertion { signer, options }),
        )
    }

    fn with_method(client_id: impl Into<String>, method: Method) -> Self {
        Self {
            client_id: client_id.into(),
            method,
        }
    }

    /// The client identifier.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The method's registered name (`token_endpoint_auth_method`,
    /// [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591#section-2)).
    pub fn method(&self) -> &'static str {
        match self.method {
            Method::None => "none",
            Method::SecretBasic(_) => "client_secret_basic",
            Method::SecretPost(_) => "client_secret_post",
            Method::PrivateKeyJwt(_) => "private_key_jwt",
        }
    }

    /// The header and form parameters that authenticate this client to the authorization
    /// server whose issuer identifier is `issuer` (the `aud` of a `private_key_jwt`
    /// assertion, ignored by the other methods), at `now` (the assertion's `iat`). A
    /// `private_key_jwt` assertion is new at every call (fresh `jti`); call it once per
    /// request.
    ///
    /// Errors: [`Error::InvalidArgument`] for an empty client id, an empty `issuer` or a zero
    /// assertion lifetime; [`Error::Randomness`] or [`Error::Signer`] when the assertion
    /// cannot be made.
    pub(crate) fn apply(&self, issuer: &str, now: UnixTime) -> Result<ClientCredentials, Error> {
        self.apply_with_rng(issuer, now, &mut getrandom::SysRng)
    }

    /// [`apply`](Self::apply) with the assertion's `jti` drawn from `rng`.
    pub(crate) fn apply_with_rng<R: TryCryptoRng + ?Sized>(
        &self,
        issuer: &str,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<ClientCredentials, Error> {
        if self.client_id.is_empty() {
            return Err(Error::InvalidArgument("client_id"));
        }
        let id = || Zeroizing::new(self.client_id.clone());
        Ok(match &self.method {
            Method::None => ClientCredentials {
                authorization: None,
                form: vec![("client_id", id())],
            },
            Method::SecretBasic(secret) => {
                let mut pair = Zeroizing::new(String::new());
                form::encode_into(&self.client_id, &mut pair);
                pair.push(':');
                form::encode_into(secret, &mut pair);
                let mut header = Zeroizing::new(String::from("Basic "));
                header.push_str(&Base64::encode_string(pair.as_bytes()));
                ClientCredentials {
                    authorization: Some(header),
                    form: Vec::new(),
                }
            }
            Method::SecretPost(secret) => ClientCredentials {
                authorization: None,
                form: vec![("client_id", id()), ("client_secret", secret.clone())],
            },
            Method::PrivateKeyJwt(assertion) => {
                let jwt = assertion.sign(&self.client_id, issuer, now, rng)?;
                ClientCredentials {
                    authorization: None,
                    form: vec![
                        // Optional with an assertion (RFC 7521 §4.2), and it must then name
                        // the assertion's client: sent so that servers can find the client
                        // (and its keys) before reading the assertion.
                        ("client_id", id()),
                        (
                            "client_assertion_type",
                            Zeroizing::new(JWT_BEARER.to_owned()),
                        ),
                        ("client_assertion", Zeroizing::new(jwt)),
                    ],
                }
            }
        })
    }
}

impl Assertion {
    /// A compact JWS of the RFC 7523 §3 claims, signed through the crate's JWS signing code.
    fn sign<R: TryCryptoRng + ?Sized>(
        &self,
        client_id: &str,
        issuer: &str,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<String, Error> {
        if issuer.is_empty() {
            return Err(Error::InvalidArgument("issuer"));
        }
        if self.options.lifetime_secs == 0 {
            return Err(Error::InvalidArgument("lifetime_secs"));
        }
        let alg = self.signer.algorithm();
        let header = AssertionHeader {
            alg: alg.as_str(),
            typ: self.options.explicit_type.then_some(ASSERTION_TYP),
            kid: self.options.key_id.as_deref(),
        };
        let mut random = [0u8; JTI_BYTES];
        rng.try_fill_bytes(&mut random)
            .map_err(|_| Error::Randomness)?;
        let jti = base64url::encode(&random);
        let claims = AssertionClaims {
            iss: client_id,
            sub: client_id,
            aud: issuer,
            jti: &jti,
            iat: now.as_secs(),
            exp: now.saturating_add(self.options.lifetime_secs).as_secs(),
        };
        // Serializing structs of strings and integers cannot fail.
        let header = serde_json::to_vec(&header).map_err(|_| Error::InvalidArgument("kid"))?;
        let payload =
            serde_json::to_vec(&claims).map_err(|_| Error::InvalidArgument("client_id"))?;
        jws::sign(&base64url::encode(&header), &payload, &*self.signer)
    }
}

impl core::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.client_id)
            .field("method", &self.method())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::algorithm::Algorithm;
    use crate::jose::signing_key::SigningKey;

    const NOW: UnixTime = UnixTime::from_secs(1_700_000_000);
    const ISSUER: &str = "https://as.example.com";

    fn value<'a>(credentials: &'a ClientCredentials, name: &str) -> Option<&'a str> {
        credentials
            .form
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn basic_form_encodes_before_base64() {
        let credentials = ClientAuth::secret_basic("a b:c", "p@ss:w%rd+")
            .apply(ISSUER, NOW)
            .unwrap();
        let header = credentials.authorization.as_deref().unwrap().as_str();
        assert_eq!(
            header,
            format!(
                "Basic {}",
                Base64::encode_string(b"a+b%3Ac:p%40ss%3Aw%25rd%2B")
            )
        );
        assert_eq!(header, "Basic YStiJTNBYzpwJTQwc3MlM0F3JTI1cmQlMkI=");
        assert!(credentials.form.is_empty(), "no secret in the body");
    }

    #[test]
    fn post_and_none_put_the_id_in_the_form() {
        let post = ClientAuth::secret_post("a b:c", "s3cret")
            .apply(ISSUER, NOW)
            .unwrap();
        assert!(post.authorization.is_none());
        assert_eq!(value(&post, "client_id"), Some("a b:c"));
        assert_eq!(value(&post, "client_secret"), Some("s3cret"));
        let none = ClientAuth::none("public-app").apply(ISSUER, NOW).unwrap();
        assert!(none.authorization.is_none());
        assert_eq!(value(&none, "client_id"), Some("public-app"));
        assert_eq!(none.form.len(), 1);
    }

    #[test]
    fn empty_client_id_is_refused() {
        assert_eq!(
            ClientAuth::none("").apply(ISSUER, NOW).err(),
            Some(Error::InvalidArgument("client_id"))
        );
    }

    #[test]
    fn private_key_jwt_assertion() {
        let key = Arc::new(SigningKey::generate().unwrap());
        let auth = ClientAuth::private_key_jwt("svc", key.clone());
        let first = auth.apply(ISSUER, NOW).unwrap();
        let second = auth.apply(ISSUER, NOW).unwrap();
        assert_eq!(value(&first, "client_id"), Some("svc"));
        assert_eq!(value(&first, "client_assertion_type"), Some(JWT_BEARER));
        let jwt = value(&first, "client_assertion").unwrap();
        let payload: serde_json::Value =
            serde_json::from_slice(&key.public_key().verify_jws(jwt).unwrap()).unwrap();
        assert_eq!(payload["iss"], "svc");
        assert_eq!(payload["sub"], "svc");
        assert_eq!(payload["aud"], ISSUER);
        assert_eq!(payload["iat"], NOW.as_secs());
        assert_eq!(payload["exp"], NOW.as_secs() + 60);
        assert_eq!(payload["jti"].as_str().unwrap().len(), 22);
        let header_b64 = jwt.split('.').next().unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&base64url::decode(header_b64).unwrap()).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "ES256", "typ": "client-authentication+jwt"})
        );
        // Every assertion is new.
        assert_ne!(value(&second, "client_assertion"), Some(jwt));
    }

    #[test]
    fn assertion_options() {
        let key = Arc::new(SigningKey::generate_for(Algorithm::Ed25519).unwrap());
        let options = ClientAssertionOptions::new()
            .with_lifetime_secs(30)
            .with_key_id("key-\"1\"")
            .with_explicit_type(false);
        let auth = ClientAuth::private_key_jwt_with_options("svc", key.clone(), options);
        let credentials = auth.apply(ISSUER, NOW).unwrap();
        let jwt = value(&credentials, "client_assertion").unwrap();
        let payload: serde_json::Value =
            serde_json::from_slice(&key.public_key().verify_jws(jwt).unwrap()).unwrap();
        assert_eq!(payload["exp"], NOW.as_secs() + 30);
        let header: serde_json::Value =
            serde_json::from_slice(&base64url::decode(jwt.split('.').next().unwrap()).unwrap())
                .unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "Ed25519", "kid": "key-\"1\""})
        );
        let zero = ClientAuth::private_key_jwt_with_options(
            "svc",
            key,
            ClientAssertionOptions::new().with_lifetime_secs(0),
        );
        assert_eq!(
            zero.apply(ISSUER, NOW).err(),
            Some(Error::InvalidArgument("lifetime_secs"))
        );
        assert_eq!(
            auth.apply("", NOW).err(),
            Some(Error::InvalidArgument("issuer"))
        );
    }

    #[test]
    fn debug_prints_no_secret() {
        for auth in [
            ClientAuth::secret_basic("id", "hunter2"),
            ClientAuth::secret_post("id", "hunter2"),
        ] {
            let text = format!("{auth:?}");
            assert!(!text.contains("hunter2"), "{text}");
            let credentials = auth.apply(ISSUER, NOW).unwrap();
            let text = format!("{credentials:?}");
            assert!(
                !text.contains("hunter2") && !text.contains("aHVudGVyMg"),
                "{text}"
            );
        }
        assert_eq!(
            format!("{:?}", ClientAuth::secret_post("id", "hunter2")),
            r#"ClientAuth { client_id: "id", method: "client_secret_post", .. }"#
        );
        let credentials = ClientAuth::secret_basic("id", "x")
            .apply(ISSUER, NOW)
            .unwrap();
        assert_eq!(
            format!("{credentials:?}"),
            r#"ClientCredentials { authorization: Some(".."), form: [] }"#
        );
    }
}
