//! `WWW-Authenticate` challenges (RFC 9449 §7.1, §7.2; RFC 6750 §3).

use crate::error::{Error, ErrorCode};
use crate::jose::algorithm::AlgorithmSet;
use crate::resource::authorization::Scheme;

/// What every challenge of one guard says: its configuration.
#[derive(Clone, Copy)]
pub(crate) struct ChallengeConfig<'a> {
    pub(crate) realm: Option<&'a str>,
    /// Whether Bearer tokens are accepted too (then both challenges are sent).
    pub(crate) accept_bearer: bool,
    /// The proof algorithms the server accepts.
    pub(crate) algs: AlgorithmSet,
    /// The URL of the protected resource metadata (RFC 9728 §5.1).
    pub(crate) resource_metadata: Option<&'a str>,
}

/// What a challenge says besides the scheme.
struct ChallengeParams<'a> {
    pub(crate) realm: Option<&'a str>,
    pub(crate) error: Option<ErrorCode>,
    pub(crate) description: Option<&'a str>,
    pub(crate) scope: Option<&'a str>,
    /// The proof algorithms the server accepts, listed in `algs` on DPoP challenges.
    pub(crate) algs: AlgorithmSet,
    pub(crate) resource_metadata: Option<&'a str>,
}

/// One challenge: `DPoP realm="…", error="…", error_description="…", scope="…",
/// resource_metadata="…", algs="ES256 …"` (`algs` lists exactly the configured proof
/// algorithms, RFC 9449 §7.1; `resource_metadata` is RFC 9728 §5.1).
/// Values are fixed strings or server configuration checked by [`is_quotable`], so no escaping
/// is needed and no request text can reach the header.
fn challenge(scheme: Scheme, params: &ChallengeParams<'_>) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(6);
    if let Some(realm) = params.realm {
        parts.push(format!(r#"realm="{realm}""#));
    }
    if let Some(error) = params.error {
        parts.push(format!(r#"error="{}""#, error.as_str()));
        if let Some(description) = params.description {
            parts.push(format!(r#"error_description="{description}""#));
        }
    }
    if let Some(scope) = params.scope {
        parts.push(format!(r#"scope="{scope}""#));
    }
    if let Some(url) = params.resource_metadata {
        parts.push(format!(r#"resource_metadata="{url}""#));
    }
    let name = match scheme {
        Scheme::Dpop => {
            if !params.algs.is_empty() {
                parts.push(format!(r#"algs="{}""#, params.algs.to_names()));
            }
            "DPoP"
        }
        Scheme::Bearer => "Bearer",
    };
    if parts.is_empty() {
        name.to_owned()
    } else {
        format!("{name} {}", parts.join(", "))
    }
}

/// Whether `text` can go inside a quoted auth-param without escaping: the characters RFC 6750
/// §3 allows in `error_description` (`%x20-21 / %x23-5B / %x5D-7E`).
pub(crate) fn is_quotable(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, 0x20 | 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// The `WWW-Authenticate` value for `error`, presented with `scheme` (if known).
///
/// With Bearer tokens also accepted, both challenges are sent (RFC 9449 §7.2): error details go
/// on the challenge of the scheme the client used, on both when that is ambiguous (several
/// methods at once), on neither when no credentials were sent.
pub(crate) fn for_error(
    error: &Error,
    used: Option<Scheme>,
    config: ChallengeConfig<'_>,
    scope: Option<&str>,
) -> String {
    let code = error.code(crate::error::Endpoint::Resource);
    let detailed = ChallengeParams {
        realm: config.realm,
        error: code,
        description: code.map(|_| error.description()),
        scope,
        algs: config.algs,
        resource_metadata: config.resource_metadata,
    };
    let plain = ChallengeParams {
        error: None,
        description: None,
        scope: None,
        ..detailed
    };
    if !config.accept_bearer {
        return challenge(Scheme::Dpop, &detailed);
    }
    let (bearer, dpop) = match used {
        Some(Scheme::Bearer) => (&detailed, &plain),
        Some(Scheme::Dpop) => (&plain, &detailed),
        None => (&detailed, &detailed),
    };
    format!(
        "{}, {}",
        challenge(Scheme::Bearer, bearer),
        challenge(Scheme::Dpop, dpop)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TokenError;
    use crate::jose::algorithm::Algorithm;

    const ES256: AlgorithmSet = AlgorithmSet::only(Algorithm::Es256);

    fn config(realm: Option<&str>, accept_bearer: bool, algs: AlgorithmSet) -> ChallengeConfig<'_> {
        ChallengeConfig {
            realm,
            accept_bearer,
            algs,
            resource_metadata: None,
        }
    }

    #[test]
    fn resource_metadata_on_every_challenge() {
        let url = "https://api.example.com/.well-known/oauth-protected-resource";
        let with = ChallengeConfig {
            resource_metadata: Some(url),
            ..config(None, true, ES256)
        };
        assert_eq!(
            for_error(&Error::NoCredentials, None, with, None),
            format!(
                r#"Bearer resource_metadata="{url}", DPoP resource_metadata="{url}", algs="ES256""#
            )
        );
    }

    #[test]
    fn dpop_challenge_shapes() {
        let none = for_error(
            &Error::NoCredentials,
            None,
            config(None, false, ES256),
            None,
        );
        assert_eq!(none, r#"DPoP algs="ES256""#);
        let bound = for_error(
            &Error::InvalidToken(TokenError::KeyMismatch),
            Some(Scheme::Dpop),
            config(Some("api"), false, ES256),
            None,
        );
        assert_eq!(
            bound,
            r#"DPoP realm="api", error="invalid_token", error_description="invalid DPoP key binding", algs="ES256""#
        );
    }

    #[test]
    fn bearer_and_dpop_together() {
        let none = for_error(&Error::NoCredentials, None, config(None, true, ES256), None);
        assert_eq!(none, r#"Bearer, DPoP algs="ES256""#);
        let bearer = for_error(
            &Error::InvalidToken(TokenError::BoundTokenAsBearer),
            Some(Scheme::Bearer),
            config(None, true, ES256),
            None,
        );
        assert_eq!(
            bearer,
            r#"Bearer error="invalid_token", error_description="DPoP-bound token presented as bearer", DPoP algs="ES256""#
        );
    }

    #[test]
    fn algs_lists_exactly_the_configured_set() {
        let all = for_error(
            &Error::NoCredentials,
            None,
            config(None, false, AlgorithmSet::all()),
            None,
        );
        assert_eq!(
            all,
            r#"DPoP algs="ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 PS512""#
        );
        let narrow: AlgorithmSet = [Algorithm::Ps256, Algorithm::Ed25519].into_iter().collect();
        let some = for_error(
            &Error::NoCredentials,
            None,
            config(None, false, narrow),
            None,
        );
        assert_eq!(some, r#"DPoP algs="Ed25519 PS256""#);
    }

    #[test]
    fn quotable_text() {
        assert!(is_quotable("api v1"));
        assert!(!is_quotable("a\"b"));
        assert!(!is_quotable("a\\b"));
        assert!(!is_quotable("a\nb"));
    }
}
