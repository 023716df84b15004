//! `application/x-www-form-urlencoded` bodies and query strings (WHATWG URL §5.2): token, PAR
//! and introspection requests, authorization URLs, and the client id and secret of
//! `client_secret_basic`, which
//! [RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1) encodes this way
//! before base64.

/// Appends `text` encoded (`form_urlencoded::byte_serialize`): `A-Z a-z 0-9 - . _ *` as they
/// are, space as `+`, every other byte of its UTF-8 percent-encoded. Nothing is copied on the
/// way but into `out` (which may hold a secret the caller zeroizes).
pub(crate) fn encode_into(text: &str, out: &mut String) {
    out.extend(form_urlencoded::byte_serialize(text.as_bytes()));
}

/// `name=value&…`, each side encoded.
pub(crate) fn encode<N: AsRef<str>, V: AsRef<str>>(params: &[(N, V)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        serializer.append_pair(name.as_ref(), value.as_ref());
    }
    serializer.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn encoding() {
        assert_eq!(
            super::encode(&[("grant_type", "refresh_token"), ("x", "a b&c=d/é")]),
            "grant_type=refresh_token&x=a+b%26c%3Dd%2F%C3%A9"
        );
        assert_eq!(super::encode(&[("id", "cs basic:1")]), "id=cs+basic%3A1");
        // RFC 6749 §2.3.1's example of what must be escaped before base64.
        let mut out = String::new();
        super::encode_into("a b:c", &mut out);
        assert_eq!(out, "a+b%3Ac");
        let mut out = String::new();
        super::encode_into("p@ss:w%rd+~", &mut out);
        assert_eq!(out, "p%40ss%3Aw%25rd%2B%7E");
        assert_eq!(super::encode::<&str, &str>(&[]), "");
    }
}
