//! Strict JSON for JOSE headers, claims and keys.
//!
//! `serde_json` alone keeps the last of two members with the same name; RFC 7515 §5.2 and
//! RFC 8725 §3.5 ask a careful parser to refuse such objects, since two parsers may disagree
//! on which value wins. This parser refuses duplicate member names at every level, bounds the
//! nesting depth and requires the top-level value to be an object. Sizes are bounded by the
//! callers before any decoding starts.

use core::cell::Cell;
use core::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
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
