//! Reading the `Authorization` header (RFC 9110 §11.6.2, RFC 9449 §7.1, RFC 6750 §2.1).

use crate::error::{Error, RequestError};
use crate::proof::syntax;

/// The authentication scheme a token was presented with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `Authorization: DPoP <token>` (RFC 9449 §7.1).
    Dpop,
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1).
    Bearer,
}

/// The credentials of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Credentials<'a> {
    pub(crate) scheme: Scheme,
    pub(crate) token: &'a str,
}

/// Reads every `Authorization` header value of a request.
///
/// - none, or only schemes this server does not know → [`Error::NoCredentials`] (RFC 6750 §3:
///   no error code for an unsupported method);
/// - more than one value, or several credentials folded into one → `invalid_request`
///   (RFC 6750 §3.1, RFC 9449 §7.2);
/// - `DPoP`/`Bearer` not followed by exactly one `token68` → `invalid_request`.
///
/// Scheme names are case-insensitive (RFC 9110 §11.1).
pub(crate) fn parse<'a>(values: &[&'a str]) -> Result<Credentials<'a>, Error> {
    let value = match values {
        [] => return Err(Error::NoCredentials),
        [one] => one.trim_matches([' ', '\t']),
        _ => return Err(RequestError::MultipleAuthorization.into()),
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let scheme = if scheme.eq_ignore_ascii_case("DPoP") {
        Scheme::Dpop
    } else if scheme.eq_ignore_ascii_case("Bearer") {
        Scheme::Bearer
    } else if syntax::is_token(scheme) {
        // Another scheme (Basic, …): no credentials this server understands.
        return Err(Error::NoCredentials);
    } else {
        return Err(RequestError::MalformedAuthorization.into());
    };
    let token = rest.trim_start_matches(' ');
    if token.contains(',') {
        return Err(RequestError::MultipleAuthorization.into());
    }
    if !syntax::is_token68(token) {
        return Err(RequestError::MalformedAuthorization.into());
    }
    Ok(Credentials { scheme, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_schemes_case_insensitively() {
        let c = parse(&["DPoP abc.def-ghi"]).unwrap();
        assert_eq!((c.scheme, c.token), (Scheme::Dpop, "abc.def-ghi"));
        assert_eq!(parse(&["dpop  abc"]).unwrap().scheme, Scheme::Dpop);
        assert_eq!(parse(&["BEARER abc"]).unwrap().scheme, Scheme::Bearer);
    }

    #[test]
    fn refuses_malformed_and_multiple() {
        assert_eq!(parse(&[]), Err(Error::NoCredentials));
        assert_eq!(parse(&["Basic dXNlcjpwdw=="]), Err(Error::NoCredentials));
        let multiple = Err(Error::InvalidRequest(RequestError::MultipleAuthorization));
        assert_eq!(parse(&["DPoP a", "DPoP b"]), multiple);
        assert_eq!(parse(&["DPoP a", "Bearer a"]), multiple);
        assert_eq!(parse(&["DPoP a, Bearer b"]), multiple);
        let malformed = Err(Error::InvalidRequest(RequestError::MalformedAuthorization));
        assert_eq!(parse(&["DPoP"]), malformed);
        assert_eq!(parse(&["DPoP "]), malformed);
        assert_eq!(parse(&["DPoP a b"]), malformed);
        assert_eq!(parse(&["DPoP a\"b"]), malformed);
        assert_eq!(parse(&["\u{1} a"]), malformed);
        assert_eq!(parse(&[""]), malformed);
    }
}
