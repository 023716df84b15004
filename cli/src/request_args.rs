//! `--method M` and `--url URL`: the request a proof is for, checked before anything is
//! signed or verified, with errors that say what is wrong.

/// Parses `--method`: an RFC 9110 §9.1 method token in upper case. Methods are
/// case-sensitive (`htm` is compared exactly, RFC 9449 §4.3 step 8) and the registered ones
/// are upper case, so `get` would sign or expect an `htm` no server ever matches: refused,
/// with the upper-case spelling suggested.
pub fn parse_method(text: &str) -> Result<String, String> {
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if text.is_empty() || !text.bytes().all(is_tchar) {
        return Err(
            "not an HTTP method token (RFC 9110 §9.1: letters, digits and !#$%&'*+-.^_`|~)"
                .to_owned(),
        );
    }
    if text.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(format!(
            "HTTP methods are case-sensitive and upper case (RFC 9110 §9.1); use {}",
            text.to_ascii_uppercase()
        ));
    }
    Ok(text.to_owned())
}

/// Parses `--url`: a URL that can be an `htu` (RFC 9449 §4.3 step 9: absolute `http`/`https`,
/// no user information, RFC 3986 characters); the error names the broken rule.
pub fn parse_url(text: &str) -> Result<String, String> {
    keybound::check_htu(text)
        .map(|()| text.to_owned())
        .map_err(|problem| problem.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_upper_case_tokens() {
        for ok in ["GET", "POST", "PATCH", "M-SEARCH", "PROPFIND"] {
            assert_eq!(parse_method(ok).as_deref(), Ok(ok));
        }
        assert!(parse_method("get").unwrap_err().contains("use GET"));
        for bad in ["", "GE T", "GET\r\n", "GÉT", "GET/1"] {
            assert!(parse_method(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urls_say_what_is_wrong() {
        assert!(parse_url("https://api.example.com/x?q").is_ok());
        assert!(parse_url("not-a-url").unwrap_err().contains("absolute"));
        assert!(parse_url("ftp://x/").unwrap_err().contains("http"));
        assert!(parse_url("https://u@x/")
            .unwrap_err()
            .contains("user information"));
    }
}
