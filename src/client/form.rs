//! `application/x-www-form-urlencoded` bodies and query strings (WHATWG URL §5.2): token, PAR
//! and introspection requests, authorization URLs, and the client id and secret of
//! `client_secret_basic`, which
//! [RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1) encodes this way
//! before base64.

/// Appends `text` encoded: `A-Z a-z 0-9 - . _ *` as they are, space as `+`, every other byte
/// of its UTF-8 percent-encoded.
pub(crate) fn encode_into(text: &str, out: &mut String) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 15)]));
            }
        }
    }
}

/// `name=value&…`, each side encoded.
pub(crate) fn encode<N: AsRef<str>, V: AsRef<str>>(params: &[(N, V)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(name.as_ref(), &mut out);
        out.push('=');
        encode_into(value.as_ref(), &mut out);
    }
    out
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
