//! The `htu` rule (RFC 9449 §4.3 step 9): the proof's URL and the request's URL are compared
//! after RFC 3986 §6.2.2 (syntax-based) and §6.2.3 (scheme-based) normalisation, ignoring query
//! and fragment.
//!
//! Normalisation does exactly this and nothing more lenient:
//! - scheme and host are case-folded; only `http` and `https` are accepted;
//! - the default port (80 for http, 443 for https) and an empty port are dropped;
//! - an empty path becomes `/`;
//! - percent-encoded unreserved characters are decoded and the hex digits of the remaining
//!   percent-encodings are upper-cased;
//! - dot segments (`.`, `..`) are removed (RFC 3986 §5.2.4).
//!
//! Everything else stays significant: a trailing slash, an empty segment (`//`), an encoded
//! `/` (`%2F`), the case of the path. URLs with user information, characters outside the
//! RFC 3986 repertoire, or malformed percent-encodings are refused.

/// Why a URL cannot be an `htu` (or the request URL it is compared with): each variant is one
/// rule of this module, and its `Display` says which, without repeating the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidUrl {
    /// A character outside the RFC 3986 repertoire (a space, non-ASCII text, `"`, `<`, …).
    Characters,
    /// Not an absolute URL `scheme://authority…`.
    NotAbsolute,
    /// A scheme other than `http` and `https`.
    Scheme,
    /// User information (`user@` before the host), which `htu` never carries.
    UserInfo,
    /// An empty or malformed host (or IPv6 literal).
    Host,
    /// A port that is not a number up to 65535.
    Port,
    /// A `%` not followed by two hex digits.
    PercentEncoding,
}

impl InvalidUrl {
    /// What is wrong, in a few words.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Characters => "characters outside RFC 3986 (encode spaces and non-ASCII)",
            Self::NotAbsolute => "not an absolute URL (expected https://host/path)",
            Self::Scheme => "only http and https URLs",
            Self::UserInfo => "user information (user@host) is not allowed",
            Self::Host => "empty or malformed host",
            Self::Port => "the port is not a number from 0 to 65535",
            Self::PercentEncoding => "a % not followed by two hex digits",
        }
    }
}

impl core::fmt::Display for InvalidUrl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for InvalidUrl {}

/// Whether `url` can be a DPoP `htu` or the request URL it is compared with (RFC 9449 §4.3
/// step 9): an absolute `http`/`https` URL under this module's rules; if not, which rule it
/// breaks. Query and fragment are ignored, as in the comparison.
pub fn check_htu(url: &str) -> Result<(), InvalidUrl> {
    normalize(url).map(drop)
}

/// The URL without its query and fragment, as a client puts it in `htu`.
pub(crate) fn without_query_and_fragment(url: &str) -> &str {
    url.find(['?', '#']).map_or(url, |end| &url[..end])
}

/// Normalises an absolute `http`/`https` URL for comparison; query and fragment are dropped.
pub(crate) fn normalize(url: &str) -> Result<String, InvalidUrl> {
    let url = without_query_and_fragment(url);
    if !url.bytes().all(is_uri_char) {
        return Err(InvalidUrl::Characters);
    }
    let (scheme, rest) = url.split_once(':').ok_or(InvalidUrl::NotAbsolute)?;
    let rest = rest.strip_prefix("//").ok_or(InvalidUrl::NotAbsolute)?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(InvalidUrl::Scheme),
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    if authority.contains('@') {
        return Err(InvalidUrl::UserInfo);
    }
    let (host, port) = split_host_port(authority)?;
    let host = normalize_percent_encoding(host, true)?;

    let mut out = String::with_capacity(url.len() + 1);
    out.push_str(&scheme);
    out.push_str("://");
    out.push_str(&host);
    if let Some(port) = port.filter(|p| *p != default_port) {
        out.push(':');
        out.push_str(&port.to_string());
    }
    let path = normalize_percent_encoding(path, false)?;
    if path.is_empty() {
        out.push('/');
    } else {
        remove_dot_segments(&path, &mut out);
    }
    Ok(out)
}

/// Characters allowed in an RFC 3986 URI: unreserved, reserved and `%`.
fn is_uri_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b)
}

/// Splits `host[:port]`; the port is `None` when absent or empty (RFC 3986 §6.2.3).
fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), InvalidUrl> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or(InvalidUrl::Host)?;
        let (host, after) = authority.split_at(end + 1);
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or(InvalidUrl::Host)?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_ok = if host.starts_with('[') {
        host.len() > 2
            && host[1..host.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b":.".contains(&b))
    } else {
        !host.is_empty() && !host.bytes().any(|b| b"[]:/?#@".contains(&b))
    };
    if !host_ok {
        return Err(InvalidUrl::Host);
    }
    let port = match port {
        None | Some("") => None,
        Some(digits) if digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(digits.parse::<u16>().map_err(|_| InvalidUrl::Port)?)
        }
        Some(_) => return Err(InvalidUrl::Port),
    };
    Ok((host, port))
}

/// Decodes percent-encoded unreserved characters and upper-cases the hex digits of the rest
/// (RFC 3986 §6.2.2.2); with `fold_case`, also lower-cases letters (for the host, §6.2.2.1).
fn normalize_percent_encoding(input: &str, fold_case: bool) -> Result<String, InvalidUrl> {
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(InvalidUrl::PercentEncoding)?;
            let value = (hex_value(hex[0])? << 4) | hex_value(hex[1])?;
            if value.is_ascii_alphanumeric() || b"-._~".contains(&value) {
                let c = char::from(value);
                out.push(if fold_case { c.to_ascii_lowercase() } else { c });
            } else {
                out.push('%');
                out.push(char::from(hex[0].to_ascii_uppercase()));
                out.push(char::from(hex[1].to_ascii_uppercase()));
            }
            i += 3;
        } else {
            let c = char::from(b);
            out.push(if fold_case { c.to_ascii_lowercase() } else { c });
            i += 1;
        }
    }
    Ok(out)
}

fn hex_value(b: u8) -> Result<u8, InvalidUrl> {
    match b {
        b'0'..=b'9' => Ok(b - b'0'),
        b'a'..=b'f' => Ok(b - b'a' + 10),
        b'A'..=b'F' => Ok(b - b'A' + 10),
        _ => Err(InvalidUrl::PercentEncoding),
    }
}

/// RFC 3986 §5.2.4 for an absolute path (starting with `/`), appended to `out`. The input
/// buffer always begins with `/` (every step below keeps it so), so the algorithm's rules for
/// relative prefixes (`../`, `./`, a lone `.` or `..`) can never apply and are left out.
fn remove_dot_segments(path: &str, out: &mut String) {
    let base = out.len();
    let mut input = path;
    while !input.is_empty() {
        if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") || input == "/.." {
            input = if input == "/.." { "/" } else { &input[3..] };
            let last = out[base..].rfind('/').map_or(base, |i| base + i);
            out.truncate(last);
        } else {
            // Move the first segment, with its leading `/`, to the output.
            let end = input[1..].find('/').map_or(input.len(), |i| i + 1);
            out.push_str(&input[..end]);
            input = &input[end..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> bool {
        normalize(a).unwrap() == normalize(b).unwrap()
    }

    #[test]
    fn equal_after_normalisation() {
        let pairs = [
            (
                "https://server.example.com/token",
                "https://server.example.com/token",
            ),
            (
                "HTTPS://Server.Example.COM/token",
                "https://server.example.com/token",
            ),
            (
                "https://server.example.com:443/token",
                "https://server.example.com/token",
            ),
            (
                "http://server.example.com:80/token",
                "http://server.example.com/token",
            ),
            (
                "https://server.example.com:/token",
                "https://server.example.com/token",
            ),
            ("https://server.example.com", "https://server.example.com/"),
            (
                "https://server.example.com:443",
                "https://server.example.com/",
            ),
            ("https://a.example/%7Euser/%61", "https://a.example/~user/a"),
            ("https://a.example/x%2fy", "https://a.example/x%2Fy"),
            ("https://a.example/x%3a", "https://a.example/x%3A"),
            ("https://a.example/a/./b/../c", "https://a.example/a/c"),
            ("https://a.example/a/b/..", "https://a.example/a/"),
            ("https://a.example/../../a", "https://a.example/a"),
            ("https://a.example/a/%2E%2E/b", "https://a.example/b"),
            ("https://a.example/token?x=1", "https://a.example/token"),
            ("https://a.example/token#frag", "https://a.example/token"),
            (
                "https://a.example/token?x=1#f",
                "https://a.example/token?y=2",
            ),
            ("https://%61.example/", "https://a.example/"),
            ("https://[::1]:443/x", "https://[::1]/x"),
            ("https://[ABCD::1]/x", "https://[abcd::1]/x"),
            ("https://a.example:08443/x", "https://a.example:8443/x"),
        ];
        for (a, b) in pairs {
            assert!(same(a, b), "{a} should equal {b}");
        }
    }

    #[test]
    fn different_after_normalisation() {
        let pairs = [
            ("https://a.example/token", "https://a.example/token/"),
            ("https://a.example/a//b", "https://a.example/a/b"),
            ("https://a.example/a%2Fb", "https://a.example/a/b"),
            ("https://a.example/Token", "https://a.example/token"),
            ("https://a.example/token", "http://a.example/token"),
            ("https://a.example:8443/token", "https://a.example/token"),
            ("http://a.example:443/token", "https://a.example/token"),
            ("https://a.example/token", "https://b.example/token"),
            ("https://a.example/token", "https://a.example.evil/token"),
            ("https://a.example/%41", "https://a.example/%61"),
            ("https://a.example/a%20b", "https://a.example/a+b"),
        ];
        for (a, b) in pairs {
            assert!(!same(a, b), "{a} should differ from {b}");
        }
    }

    #[test]
    fn refuses_malformed_urls() {
        use InvalidUrl::*;
        for (url, problem) in [
            ("", NotAbsolute),
            ("/token", NotAbsolute),
            ("server.example.com/token", NotAbsolute),
            ("not-a-url", NotAbsolute),
            ("ftp://a.example/x", Scheme),
            ("https:/a.example/x", NotAbsolute),
            ("https://user@a.example/x", UserInfo),
            ("https://user:pw@a.example/x", UserInfo),
            ("https:///x", Host),
            ("https://a.example:99999/x", Port),
            ("https://a.example:443x/x", Port),
            ("https://a.example:-1/x", Port),
            ("https://a.example/a b", Characters),
            ("https://a.example/ä", Characters),
            ("https://a.example/%zz", PercentEncoding),
            ("https://a.example/%4", PercentEncoding),
            ("https://a.example/x\n", Characters),
            ("https://[::1/x", Host),
            ("https://[::1]x/", Host),
            ("https://[zz]/", Host),
            ("https://[]/x", Host),
            ("https://a.example:+443/x", Port),
            ("https://a.example:000443/x", Port),
            ("https://a.exa\"mple/", Characters),
        ] {
            assert_eq!(normalize(url), Err(problem), "{url:?}");
            assert_eq!(check_htu(url), Err(problem), "{url:?}");
        }
        assert_eq!(check_htu("https://a.example/x?q#f"), Ok(()));
        // The description names the rule, never the URL.
        assert!(!UserInfo.to_string().contains("a.example"));
    }

    #[test]
    fn query_and_fragment_stripped_for_htu() {
        assert_eq!(without_query_and_fragment("https://a/x?y#z"), "https://a/x");
        assert_eq!(without_query_and_fragment("https://a/x#z?y"), "https://a/x");
        assert_eq!(without_query_and_fragment("https://a/x"), "https://a/x");
    }

    #[test]
    fn dot_segment_removal_matches_rfc3986_examples() {
        // RFC 3986 §5.2.4 examples.
        let mut out = String::new();
        remove_dot_segments("/a/b/c/./../../g", &mut out);
        assert_eq!(out, "/a/g");
        let mut out = String::new();
        remove_dot_segments("/mid/content=5/../6", &mut out);
        assert_eq!(out, "/mid/6");
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// URLs built from pieces that exercise every normalisation rule.
        fn url() -> impl Strategy<Value = String> {
            let scheme = prop_oneof![Just("http"), Just("https"), Just("HTTP"), Just("HtTpS")];
            let host = prop_oneof![
                Just("a.example"),
                Just("A.Example"),
                Just("%61.example"),
                Just("[::1]"),
                Just("[ABCD::1]")
            ];
            let port = prop_oneof![
                Just(""),
                Just(":"),
                Just(":80"),
                Just(":443"),
                Just(":8443"),
                Just(":0443")
            ];
            let segment = prop_oneof![
                Just("a"),
                Just("A"),
                Just("%41"),
                Just("%7e"),
                Just("~"),
                Just("."),
                Just(".."),
                Just("%2E%2E"),
                Just("%2f"),
                Just("%2F"),
                Just(""),
                Just("b%20c")
            ];
            let path = proptest::collection::vec(segment, 0..5)
                .prop_map(|segments| segments.iter().map(|s| format!("/{s}")).collect::<String>());
            let tail = prop_oneof![Just(""), Just("?q=1"), Just("#f"), Just("?x#y")];
            (scheme, host, port, path, tail)
                .prop_map(|(s, h, p, path, t)| format!("{s}://{h}{p}{path}{t}"))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn normalisation_is_idempotent(u in url()) {
                let once = normalize(&u).unwrap();
                prop_assert_eq!(normalize(&once).unwrap(), once);
            }

            #[test]
            fn equality_is_symmetric_and_transitive(a in url(), b in url(), c in url()) {
                let (na, nb, nc) = (normalize(&a).unwrap(), normalize(&b).unwrap(), normalize(&c).unwrap());
                prop_assert_eq!(na == nb, nb == na);
                if na == nb && nb == nc {
                    prop_assert_eq!(&na, &nc);
                }
            }

            #[test]
            fn never_panics(text in ".{0,200}") {
                let _ = normalize(&text);
            }
        }
    }
}
