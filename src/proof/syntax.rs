//! Small grammar checks shared by the client and the server.

/// RFC 9449 §8.1: `nonce = 1*NQCHAR`, `NQCHAR = %x21 / %x23-5B / %x5D-7E` (visible ASCII
/// except `"` and `\`), so a nonce can be carried in a header and a challenge unquoted.
pub(crate) fn is_nonce(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// RFC 9110 §5.6.2 `token` (`1*tchar`): methods (§9.1) and authentication schemes (§11.1).
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// An access token sent as `DPoP <token>` is a `token68` (RFC 9449 §7.1, RFC 9110 §11.2):
/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub(crate) fn is_token68(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_grammar() {
        assert!(is_nonce("eyJ7S_zG.eyJH0-Z.HX4w-7v"));
        assert!(is_nonce("!#[]~"));
        for bad in ["", "a b", "a\"b", "a\\b", "é", "a\tb", "a\x7fb"] {
            assert!(!is_nonce(bad), "{bad:?}");
        }
    }

    #[test]
    fn method_grammar() {
        assert!(is_token("GET"));
        assert!(is_token("M-SEARCH"));
        assert!(!is_token(""));
        assert!(!is_token("GET "));
        assert!(!is_token("G(T"));
    }

    #[test]
    fn token68_grammar() {
        assert!(is_token68("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"));
        assert!(is_token68("abc=="));
        assert!(!is_token68("=="));
        assert!(!is_token68("a=b"));
        assert!(!is_token68("a b"));
    }
}
