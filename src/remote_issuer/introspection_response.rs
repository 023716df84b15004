//! Reading an RFC 7662 introspection answer into the claims the guard checks.

use serde_json::Value;

use crate::error::{Error, TokenError, UpstreamError};
use crate::jose::json;
use crate::jose::thumbprint::TokenHash;
use crate::time::UnixTime;
use crate::token::claims::{self, AccessTokenClaims};

/// What an introspection answer says, checked.
pub(crate) enum Answer {
    /// `active: true`, and every check passed.
    Active(Box<AccessTokenClaims>),
    /// `active: false` (or anything but `true`).
    Inactive,
}

/// What an answer is checked against.
pub(crate) struct Expectations<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audiences: &'a [String],
    pub(crate) leeway_secs: u64,
}

/// Reads `body`, the JSON of a 200 answer (RFC 7662 §2.2), for the token whose hash is `hash`.
///
/// `active` must be `true`, else the token is [`Answer::Inactive`]. For an active token:
/// `iss`, when present, must be the issuer; `aud` must be present and name an accepted
/// audience (a token for another resource of the same authorization server is refused); `exp`
/// must be present and not past (with leeway), `nbf`/`iat` not in the future; `cnf.jkt`, when
/// present, makes the token bound and then `token_type` must be `DPoP` (RFC 9449 §6.2), and a
/// `DPoP` token without `cnf.jkt` is refused. `sub`, `client_id` and `jti` may be absent (they
/// read as empty; `jti` as the token's hash, so revocation by token still works).
///
/// A body that is not a JSON object gives [`UpstreamError::Malformed`] (fail closed, 503).
pub(crate) fn read(
    body: &[u8],
    hash: &TokenHash,
    expected: &Expectations<'_>,
    now: UnixTime,
) -> Result<Answer, Error> {
    let mut object =
        json::parse_object(body, json::DEFAULT_MAX_DEPTH).map_err(|_| UpstreamError::Malformed)?;
    if object.remove("active") != Some(Value::Bool(true)) {
        return Ok(Answer::Inactive);
    }
    let iss = match claims::take_optional_string(&mut object, "iss")? {
        Some(iss) if iss != expected.issuer => return Err(TokenError::WrongIssuer.into()),
        _ => expected.issuer.to_owned(),
    };
    let aud = claims::take_audiences(&mut object)?.ok_or(TokenError::MissingClaim("aud"))?;
    if !aud.iter().any(|a| expected.audiences.contains(a)) {
        return Err(TokenError::WrongAudience.into());
    }
    let exp = claims::take_date(&mut object, "exp")?.ok_or(TokenError::MissingClaim("exp"))?;
    let iat = claims::take_date(&mut object, "iat")?;
    let nbf = claims::take_date(&mut object, "nbf")?;
    let jkt = claims::take_confirmation(&mut object)?;
    let token_type = claims::take_optional_string(&mut object, "token_type")?;
    let dpop = token_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("DPoP"));
    if jkt.is_some() != dpop {
        return Err(TokenError::WrongTokenType.into());
    }
    let claims = AccessTokenClaims {
        iss,
        sub: claims::take_optional_string(&mut object, "sub")?.unwrap_or_default(),
        aud,
        exp,
        iat: iat.unwrap_or(now),
        nbf,
        jti: claims::take_optional_string(&mut object, "jti")?
            .unwrap_or_else(|| hash.to_base64url()),
        client_id: claims::take_optional_string(&mut object, "client_id")?.unwrap_or_default(),
        scope: claims::take_optional_string(&mut object, "scope")?,
        jkt,
        extra: object,
    };
    let leeway = expected.leeway_secs;
    if now.saturating_sub(leeway) >= claims.exp {
        return Err(TokenError::Expired {
            exp: claims.exp.as_secs(),
            now: now.as_secs(),
        }
        .into());
    }
    for not_before in [claims.nbf, iat].into_iter().flatten() {
        if not_before > now.saturating_add(leeway) {
            return Err(TokenError::NotYetValid {
                nbf: not_before.as_secs(),
                now: now.as_secs(),
            }
            .into());
        }
    }
    Ok(Answer::Active(Box::new(claims)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://as.example.com";
    const NOW: u64 = 1_700_000_000;

    fn read_at(body: &str) -> Result<Answer, Error> {
        let audiences = ["https://api.example.com".to_owned()];
        read(
            body.as_bytes(),
            &TokenHash::of("opaque"),
            &Expectations {
                issuer: ISS,
                audiences: &audiences,
                leeway_secs: 5,
            },
            UnixTime::from_secs(NOW),
        )
    }

    fn active(extra: &str) -> String {
        format!(
            r#"{{"active":true,"aud":"https://api.example.com","exp":{},"token_type":"DPoP",
            "cnf":{{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}{extra}}}"#,
            NOW + 60
        )
    }

    fn error(body: &str) -> Error {
        match read_at(body) {
            Err(e) => e,
            Ok(_) => panic!("accepted: {body}"),
        }
    }

    #[test]
    fn an_active_bound_token() {
        let Ok(Answer::Active(claims)) = read_at(&active(r#","sub":"alice","scope":"a b""#)) else {
            panic!("refused")
        };
        assert_eq!(claims.subject(), "alice");
        assert_eq!(claims.issuer(), ISS);
        assert!(claims.has_scope("b"));
        assert!(claims.jkt().is_some());
        assert_eq!(claims.jti(), TokenHash::of("opaque").to_base64url());
    }

    #[test]
    fn inactive_unless_active_is_true() {
        for body in [
            r#"{"active":false}"#,
            r#"{"active":"true"}"#,
            r#"{}"#,
            r#"{"active":1}"#,
        ] {
            assert!(matches!(read_at(body), Ok(Answer::Inactive)), "{body}");
        }
    }

    #[test]
    fn every_check() {
        assert_eq!(
            error(&active(r#","iss":"https://evil.example.com""#)),
            Error::InvalidToken(TokenError::WrongIssuer)
        );
        assert_eq!(
            error(
                &active(r#","iss":"https://as.example.com""#)
                    .replace("https://api.example.com", "https://other.example.com")
            ),
            Error::InvalidToken(TokenError::WrongAudience)
        );
        assert_eq!(
            error(&active("").replace(r#""aud":"https://api.example.com","#, "")),
            Error::InvalidToken(TokenError::MissingClaim("aud"))
        );
        assert_eq!(
            error(&active("").replace(&format!(r#""exp":{},"#, NOW + 60), "")),
            Error::InvalidToken(TokenError::MissingClaim("exp"))
        );
        assert!(matches!(
            error(&active("").replace(&(NOW + 60).to_string(), &(NOW - 5).to_string())),
            Error::InvalidToken(TokenError::Expired { .. })
        ));
        assert!(matches!(
            error(&active(&format!(r#","nbf":{}"#, NOW + 6))),
            Error::InvalidToken(TokenError::NotYetValid { .. })
        ));
        assert_eq!(
            error(&active("").replace(r#""token_type":"DPoP""#, r#""token_type":"Bearer""#)),
            Error::InvalidToken(TokenError::WrongTokenType)
        );
        assert_eq!(
            error(&active("").replace(r#","token_type":"DPoP""#, "")),
            Error::InvalidToken(TokenError::WrongTokenType)
        );
        assert_eq!(
            error(&format!(
                r#"{{"active":true,"aud":"https://api.example.com","exp":{},"token_type":"DPoP"}}"#,
                NOW + 60
            )),
            Error::InvalidToken(TokenError::WrongTokenType)
        );
        assert_eq!(
            error(&active("").replace(r#"{"jkt""#, r#"{"x5t#S256""#)),
            Error::InvalidToken(TokenError::InvalidClaim("cnf"))
        );
        for broken in ["[]", "{", "\u{0}", r#"{"active":true,"active":true}"#] {
            assert_eq!(
                error(broken),
                Error::Upstream(UpstreamError::Malformed),
                "{broken}"
            );
        }
    }

    #[test]
    fn an_unbound_token_reads_as_bearer() {
        let body = format!(
            r#"{{"active":true,"aud":["x","https://api.example.com"],"exp":{},"token_type":"Bearer"}}"#,
            NOW + 60
        );
        let Ok(Answer::Active(claims)) = read_at(&body) else {
            panic!("refused")
        };
        assert_eq!(claims.jkt(), None);
    }
}
