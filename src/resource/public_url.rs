//! Which URL a request was made to, as the client saw it: the expected `htu`.
//!
//! The most reported DPoP failure is an `htu` mismatch behind a proxy: the client signs
//! `https://api.example.com/v1/orders`, the server sees `http://10.0.0.7:8080/orders`. The
//! policy below rebuilds the public URL from configuration — never from the request's own `Host`
//! header — and uses forwarded headers only when told to trust them.

use crate::error::Error;
use crate::proof::htu;
use crate::secure_url;

/// One accepted public origin: scheme and authority (`https://api.example.com[:port]`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Origin {
    /// `https://api.example.com`, as configured (no trailing slash).
    text: String,
    /// `https://api.example.com/`: the normalized form (lower case, no default port), to
    /// compare with what a `Host` or forwarded header names.
    normalized: String,
    /// `https` or `http`.
    scheme: &'static str,
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
        let scheme = if normalized.starts_with("https:") {
            "https"
        } else {
            "http"
        };
        Ok(Self {
            text: text.to_owned(),
            normalized,
            scheme,
        })
    }

    /// Whether `authority` (a `Host` value) names this origin, with `scheme` if given.
    fn is_named_by(&self, scheme: Option<&str>, authority: Option<&str>) -> bool {
        if scheme.is_some_and(|s| !s.eq_ignore_ascii_case(self.scheme)) {
            return false;
        }
        match authority {
            None => true,
            // Only an authority: no path, query, fragment or userinfo may ride along.
            Some(authority) if authority.contains(['/', '?', '#', '@']) || authority.is_empty() => {
                false
            }
            Some(authority) => htu::normalize(&format!("{}://{authority}", self.scheme))
                .is_ok_and(|n| n == self.normalized),
        }
    }
}

/// Which forwarding headers the proxy in front of the service sets: the only ones read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HeaderFamily {
    /// RFC 7239 `Forwarded`: its `proto` and `host` parameters.
    Forwarded,
    /// `X-Forwarded-Proto`, and `X-Forwarded-Host` when `host` is set.
    XForwarded { host: bool },
}

/// The proxies in front of a service, as far as the public URL is concerned: which forwarding
/// header family they set, whether they set `X-Forwarded-Prefix`, and how many of them sit in
/// a chain. Everything else a request carries is ignored — a client cannot add a header the
/// proxy does not overwrite and have it read.
///
/// **Hop selection** (RFC 7239 §7.4): a proxy appends its entry to what it received, so a
/// header's entries (comma-separated, across all its field lines, in order) end with the
/// proxies' own. With `hops` trusted proxies, the entry read is the `hops`-th from the end —
/// the outermost trusted proxy's, which recorded the request as the client made it. Whatever
/// the client sent comes before it and is never read. With fewer entries than `hops`, the
/// header is ignored. A proxy that *overwrites* the header leaves one entry: `hops` 1.
///
/// **What a forwarded value can do**: pick one of the policy's configured origins, never name
/// a new one — a forwarded host that matches none is ignored (the first configured origin is
/// used, and a proof made for the forwarded URL then fails with `htu_mismatch`). The prefix
/// is the one exception: it is taken as the proxy states it.
///
/// | deployment | policy |
/// |---|---|
/// | nginx: `proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Forwarded-Host $host;` | `TrustedProxy::x_forwarded()` |
/// | nginx also setting `X-Forwarded-Prefix /api` | `TrustedProxy::x_forwarded().with_prefix()` |
/// | AWS ALB, Envoy at the edge (set `X-Forwarded-Proto`, keep `Host`) | `TrustedProxy::x_forwarded_proto()` |
/// | a proxy appending RFC 7239 `Forwarded: proto=…;host=…` | `TrustedProxy::forwarded()` |
/// | a CDN then a load balancer, both appending | `….with_hops(2)?` |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustedProxy {
    family: HeaderFamily,
    prefix: bool,
    hops: usize,
}

/// The most proxies a chain may declare.
const MAX_HOPS: usize = 16;

impl TrustedProxy {
    /// The proxy appends (or sets) an RFC 7239 `Forwarded` element with `proto` and `host`;
    /// `X-Forwarded-*` headers are ignored.
    pub const fn forwarded() -> Self {
        Self::of(HeaderFamily::Forwarded)
    }

    /// The proxy sets `X-Forwarded-Proto` and `X-Forwarded-Host` (nginx, HAProxy, Traefik);
    /// `Forwarded` is ignored.
    pub const fn x_forwarded() -> Self {
        Self::of(HeaderFamily::XForwarded { host: true })
    }

    /// The proxy sets `X-Forwarded-Proto` only and passes the client's `Host` on (AWS ALB,
    /// Envoy): `X-Forwarded-Host` and `Forwarded` are ignored — an ALB forwards a client's
    /// own `X-Forwarded-Host` untouched.
    pub const fn x_forwarded_proto() -> Self {
        Self::of(HeaderFamily::XForwarded { host: false })
    }

    const fn of(family: HeaderFamily) -> Self {
        Self {
            family,
            prefix: false,
            hops: 1,
        }
    }

    /// The proxy also sets `X-Forwarded-Prefix` (the path prefix it strips), on every request;
    /// without this the header is ignored.
    pub const fn with_prefix(mut self) -> Self {
        self.prefix = true;
        self
    }

    /// `hops` trusted proxies in a chain, each appending its entry (default 1).
    ///
    /// Errors: [`Error::InvalidArgument`]`("hops")` outside 1 to 16.
    pub fn with_hops(mut self, hops: usize) -> Result<Self, Error> {
        if !(1..=MAX_HOPS).contains(&hops) {
            return Err(Error::InvalidArgument("hops"));
        }
        self.hops = hops;
        Ok(self)
    }

    /// The trusted proxy's entry of header `name`: the `hops`-th from the end.
    fn entry<'h>(&self, header: &impl Fn(&str) -> Vec<&'h str>, name: &str) -> Option<&'h str> {
        let entries: Vec<&'h str> = header(name)
            .into_iter()
            .flat_map(split_unquoted::<','>)
            .collect();
        let index = entries.len().checked_sub(self.hops)?;
        Some(entries[index].trim()).filter(|v| !v.is_empty())
    }

    /// The scheme and authority the proxy reports, each when it reports one.
    fn forwarded_origin<'h>(
        &self,
        header: &impl Fn(&str) -> Vec<&'h str>,
    ) -> (Option<String>, Option<String>) {
        match self.family {
            HeaderFamily::Forwarded => {
                let Some(element) = self.entry(header, "forwarded") else {
                    return (None, None);
                };
                let (mut proto, mut host) = (None, None);
                for pair in split_unquoted::<';'>(element) {
                    if let Some((name, value)) = pair.split_once('=') {
                        let value = unquote(value.trim());
                        match name.trim().to_ascii_lowercase().as_str() {
                            "proto" => proto = Some(value),
                            "host" => host = Some(value),
                            _ => {}
                        }
                    }
                }
                (proto, host)
            }
            HeaderFamily::XForwarded { host } => (
                self.entry(header, "x-forwarded-proto").map(str::to_owned),
                host.then(|| self.entry(header, "x-forwarded-host"))
                    .flatten()
                    .map(str::to_owned),
            ),
        }
    }
}

/// `text` split at each `SEP` outside a quoted string (RFC 9110 §5.6.4), so that a quoted
/// `,` or `;` cannot shift the entries.
fn split_unquoted<const SEP: char>(text: &str) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == SEP && !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter()
}

/// A `token` or `quoted-string` value, unquoted.
fn unquote(value: &str) -> String {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                out.push(if c == '\\' {
                    chars.next().unwrap_or('\\')
                } else {
                    c
                });
            }
            out
        }
        None => value.to_owned(),
    }
}

/// How a server finds the public URL of a request (the `htu` it must match).
///
/// - One or several configured public origins, `https` (or `http` on a loopback host) unless
///   built with [`insecure_http`](Self::insecure_http). With several, the one the request's
///   `Host` names is used, else the first: the `Host` header can choose among configured
///   origins, never introduce one.
/// - An optional path prefix that a proxy strips before forwarding (`/api` when the proxy maps
///   `https://example.com/api/…` to the service's `/…`).
/// - Forwarded headers only from a [`TrustedProxy`] named with
///   [`behind`](Self::behind): the one header family that proxy sets, its own entry (RFC 7239
///   §7.4), and only to pick among the configured origins. Anything malformed falls back to
///   the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrlPolicy {
    origins: Vec<Origin>,
    path_prefix: String,
    proxy: Option<TrustedProxy>,
    insecure_http: bool,
}

impl PublicUrlPolicy {
    /// A policy for the public `origin`, e.g. `https://api.example.com`.
    ///
    /// Errors: [`Error::InsecureUrl`]`("origin")` for `http` to a host that is not loopback
    /// (`localhost`, `127.0.0.0/8`, `[::1]`) — proofs and tokens must not travel in the clear;
    /// [`Error::InvalidArgument`]`("origin")` for anything but `scheme://authority`.
    pub fn new(origin: &str) -> Result<Self, Error> {
        Self::with_first(origin, false)
    }

    /// A policy that also accepts `http` origins on any host: for a service whose TLS ends in
    /// front of it *and* whose clients really sign `http://` URLs (rare: a client behind a TLS
    /// proxy still signs the `https` URL it called; use [`new`](Self::new) with that). Tokens
    /// and proofs sent over plain HTTP can be read and replayed by anyone on the path.
    pub fn insecure_http(origin: &str) -> Result<Self, Error> {
        Self::with_first(origin, true)
    }

    fn with_first(origin: &str, insecure_http: bool) -> Result<Self, Error> {
        let policy = Self {
            origins: Vec::new(),
            path_prefix: String::new(),
            proxy: None,
            insecure_http,
        };
        policy.with_origin(origin)
    }

    /// Accepts a further public origin (the `Host` header, or a trusted proxy, picks among
    /// them). Same rules and errors as [`new`](Self::new).
    pub fn with_origin(mut self, origin: &str) -> Result<Self, Error> {
        let parsed = Origin::parse(origin)?;
        if !self.insecure_http && secure_url::check(&parsed.normalized).is_err() {
            return Err(Error::InsecureUrl("origin"));
        }
        self.origins.push(parsed);
        Ok(self)
    }

    /// The path prefix a proxy strips, e.g. `/api`.
    pub fn with_path_prefix(mut self, prefix: &str) -> Result<Self, Error> {
        self.path_prefix = checked_prefix(prefix).ok_or(Error::InvalidArgument("path_prefix"))?;
        Ok(self)
    }

    /// Reads the forwarding headers `proxy` sets. Only when every request reaches the service
    /// through that proxy (the service is not reachable around it), and the proxy sets or
    /// appends those headers on every request; see [`TrustedProxy`].
    pub fn behind(mut self, proxy: TrustedProxy) -> Self {
        self.proxy = Some(proxy);
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
        let host = header("host").first().map(|h| h.trim());
        let (scheme, authority) = match &self.proxy {
            Some(proxy) => {
                let (scheme, forwarded_host) = proxy.forwarded_origin(&header);
                let authority = match proxy.family {
                    HeaderFamily::XForwarded { host: false } => host.map(str::to_owned),
                    _ => forwarded_host,
                };
                (scheme, authority)
            }
            None => (None, host.map(str::to_owned)),
        };
        let origin = self
            .origins
            .iter()
            .find(|o| o.is_named_by(scheme.as_deref(), authority.as_deref()))
            .unwrap_or(&self.origins[0]);
        let mut prefix = self.path_prefix.as_str();
        let forwarded_prefix = self
            .proxy
            .filter(|proxy| proxy.prefix)
            .and_then(|proxy| proxy.entry(&header, "x-forwarded-prefix"))
            .and_then(checked_prefix);
        if let Some(forwarded) = &forwarded_prefix {
            prefix = forwarded;
        }
        format!("{}{prefix}{path}", origin.text)
    }
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
    fn http_only_on_loopback_unless_named_insecure() {
        for origin in ["http://api.example.com", "http://10.0.0.7:8080"] {
            assert_eq!(
                PublicUrlPolicy::new(origin).err(),
                Some(Error::InsecureUrl("origin"))
            );
            assert_eq!(
                PublicUrlPolicy::new("https://a.example")
                    .unwrap()
                    .with_origin(origin)
                    .err(),
                Some(Error::InsecureUrl("origin"))
            );
            let insecure = PublicUrlPolicy::insecure_http(origin).unwrap();
            assert_eq!(insecure.url_for("/x", headers(&[])), format!("{origin}/x"));
        }
        for origin in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:3000",
        ] {
            assert!(PublicUrlPolicy::new(origin).is_ok(), "{origin}");
        }
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
        // A default port in the Host header names the same origin.
        let policy = PublicUrlPolicy::new("https://a.example.com")
            .unwrap()
            .with_origin("https://b.example.com")
            .unwrap();
        assert_eq!(
            policy.url_for("/x", headers(&[("host", "b.example.com:443")])),
            "https://b.example.com/x"
        );
        // Userinfo or a path smuggled into Host names nothing.
        assert_eq!(
            policy.url_for("/x", headers(&[("host", "u@b.example.com")])),
            "https://a.example.com/x"
        );
    }

    /// The internal origin the service listens on, and the public one clients use.
    fn edge_policy() -> PublicUrlPolicy {
        PublicUrlPolicy::new("http://127.0.0.1:8080")
            .unwrap()
            .with_origin("https://public.example.com")
            .unwrap()
    }

    #[test]
    fn forwarded_headers_only_behind_a_named_proxy() {
        let forwarded = [
            ("Host", "127.0.0.1:8080"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "public.example.com"),
            ("X-Forwarded-Prefix", "/api"),
            ("Forwarded", "proto=https;host=public.example.com"),
        ];
        assert_eq!(
            edge_policy().url_for("/orders", headers(&forwarded)),
            "http://127.0.0.1:8080/orders"
        );
        let nginx = edge_policy().behind(TrustedProxy::x_forwarded().with_prefix());
        assert_eq!(
            nginx.url_for("/orders", headers(&forwarded)),
            "https://public.example.com/api/orders"
        );
    }

    #[test]
    fn nginx_style_reads_x_forwarded_and_ignores_a_client_forwarded() {
        let nginx = edge_policy().behind(TrustedProxy::x_forwarded());
        // The client adds `Forwarded` (nginx passes it through) naming another host; the
        // proxy's X-Forwarded-* say the truth.
        let request = [
            ("Forwarded", "proto=https;host=other.example"),
            ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Host", "127.0.0.1:8080"),
        ];
        assert_eq!(
            nginx.url_for("/o", headers(&request)),
            "http://127.0.0.1:8080/o"
        );
        // A client-sent X-Forwarded-Prefix is ignored unless the proxy is said to set it.
        let request = [
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "public.example.com"),
            ("X-Forwarded-Prefix", "/other-service"),
        ];
        assert_eq!(
            nginx.url_for("/o", headers(&request)),
            "https://public.example.com/o"
        );
        // With `with_prefix`, the proxy's own (last) entry wins over a client's.
        let nginx = nginx
            .clone()
            .behind(TrustedProxy::x_forwarded().with_prefix());
        let request = [
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "public.example.com"),
            ("X-Forwarded-Prefix", "/other-service"),
            ("X-Forwarded-Prefix", "/api"),
        ];
        assert_eq!(
            nginx.url_for("/o", headers(&request)),
            "https://public.example.com/api/o"
        );
    }

    #[test]
    fn forwarded_values_pick_configured_origins_only() {
        let nginx = edge_policy().behind(TrustedProxy::x_forwarded());
        for host in [
            "other.example",
            "public.example.com.evil.example",
            "public.example.com/evil",
            "u@public.example.com",
            "a b",
        ] {
            let request = [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", host)];
            assert_eq!(
                nginx.url_for("/o", headers(&request)),
                "http://127.0.0.1:8080/o",
                "{host}"
            );
        }
        // Malformed or unknown schemes fall back too.
        let request = [
            ("X-Forwarded-Proto", "ftp"),
            ("X-Forwarded-Host", "public.example.com"),
        ];
        assert_eq!(
            nginx.url_for("/o", headers(&request)),
            "http://127.0.0.1:8080/o"
        );
    }

    #[test]
    fn alb_style_reads_the_proto_and_keeps_host() {
        let alb = edge_policy().behind(TrustedProxy::x_forwarded_proto());
        // ALB keeps the client's Host and passes a client's X-Forwarded-Host through.
        let request = [
            ("Host", "public.example.com"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "127.0.0.1:8080"),
        ];
        assert_eq!(
            alb.url_for("/o", headers(&request)),
            "https://public.example.com/o"
        );
        let request = [
            ("Host", "127.0.0.1:8080"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "public.example.com"),
        ];
        // `https://127.0.0.1:8080` is not configured: the first origin.
        assert_eq!(
            alb.url_for("/o", headers(&request)),
            "http://127.0.0.1:8080/o"
        );
    }

    #[test]
    fn rfc7239_forwarded_takes_the_proxys_own_element() {
        let proxy = edge_policy().behind(TrustedProxy::forwarded());
        // The client's element comes first, the proxy appends its own (RFC 7239 §7.4). A
        // quoted comma in the client's part must not shift the count.
        let request = [(
            "Forwarded",
            "for=1.2.3.4;host=\"x,proto=http\";proto=http, for=5.6.7.8;proto=https;host=\"public.example.com\"",
        )];
        assert_eq!(
            proxy.url_for("/o", headers(&request)),
            "https://public.example.com/o"
        );
        // Appended on a second field line: the same list.
        let request = [
            ("Forwarded", "proto=https;host=other.example"),
            ("Forwarded", "proto=https;host=public.example.com"),
        ];
        assert_eq!(
            proxy.url_for("/o", headers(&request)),
            "https://public.example.com/o"
        );
        // X-Forwarded-* are not this proxy's headers.
        let request = [
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "public.example.com"),
        ];
        assert_eq!(
            proxy.url_for("/o", headers(&request)),
            "http://127.0.0.1:8080/o"
        );
    }

    #[test]
    fn envoy_chain_reads_the_outermost_trusted_hop() {
        // An edge Envoy and a sidecar, each appending to X-Forwarded-Proto.
        let chain = edge_policy().behind(TrustedProxy::x_forwarded_proto().with_hops(2).unwrap());
        let request = [
            ("Host", "public.example.com"),
            ("X-Forwarded-Proto", "http, https, http"),
        ];
        assert_eq!(
            chain.url_for("/o", headers(&request)),
            "https://public.example.com/o"
        );
        // Fewer entries than trusted hops: the chain was bypassed; the header is ignored.
        let both = PublicUrlPolicy::insecure_http("http://public.example.com")
            .unwrap()
            .with_origin("https://public.example.com")
            .unwrap()
            .behind(TrustedProxy::x_forwarded_proto().with_hops(2).unwrap());
        let request = [
            ("Host", "public.example.com"),
            ("X-Forwarded-Proto", "https"),
        ];
        assert_eq!(
            both.url_for("/o", headers(&request)),
            "http://public.example.com/o"
        );
        let request = [
            ("Host", "public.example.com"),
            ("X-Forwarded-Proto", "https, http"),
        ];
        assert_eq!(
            both.url_for("/o", headers(&request)),
            "https://public.example.com/o"
        );
        for hops in [0, 17] {
            assert_eq!(
                TrustedProxy::forwarded().with_hops(hops).err(),
                Some(Error::InvalidArgument("hops"))
            );
        }
    }
}
