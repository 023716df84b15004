//! Which URLs this crate fetches keys, metadata and introspection answers from: `https`, or
//! `http` to a loopback host only (a test server, a sidecar on the same machine).

use crate::error::{Error, UpstreamError};
use crate::proof::htu;

/// Whether `url` may carry tokens and proofs under keybound's transport rule: `https`, `http`
/// to a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`), or anything that is not an
/// `http:` URL (an identifier such as a URN). `false` for plain `http` to any other host —
/// what the library's `allow_insecure_http()` options exist for. For tools that take URLs from
/// their users (the CLI's `--insecure-http`).
pub fn is_secure_url(url: &str) -> bool {
    refuse_plain_http(url, false, "url").is_ok()
}

/// Refuses `url` when it is plain `http` to a host that is not loopback, unless `allowed` (the
/// caller's explicitly named insecure option): tokens and proofs must not travel in the clear.
/// Anything that is not an `http:` URL passes — `https`, or an identifier such as a URN.
///
/// Errors: [`Error::InsecureUrl`]`(name)`.
pub(crate) fn refuse_plain_http(url: &str, allowed: bool, name: &'static str) -> Result<(), Error> {
    let is_http = url
        .get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http:"));
    if is_http && !allowed && check(url).is_err() {
        return Err(Error::InsecureUrl(name));
    }
    Ok(())
}

/// `url` if it is an absolute `https` URL — or `http` to `localhost`, `127.0.0.0/8` or `[::1]`
/// — with no userinfo and no fragment; otherwise [`UpstreamError::InsecureUrl`].
pub(crate) fn check(url: &str) -> Result<&str, UpstreamError> {
    if url.contains('#') {
        return Err(UpstreamError::InsecureUrl);
    }
    let normalized = htu::normalize(url).map_err(|_| UpstreamError::InsecureUrl)?;
    if normalized.starts_with("https://") {
        return Ok(url);
    }
    let rest = normalized
        .strip_prefix("http://")
        .ok_or(UpstreamError::InsecureUrl)?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = if authority.starts_with('[') {
        authority
            .split(']')
            .next()
            .map(|h| &h[1..])
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if is_loopback(host) {
        Ok(url)
    } else {
        Err(UpstreamError::InsecureUrl)
    }
}

/// `localhost` or a loopback address (`127.0.0.0/8`, `::1`, `::ffff:127.0.0.0/104`): traffic
/// that never leaves the machine. `host` is a bare host (IPv6 without brackets).
pub(crate) fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost.") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|ip| ip.is_loopback())
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_only() {
        for ok in [
            "https://as.example.com/jwks",
            "HTTPS://AS.example.com:8443/x?y=1",
            "http://127.0.0.1:3000/jwks",
            "http://127.9.9.9/",
            "http://localhost:8080/x",
            "http://[::1]:80/x",
            "http://[::ffff:127.0.0.1]/x",
        ] {
            assert_eq!(check(ok), Ok(ok), "{ok}");
        }
        for bad in [
            "http://as.example.com/jwks",
            "http://128.0.0.1/",
            "http://localhost.example.com/",
            "http://[::2]/",
            "ftp://127.0.0.1/",
            "https://user@as.example.com/",
            "https://as.example.com/#frag",
            "//as.example.com/",
            "https://as example.com/",
            "",
        ] {
            assert_eq!(check(bad), Err(UpstreamError::InsecureUrl), "{bad}");
        }
    }

    #[test]
    fn plain_http_refused_off_loopback_unless_allowed() {
        for insecure in ["http://as.example.com", "HTTP://10.0.0.1/token"] {
            assert_eq!(
                refuse_plain_http(insecure, false, "issuer"),
                Err(Error::InsecureUrl("issuer"))
            );
            assert_eq!(refuse_plain_http(insecure, true, "issuer"), Ok(()));
        }
        for fine in [
            "https://as.example.com",
            "http://127.0.0.1:8080/token",
            "http://localhost",
            "urn:example:issuer",
            "as",
        ] {
            assert_eq!(refuse_plain_http(fine, false, "issuer"), Ok(()), "{fine}");
        }
    }
}
