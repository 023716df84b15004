//! `application/x-www-form-urlencoded` bodies (WHATWG URL §5.2), for token, PAR and
//! introspection requests, and the client id and secret of `client_secret_basic`
//! (RFC 6749 §2.3.1 encodes both this way before base64).

/// Appends `text` encoded: unreserved bytes as they are, space as `+`, everything else
/// percent-encoded.
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
    }
}
