//! Encrypted access tokens at the resource server (issue 15): the guard's decryption keys and
//! whether plain signed tokens are still accepted.

use zeroize::Zeroizing;

use crate::error::{Error, TokenError};
use crate::jose::jwe::compact;
use crate::jose::jwe::decryption::DecryptionKey;
use crate::jose::jwe::nested;

/// The resource server's decryption keys (rotation: several, chosen by `kid`) and its policy.
#[derive(Default)]
pub(crate) struct TokenDecryption {
    keys: Vec<DecryptionKey>,
    /// Refuse tokens that are not encrypted (off by default, for migrations).
    required: bool,
}

/// The signed token to verify: the presented one, or the one inside the presented JWE.
pub(crate) enum SignedToken<'t> {
    Plain(&'t str),
    Decrypted(Zeroizing<String>),
}

impl SignedToken<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Plain(token) => token,
            Self::Decrypted(token) => token,
        }
    }
}

impl TokenDecryption {
    pub(crate) fn add(&mut self, key: DecryptionKey) {
        self.keys.push(key);
    }

    pub(crate) fn require(&mut self) {
        self.required = true;
    }

    pub(crate) fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Refuses a plain (unencrypted) `token` when encryption is required.
    pub(crate) fn check_required(&self, token: &str) -> Result<(), Error> {
        if self.required && !compact::looks_like_jwe(token) {
            return Err(TokenError::NotEncrypted.into());
        }
        Ok(())
    }

    /// The signed token `token` stands for: decrypted when it is a compact JWE (at most
    /// `max_len` bytes), itself otherwise — unless encryption is required.
    pub(crate) fn signed<'t>(
        &self,
        token: &'t str,
        max_len: usize,
    ) -> Result<SignedToken<'t>, Error> {
        if compact::looks_like_jwe(token) {
            let inner = nested::decrypt(token, &self.keys, max_len).map_err(TokenError::Jwe)?;
            return Ok(SignedToken::Decrypted(inner));
        }
        self.check_required(token)?;
        Ok(SignedToken::Plain(token))
    }
}

#[cfg(test)]
mod tests {
    use p256::elliptic_curve::Generate;

    use crate::error::{Error, JweError, TokenError};
    use crate::jose::jwe::content_encryption::ContentEncryption;
    use crate::jose::jwe::decryption::DecryptionKey;
    use crate::jose::jwe::key_management::{
        KeyManagement, RecipientPrivateKey, RecipientPublicKey,
    };
    use crate::token::issuer::AudienceEncryption;
    use crate::{
        IssuerKeys, ProofSigner, RequestGuard, ResourceRequest, SigningKey, TokenIssuer,
        TokenRequest, TokenVerifier, UnixTime,
    };

    const ISS: &str = "https://as.example.com";
    const AUD: &str = "https://api.example.com";
    const URL: &str = "https://api.example.com/orders";

    fn resource_key() -> (DecryptionKey, AudienceEncryption) {
        let secret = p256::SecretKey::try_generate_from_rng(&mut getrandom::SysRng).unwrap();
        let public = secret.public_key();
        (
            DecryptionKey {
                kid: Some("rs-1".into()),
                alg: KeyManagement::EcdhEsA256Kw,
                key: RecipientPrivateKey::P256(secret),
            },
            AudienceEncryption {
                audience: AUD.into(),
                recipient: RecipientPublicKey::P256(public),
                kid: Some("rs-1".into()),
                alg: KeyManagement::EcdhEsA256Kw,
                enc: ContentEncryption::A256Gcm,
            },
        )
    }

    fn call(
        guard: &RequestGuard,
        client: &ProofSigner,
        token: &str,
        now: UnixTime,
    ) -> Result<crate::Authorized, crate::Rejection> {
        let proof = client
            .proof("GET", URL)
            .with_access_token(token)
            .sign(now)
            .unwrap();
        let authorization = format!("DPoP {token}");
        let (authorization, dpop) = ([authorization.as_str()], [proof.as_str()]);
        guard.check(
            &ResourceRequest::new("GET", URL, &authorization, &dpop),
            now,
        )
    }

    #[test]
    fn encrypted_tokens_are_decrypted_then_verified_and_stay_bound() {
        let now = UnixTime::now();
        let (decryption, encryption) = resource_key();
        let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap())
            .with_encryption_parts(encryption);
        let client = ProofSigner::new(SigningKey::generate().unwrap());
        let token = issuer
            .issue(
                &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
                now,
            )
            .unwrap()
            .access_token;
        assert_eq!(token.split('.').count(), 5, "a compact JWE");
        // Nothing of the claims is readable from the token.
        assert!(!token.contains(&crate::jose::base64url::encode(b"alice")));

        let verifier = || TokenVerifier::new(ISS, AUD, issuer.keys().key_set());
        let guard = RequestGuard::new(verifier()).with_decryption_key_parts(decryption);
        // `ath` is over the JWE as presented; the token verifies and is bound to the client.
        let authorized = call(&guard, &client, &token, now).unwrap();
        assert_eq!(authorized.subject(), "alice");
        // A warm request (cache hit on the JWE's hash) works the same way.
        assert!(call(&guard, &client, &token, now).is_ok());
        // Stolen: another key's proof.
        let thief = ProofSigner::new(SigningKey::generate().unwrap());
        assert_eq!(
            call(&guard, &thief, &token, now).unwrap_err().error(),
            &Error::InvalidToken(TokenError::KeyMismatch)
        );
        // A guard without the resource key cannot read it: invalid_token.
        let keyless = RequestGuard::new(verifier());
        let rejection = call(&keyless, &client, &token, now).unwrap_err();
        assert_eq!(rejection.status(), 401);
        assert_eq!(
            rejection.error(),
            &Error::InvalidToken(TokenError::Jwe(JweError::NoKey))
        );
        // Another resource server's key: no key for this `kid`.
        let (other, _) = resource_key();
        let stranger = RequestGuard::new(verifier()).with_decryption_key_parts(DecryptionKey {
            kid: Some("rs-2".into()),
            ..other
        });
        assert_eq!(
            call(&stranger, &client, &token, now).unwrap_err().error(),
            &Error::InvalidToken(TokenError::Jwe(JweError::NoKey))
        );
    }

    #[test]
    fn encryption_can_be_required() {
        let now = UnixTime::now();
        let (decryption, _) = resource_key();
        let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
        let client = ProofSigner::new(SigningKey::generate().unwrap());
        let plain = issuer
            .issue(
                &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
                now,
            )
            .unwrap()
            .access_token;
        let verifier = || TokenVerifier::new(ISS, AUD, issuer.keys().key_set());
        // Migrations: plain tokens are accepted unless required otherwise.
        let lenient = RequestGuard::new(verifier()).with_decryption_key_parts(decryption);
        assert!(call(&lenient, &client, &plain, now).is_ok());
        let strict = lenient.requiring_encrypted_tokens();
        assert_eq!(
            call(&strict, &client, &plain, now).unwrap_err().error(),
            &Error::InvalidToken(TokenError::NotEncrypted)
        );
    }

    #[test]
    fn a_token_for_several_audiences_is_not_half_encrypted() {
        let now = UnixTime::now();
        let (_, encryption) = resource_key();
        let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap())
            .with_encryption_parts(encryption);
        let client = ProofSigner::new(SigningKey::generate().unwrap());
        let request = TokenRequest::new("alice", AUD, "app", client.thumbprint())
            .with_audience("https://other.example.com");
        assert_eq!(
            issuer.issue(&request, now).err(),
            Some(Error::InvalidArgument("audience"))
        );
        // Audiences without a key are signed only.
        let other = TokenRequest::new(
            "alice",
            "https://other.example.com",
            "app",
            client.thumbprint(),
        );
        assert_eq!(
            issuer
                .issue(&other, now)
                .unwrap()
                .access_token
                .split('.')
                .count(),
            3
        );
    }

    /// keybound never encrypts with the legacy RSA-OAEP (SHA-1), even to a key enabled for
    /// decrypting it.
    #[test]
    fn the_issuer_refuses_to_encrypt_with_legacy_rsa_oaep() {
        let pem = crate::jose::jwe::test_data::text("openssl/rsa2048_pkcs8.pem");
        let legacy = crate::DecryptionKey::from_pem(&pem, KeyManagement::RsaOaep).unwrap();
        let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap()).with_encryption(
            AUD,
            &legacy.encryption_key(),
            ContentEncryption::A256Gcm,
        );
        let client = ProofSigner::new(SigningKey::generate().unwrap());
        let request = TokenRequest::new("alice", AUD, "app", client.thumbprint());
        assert_eq!(
            issuer.issue(&request, UnixTime::now()).err(),
            Some(Error::InvalidArgument("encryption key"))
        );
    }
}
