//! `WWW-Authenticate` challenges (RFC 9449 §7.1, §7.2; RFC 6750 §3).

use crate::error::{Error, ErrorCode};
use crate::jose::algorithm::AlgorithmSet;
use crate::resource::authorization::Scheme;

/// What a challenge says besides the scheme.
pub(crate) struct ChallengeParams<'a> {
    pub(crate) realm: Option<&'a str>,
    pub(crate) error: Option<ErrorCode>,
    pub(crate) description: Option<&'a str>,
    pub(crate) scope: Option<&'a str>,
    /// The proof algorithms the server accepts, listed in `algs` on DPoP challenges.
    pub(crate) algs: AlgorithmSet,
}

/// One challenge: `DPoP realm="…", error="…", error_description="…", scope="…", algs="ES256 …"`
/// (`algs` lists exactly the configured proof algorithms, RFC 9449 §7.1).
/// Values are fixed strings or server configuration checked by [`is_quotable`], so no escaping
/// is needed and no request text can reach the header.
pub(crate) fn challenge(scheme: Scheme, params: &ChallengeParams<'_>) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(5);
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
    realm: Option<&str>,
    accept_bearer: bool,
    scope: Option<&str>,
    algs: AlgorithmSet,
) -> String {
    let code = error.code(crate::error::Endpoint::Resource);
    let detailed = ChallengeParams {
        realm,
        error: code,
        description: code.map(|_| error.description()),
        scope,
        algs,
    };
    let plain = ChallengeParams {
        realm,
        error: None,
        description: None,
        scope: None,
        algs,
    };
    if !accept_bearer {
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

    #[test]
    fn dpop_challenge_shapes() {
        let none = for_error(&Error::NoCredentials, None, None, false, None, ES256);
        assert_eq!(none, r#"DPoP algs="ES256""#);
        let bound = for_error(
            &Error::InvalidToken(TokenError::KeyMismatch),
            Some(Scheme::Dpop),
            Some("api"),
            false,
            None,
            ES256,
        );
        assert_eq!(
            bound,
            r#"DPoP realm="api", error="invalid_token", error_description="invalid DPoP key binding", algs="ES256""#
        );
    }

    #[test]
    fn bearer_and_dpop_together() {
        let none = for_error(&Error::NoCredentials, None, None, true, None, ES256);
        assert_eq!(none, r#"Bearer, DPoP algs="ES256""#);
        let bearer = for_error(
            &Error::InvalidToken(TokenError::BoundTokenAsBearer),
            Some(Scheme::Bearer),
            None,
            true,
            None,
            ES256,
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
            None,
            false,
            None,
            AlgorithmSet::all(),
        );
        assert_eq!(
            all,
            r#"DPoP algs="ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 PS512""#
        );
        let narrow: AlgorithmSet = [Algorithm::Ps256, Algorithm::Ed25519].into_iter().collect();
        let some = for_error(&Error::NoCredentials, None, None, false, None, narrow);
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
