//! Which URL a request was made to, as the client saw it: the expected `htu`.
//!
//! The most reported DPoP failure is an `htu` mismatch behind a proxy: the client signs
//! `https://api.example.com/v1/orders`, the server sees `http://10.0.0.7:8080/orders`. The
//! policy below rebuilds the public URL from configuration — never from the request's own `Host`
//! header — and uses forwarded headers only when told to trust them.

use crate::error::Error;
use crate::proof::htu;

/// One accepted public origin: scheme and authority (`https://api.example.com[:port]`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Origin {
    /// `https://api.example.com`, as configured (no trailing slash).
    text: String,
    /// The authority, lower-cased, to compare with a `Host` header.
    authority: String,
}

impl Origin {
    fn parse(origin: &str) -> Result<Self, Error> {
        let text = origin.trim_end_matches('/');
        let normalized = htu::normalize(text).map_err(|_| Error::InvalidArgument("origin"))?;
        // An origin has no path, query or fragment.
        let without_slash = &normalized[..normalized.len() - 1];
        if !normalized.ends_with('/')
            || without_slash.matches('/').count() != 2
            || text.contains(['?', '#'])
        {
            return Err(Error::InvalidArgument("origin"));
        }
        let authority = text
            .split_once("://")
            .map(|(_, authority)| authority.to_ascii_lowercase())
            .ok_or(Error::InvalidArgument("origin"))?;
        Ok(Self {
            text: text.to_owned(),
            authority,
        })
    }
}

/// How a server finds the public URL of a request (the `htu` it must match).
///
/// - One or several configured public origins. With several, the one whose authority equals the
///   request's `Host` is used, else the first: the `Host` header can choose among configured
///   origins, never introduce one.
/// - An optional path prefix that a proxy strips before forwarding (`/api` when the proxy maps
///   `https://example.com/api/…` to the service's `/…`).
/// - Forwarded headers (`Forwarded`, `X-Forwarded-Proto`, `X-Forwarded-Host`,
///   `X-Forwarded-Prefix`) only after [`trusting_forwarded_headers`](Self::trusting_forwarded_headers),
///   and then the value set by the nearest proxy (the last one), validated; anything malformed
///   falls back to the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrlPolicy {
    origins: Vec<Origin>,
    path_prefix: String,
    trust_forwarded: bool,
}

impl PublicUrlPolicy {
    /// A policy for the public `origin`, e.g. `https://api.example.com`.
    pub fn new(origin: &str) -> Result<Self, Error> {
        Ok(Self {
            origins: vec![Origin::parse(origin)?],
            path_prefix: String::new(),
            trust_forwarded: false,
        })
    }

    /// Accepts a further public origin (the `Host` header picks among them).
    pub fn with_origin(mut self, origin: &str) -> Result<Self, Error> {
        self.origins.push(Origin::parse(origin)?);
        Ok(self)
    }

    /// The path prefix a proxy strips, e.g. `/api`.
    pub fn with_path_prefix(mut self, prefix: &str) -> Result<Self, Error> {
        self.path_prefix = checked_prefix(prefix).ok_or(Error::InvalidArgument("path_prefix"))?;
        Ok(self)
    }

    /// Uses forwarded headers. Only when every request reaches the service through a proxy you
    /// control that sets (or overwrites) them; otherwise a client could choose the URL its
    /// proof is checked against.
    pub fn trusting_forwarded_headers(mut self) -> Self {
        self.trust_forwarded = true;
        self
    }

    /// The public URL of a request for `path_and_query` (as received, e.g. `/orders?page=2`),
    /// reading headers through `header` (all values of a header, case-insensitive name).
    pub fn url_for<'h>(
        &self,
        path_and_query: &str,
        header: impl Fn(&str) -> Vec<&'h str>,
    ) -> String {
        let path = if path_and_query.starts_with('/') {
            path_and_query
        } else {
            "/"
        };
        let mut origin = self.configured_origin(&header);
        let mut prefix = self.path_prefix.clone();
        if self.trust_forwarded {
            if let Some(forwarded) = forwarded_origin(&header) {
                origin = forwarded;
            }
            if let Some(forwarded_prefix) =
                last_value(&header, "x-forwarded-prefix").and_then(checked_prefix)
            {
                prefix = forwarded_prefix;
            }
        }
        format!("{origin}{prefix}{path}")
    }

    fn configured_origin<'h>(&self, header: &impl Fn(&str) -> Vec<&'h str>) -> String {
        let host = header("host")
            .first()
            .map(|h| h.trim().to_ascii_lowercase());
        let chosen = host
            .and_then(|host| self.origins.iter().find(|o| o.authority == host))
            .unwrap_or(&self.origins[0]);
        chosen.text.clone()
    }
}

/// The last element of the last value of a header (the nearest proxy's), trimmed.
fn last_value<'h>(header: &impl Fn(&str) -> Vec<&'h str>, name: &str) -> Option<&'h str> {
    let values = header(name);
    let last = values.last()?;
    last.rsplit(',')
        .next()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `scheme://host` from trusted forwarded headers, if present and well-formed.
fn forwarded_origin<'h>(header: &impl Fn(&str) -> Vec<&'h str>) -> Option<String> {
    let (proto, host) = match last_value(header, "forwarded") {
        Some(element) => {
            let mut proto = None;
            let mut host = None;
            for pair in element.split(';') {
                if let Some((name, value)) = pair.split_once('=') {
                    let value = value.trim().trim_matches('"');
                    match name.trim().to_ascii_lowercase().as_str() {
                        "proto" => proto = Some(value.to_owned()),
                        "host" => host = Some(value.to_owned()),
                        _ => {}
                    }
                }
            }
            (proto, host)
        }
        None => (
            last_value(header, "x-forwarded-proto").map(str::to_owned),
            last_value(header, "x-forwarded-host").map(str::to_owned),
        ),
    };
    let proto = proto?.to_ascii_lowercase();
    let host = host?;
    if proto != "http" && proto != "https" {
        return None;
    }
    let candidate = format!("{proto}://{host}");
    Origin::parse(&candidate).ok().map(|o| o.text)
}

/// A path prefix: empty, or `/segment[/segment…]` without a trailing slash, query or fragment.
fn checked_prefix(prefix: &str) -> Option<String> {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return Some(String::new());
    }
    let valid = prefix.starts_with('/')
        && !prefix.contains(['?', '#'])
        && htu::normalize(&format!("http://h{prefix}")).is_ok();
    valid.then(|| prefix.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Vec<&'a str> + 'a {
        move |name| {
            pairs
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
                .collect()
        }
    }

    #[test]
    fn configured_origin_and_prefix() {
        let policy = PublicUrlPolicy::new("https://api.example.com").unwrap();
        assert_eq!(
            policy.url_for("/orders?x=1", headers(&[("Host", "evil.example")])),
            "https://api.example.com/orders?x=1"
        );
        let prefixed = policy.clone().with_path_prefix("/api/").unwrap();
        assert_eq!(
            prefixed.url_for("/orders", headers(&[])),
            "https://api.example.com/api/orders"
        );
        assert!(PublicUrlPolicy::new("https://api.example.com/path").is_err());
        assert!(PublicUrlPolicy::new("api.example.com").is_err());
        assert!(PublicUrlPolicy::new("https://api.example.com?x").is_err());
        assert!(policy.clone().with_path_prefix("api").is_err());
        assert!(policy.with_path_prefix("/a b").is_err());
    }

    #[test]
    fn host_picks_among_configured_origins_only() {
        let policy = PublicUrlPolicy::new("https://a.example.com")
            .unwrap()
            .with_origin("https://b.example.com:8443")
            .unwrap();
        assert_eq!(
            policy.url_for("/x", headers(&[("host", "B.example.com:8443")])),
            "https://b.example.com:8443/x"
        );
        assert_eq!(
            policy.url_for("/x", headers(&[("host", "c.example.com")])),
            "https://a.example.com/x"
        );
    }

    #[test]
    fn forwarded_headers_only_when_trusted() {
        let forwarded = [
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "public.example.com"),
            ("X-Forwarded-Prefix", "/api"),
        ];
        let policy = PublicUrlPolicy::new("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            policy.url_for("/orders", headers(&forwarded)),
            "http://127.0.0.1:8080/orders"
        );
        let trusting = policy.trusting_forwarded_headers();
        assert_eq!(
            trusting.url_for("/orders", headers(&forwarded)),
            "https://public.example.com/api/orders"
        );
        let rfc7239 = [("Forwarded", "for=1.2.3.4;proto=http;host=evil.example, for=5.6.7.8;proto=https;host=\"api.example.com\"")];
        assert_eq!(
            trusting.url_for("/o", headers(&rfc7239)),
            "https://api.example.com/o"
        );
        // Malformed forwarded values fall back to the configuration.
        let bad = [("X-Forwarded-Proto", "ftp"), ("X-Forwarded-Host", "x")];
        assert_eq!(
            trusting.url_for("/o", headers(&bad)),
            "http://127.0.0.1:8080/o"
        );
        let bad_host = [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "a b")];
        assert_eq!(
            trusting.url_for("/o", headers(&bad_host)),
            "http://127.0.0.1:8080/o"
        );
    }
}
