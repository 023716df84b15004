//! Strict JSON for JOSE headers, claims and keys.
//!
//! `serde_json` alone keeps the last of two members with the same name; RFC 7515 §5.2 and
//! RFC 8725 §3.5 ask a careful parser to refuse such objects, since two parsers may disagree
//! on which value wins. This parser refuses duplicate member names at every level, bounds the
//! nesting depth and requires the top-level value to be an object. Sizes are bounded by the
//! callers before any decoding starts.

use core::cell::Cell;
use core::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::JoseError;

/// Default bound on nesting: objects and arrays inside the top-level object.
pub(crate) const DEFAULT_MAX_DEPTH: usize = 16;

/// A JSON object parsed strictly.
pub(crate) type Object = Map<String, Value>;

/// Parses `bytes` as one JSON object, refusing duplicate names at any depth and nesting deeper
/// than `max_depth`.
pub(crate) fn parse_object(bytes: &[u8], max_depth: usize) -> Result<Object, JoseError> {
    let failure = Cell::new(None);
    let seed = StrictValue {
        depth_left: max_depth,
        failure: &failure,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match value {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(JoseError::NotAnObject),
        Err(_) => Err(failure.get().unwrap_or(JoseError::Json)),
    }
}

/// Top-level members set aside by [`parse_object_with_secrets`]: each name with its value's
/// JSON text (a string keeps its quotes), borrowed from the input.
pub(crate) type SecretMembers<'a> = Vec<(&'static str, &'a str)>;

/// [`parse_object`] for a document holding secrets (a private JWK): the top-level members
/// named in `secret_names` are not parsed into the object but set aside as their JSON text,
/// borrowed from `bytes`, so that no copy of a secret is ever made.
///
/// `serde_json` copies a string into a [`String`] (and, when it holds an escape, into its
/// internal scratch buffer first), and neither is zeroized when freed. A secret member's
/// value is instead skipped over in place (`RawValue`: checked to be well-formed JSON, never
/// unescaped nor copied; escapes are not decoded, so a lone surrogate escape in a secret goes
/// unnoticed here — its reader must refuse escapes, as JWK reading does). Duplicate names are
/// refused here too, secret or not.
pub(crate) fn parse_object_with_secrets<'a>(
    bytes: &'a [u8],
    max_depth: usize,
    secret_names: &'static [&'static str],
) -> Result<(Object, SecretMembers<'a>), JoseError> {
    let failure = Cell::new(None);
    let visitor = WithSecrets {
        values: StrictValue {
            depth_left: max_depth,
            failure: &failure,
        },
        secret_names,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = de
        .deserialize_any(visitor)
        .and_then(|v| de.end().map(|()| v));
    parsed.map_err(|_| {
        failure.get().unwrap_or_else(|| {
            // Valid JSON that is not an object, or not JSON at all? Skipping a value copies
            // no string.
            let object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
            match serde_json::from_slice::<IgnoredAny>(bytes) {
                Ok(_) if !object => JoseError::NotAnObject,
                _ => JoseError::Json,
            }
        })
    })
}

/// A JWT `NumericDate` (RFC 7519 §2) as whole seconds: fractions are truncated; negative,
/// non-numeric and absurdly large values give `None`.
pub(crate) fn numeric_date(value: &Value) -> Option<u64> {
    let number = value.as_number()?;
    if let Some(secs) = number.as_u64() {
        return Some(secs);
    }
    match number.as_f64() {
        Some(f) if f.is_finite() && (0.0..1.0e15).contains(&f) => Some(f as u64),
        _ => None,
    }
}

#[derive(Clone, Copy)]
struct StrictValue<'a> {
    depth_left: usize,
    failure: &'a Cell<Option<JoseError>>,
}

impl StrictValue<'_> {
    fn nested<E: serde::de::Error>(self) -> Result<Self, E> {
        match self.depth_left.checked_sub(1) {
            Some(depth_left) => Ok(Self { depth_left, ..self }),
            None => Err(self.fail(JoseError::TooDeep)),
        }
    }

    fn fail<E: serde::de::Error>(self, kind: JoseError) -> E {
        self.failure.set(Some(kind));
        E::custom(kind)
    }
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON text cannot express NaN or infinities, so this never yields Null in practice.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(self.fail(JoseError::DuplicateMember));
            }
            let value = access.next_value_seed(inner)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// The top-level object of [`parse_object_with_secrets`].
struct WithSecrets<'f> {
    values: StrictValue<'f>,
    secret_names: &'static [&'static str],
}

impl<'de> Visitor<'de> for WithSecrets<'_> {
    type Value = (Object, SecretMembers<'de>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let inner = self.values.nested()?;
        let mut map = Map::new();
        let mut secrets = SecretMembers::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) || secrets.iter().any(|(name, _)| *name == key) {
                return Err(self.values.fail(JoseError::DuplicateMember));
            }
            match self.secret_names.iter().find(|name| **name == key) {
                Some(name) => {
                    let raw: &'de RawValue = access.next_value()?;
                    secrets.push((name, raw.get()));
                }
                None => {
                    let value = access.next_value_seed(inner)?;
                    map.insert(key, value);
                }
            }
        }
        Ok((map, secrets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Object, JoseError> {
        parse_object(s.as_bytes(), DEFAULT_MAX_DEPTH)
    }

    #[test]
    fn accepts_plain_objects() {
        let obj = parse(r#"{"a":1,"b":[true,null,"x"],"c":{"d":-2.5}}"#).unwrap();
        assert_eq!(obj["a"], 1);
        assert_eq!(obj["c"]["d"], -2.5);
        assert!(parse(" {\n\t\"a\" : 1 } ").is_ok());
    }

    #[test]
    fn refuses_duplicate_member_names_at_every_level() {
        assert_eq!(parse(r#"{"a":1,"a":1}"#), Err(JoseError::DuplicateMember));
        assert_eq!(
            parse(r#"{"a":{"b":1,"b":2}}"#),
            Err(JoseError::DuplicateMember)
        );
        assert_eq!(
            parse(r#"{"a":[{"b":1,"b":2}]}"#),
            Err(JoseError::DuplicateMember)
        );
        // An escape spelling the same name is the same name.
        assert_eq!(
            parse(r#"{"alg":1,"\u0061lg":2}"#),
            Err(JoseError::DuplicateMember)
        );
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = format!("{}1{}", "{\"a\":".repeat(20), "}".repeat(20));
        assert_eq!(parse(&deep), Err(JoseError::TooDeep));
        let ok = format!("{}1{}", "{\"a\":".repeat(3), "}".repeat(3));
        assert!(parse_object(ok.as_bytes(), 3).is_ok());
        assert_eq!(parse_object(ok.as_bytes(), 2), Err(JoseError::TooDeep));
        let arrays = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse(&arrays), Err(JoseError::TooDeep));
    }

    #[test]
    fn secret_members_are_set_aside_as_borrowed_text() {
        const SECRET: &[&str] = &["d", "oth"];
        let text = r#"{"kty":"EC","d":"c2VjcmV0","oth":[{"r":"x"}],"\u0064x":"e\u0073c"}"#;
        let (object, secrets) = parse_object_with_secrets(text.as_bytes(), 4, SECRET).unwrap();
        assert_eq!(object["kty"], "EC");
        assert_eq!(object["dx"], "esc");
        assert!(!object.contains_key("d") && !object.contains_key("oth"));
        assert_eq!(
            secrets,
            vec![("d", r#""c2VjcmV0""#), ("oth", r#"[{"r":"x"}]"#)]
        );
        // Borrowed from the input, not copied.
        let range = text.as_bytes().as_ptr_range();
        assert!(range.contains(&secrets[0].1.as_ptr()));
        // An escape is kept as written, never unescaped.
        let (_, secrets) = parse_object_with_secrets(br#"{"d":"c2\u0056j"}"#, 4, SECRET).unwrap();
        assert_eq!(secrets, vec![("d", r#""c2\u0056j""#)]);
    }

    #[test]
    fn secret_members_follow_the_same_strict_rules() {
        const SECRET: &[&str] = &["d"];
        let parse = |s: &str| parse_object_with_secrets(s.as_bytes(), 4, SECRET).map(|_| ());
        assert_eq!(
            parse(r#"{"d":"a","d":"b"}"#),
            Err(JoseError::DuplicateMember)
        );
        assert_eq!(
            parse(r#"{"d":"a","\u0064":"b"}"#),
            Err(JoseError::DuplicateMember)
        );
        assert_eq!(
            parse(r#"{"x":1,"x":2,"d":"a"}"#),
            Err(JoseError::DuplicateMember)
        );
        assert_eq!(parse("[]"), Err(JoseError::NotAnObject));
        assert_eq!(parse("\"d\""), Err(JoseError::NotAnObject));
        assert_eq!(parse(r#"{"d":"a"} {}"#), Err(JoseError::Json));
        assert_eq!(parse(r#"{"x":"\ud800","d":"a"}"#), Err(JoseError::Json));
        // A secret member's escapes are skipped, not decoded, so a lone surrogate there is not
        // noticed here; JWK reading refuses every escaped private member anyway.
        assert_eq!(parse(r#"{"d":"\ud800"}"#), Ok(()));
        assert_eq!(parse(r#"{"d":"a",}"#), Err(JoseError::Json));
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(10), "]".repeat(10));
        assert_eq!(parse(&deep), Err(JoseError::TooDeep));
        assert_eq!(parse(""), Err(JoseError::Json));
    }

    #[test]
    fn refuses_non_objects_and_malformed_text() {
        assert_eq!(parse("[]"), Err(JoseError::NotAnObject));
        assert_eq!(parse("\"x\""), Err(JoseError::NotAnObject));
        assert_eq!(parse("{} {}"), Err(JoseError::Json));
        assert_eq!(parse("{\"a\":1,}"), Err(JoseError::Json));
        assert_eq!(parse("\u{feff}{}"), Err(JoseError::Json));
        assert_eq!(parse(r#"{"a":"\ud800"}"#), Err(JoseError::Json));
        assert_eq!(parse_object(b"{\"a\":\"\xff\"}", 4), Err(JoseError::Json));
        assert_eq!(parse(""), Err(JoseError::Json));
    }
}
