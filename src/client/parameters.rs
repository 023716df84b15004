//! The form parameters of a request being built: fixed names set by this crate, `resource`
//! indicators ([RFC 8707](https://www.rfc-editor.org/rfc/rfc8707)), and extra parameters a
//! caller adds, which may not take the place of the fixed ones.

use std::borrow::Cow;

use zeroize::Zeroizing;

use crate::error::Error;

/// Ordered name/value pairs. Values may be credentials (a code, a refresh token, a verifier):
/// zeroized on drop, and `Debug` shows names only.
#[derive(Clone, Default)]
pub(crate) struct Parameters {
    pairs: Vec<(Cow<'static, str>, Zeroizing<String>)>,
    /// The first problem met while building, reported when the request is sent (builders
    /// return `Self`, not `Result`).
    problem: Option<&'static str>,
}

impl Parameters {
    /// Appends `name=value`.
    pub(crate) fn push(&mut self, name: &'static str, value: impl Into<String>) {
        self.pairs
            .push((Cow::Borrowed(name), Zeroizing::new(value.into())));
    }

    /// Replaces every `name` with one `name=value`.
    pub(crate) fn set(&mut self, name: &'static str, value: impl Into<String>) {
        self.pairs.retain(|(n, _)| n != name);
        self.push(name, value);
    }

    /// Appends a `resource` indicator: an absolute URI without a fragment
    /// ([RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707#section-2)). Repeated for
    /// several resources.
    pub(crate) fn push_resource(&mut self, uri: impl Into<String>) {
        let uri = uri.into();
        if !is_absolute_uri_without_fragment(&uri) {
            self.problem.get_or_insert("resource");
        }
        self.push("resource", uri);
    }

    /// Appends a caller's parameter, refused (when sent) if `name` is empty or one of
    /// `reserved`, the names this crate sets itself.
    pub(crate) fn push_extra(
        &mut self,
        reserved: &[&str],
        name: impl Into<String>,
        value: impl Into<String>,
    ) {
        let name = name.into();
        if name.is_empty() || reserved.contains(&name.as_str()) {
            self.problem.get_or_insert("parameter name");
        }
        self.pairs
            .push((Cow::Owned(name), Zeroizing::new(value.into())));
    }

    /// The value of the first `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The pairs, or [`Error::InvalidArgument`] naming the first problem met while building.
    pub(crate) fn pairs(&self) -> Result<Vec<(&str, &str)>, Error> {
        if let Some(problem) = self.problem {
            return Err(Error::InvalidArgument(problem));
        }
        Ok(self
            .pairs
            .iter()
            .map(|(n, v)| (n.as_ref(), v.as_str()))
            .collect())
    }

    /// The names, for `Debug`.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.pairs.iter().map(|(n, _)| n.as_ref()).collect()
    }
}

/// RFC 3986 §4.3 `absolute-URI` as far as a client can tell: `scheme ":" …`, where `scheme`
/// is `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`, with no fragment, no whitespace and no
/// control characters.
fn is_absolute_uri_without_fragment(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let mut scheme_bytes = scheme.bytes();
    scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme_bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        && !rest.is_empty()
        && uri.bytes().all(|b| b.is_ascii_graphic() && b != b'#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_must_be_absolute_without_fragment() {
        for good in [
            "https://api.example.com",
            "https://api.example.com/v1?x=1",
            "urn:example:api",
        ] {
            let mut p = Parameters::default();
            p.push_resource(good);
            assert_eq!(p.pairs().unwrap(), [("resource", good)]);
        }
        for bad in [
            "/relative",
            "api.example.com",
            "https://api.example.com/#frag",
            "1http://x",
            "https://a b",
            ":x",
            "https:",
        ] {
            let mut p = Parameters::default();
            p.push_resource(bad);
            assert_eq!(
                p.pairs().err(),
                Some(Error::InvalidArgument("resource")),
                "{bad}"
            );
        }
    }

    #[test]
    fn extra_parameters_cannot_replace_reserved_ones() {
        let mut p = Parameters::default();
        p.push("grant_type", "client_credentials");
        p.push_extra(&["grant_type"], "audience", "https://api");
        assert_eq!(
            p.pairs().unwrap(),
            [
                ("grant_type", "client_credentials"),
                ("audience", "https://api")
            ]
        );
        p.push_extra(&["grant_type"], "grant_type", "password");
        assert_eq!(
            p.pairs().err(),
            Some(Error::InvalidArgument("parameter name"))
        );
        let mut p = Parameters::default();
        p.push_extra(&[], "", "x");
        assert_eq!(
            p.pairs().err(),
            Some(Error::InvalidArgument("parameter name"))
        );
    }

    #[test]
    fn set_replaces() {
        let mut p = Parameters::default();
        p.set("scope", "a");
        p.set("scope", "b");
        assert_eq!(p.pairs().unwrap(), [("scope", "b")]);
        assert_eq!(p.get("scope"), Some("b"));
        assert_eq!(p.names(), ["scope"]);
    }
}
