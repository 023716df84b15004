//! A small JSON value with ordered members and a deterministic pretty printer.
//!
//! The vector files must be byte-identical for the same seed, whatever features `serde_json`
//! is built with, so the generator writes its own JSON: members in the order they were added,
//! two-space indentation, UTF-8 text with control characters escaped.

/// A JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl From<&str> for J {
    fn from(s: &str) -> Self {
        J::Str(s.to_owned())
    }
}

impl From<String> for J {
    fn from(s: String) -> Self {
        J::Str(s)
    }
}

impl From<&String> for J {
    fn from(s: &String) -> Self {
        J::Str(s.clone())
    }
}

impl From<bool> for J {
    fn from(b: bool) -> Self {
        J::Bool(b)
    }
}

impl From<u64> for J {
    fn from(n: u64) -> Self {
        J::Int(i64::try_from(n).expect("number out of range"))
    }
}

impl From<u16> for J {
    fn from(n: u16) -> Self {
        J::Int(i64::from(n))
    }
}

impl From<usize> for J {
    fn from(n: usize) -> Self {
        J::Int(i64::try_from(n).expect("number out of range"))
    }
}

impl<T: Into<J>> From<Option<T>> for J {
    fn from(v: Option<T>) -> Self {
        v.map_or(J::Null, Into::into)
    }
}

impl<T: Into<J>> From<Vec<T>> for J {
    fn from(v: Vec<T>) -> Self {
        J::Arr(v.into_iter().map(Into::into).collect())
    }
}

/// An object under construction: `obj().set("a", 1u64).set("b", "x").done()`.
#[derive(Default)]
pub struct Obj(Vec<(String, J)>);

/// Starts an object.
pub fn obj() -> Obj {
    Obj::default()
}

impl Obj {
    /// Appends member `name` (names are never repeated by the generator).
    pub fn set(mut self, name: &str, value: impl Into<J>) -> Self {
        debug_assert!(self.0.iter().all(|(n, _)| n != name), "duplicate {name}");
        self.0.push((name.to_owned(), value.into()));
        self
    }

    /// Appends member `name` only if `value` is `Some`.
    pub fn opt(self, name: &str, value: Option<impl Into<J>>) -> Self {
        match value {
            Some(v) => self.set(name, v),
            None => self,
        }
    }

    /// The finished object.
    pub fn done(self) -> J {
        J::Obj(self.0)
    }
}

/// A JSON string literal for `s`: `"`, `\` and control characters (C0, DEL, C1) escaped,
/// everything else written as is.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0'..='\x1f' | '\x7f'..='\u{9f}' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

impl J {
    /// This object with member `name` appended (objects only).
    pub fn with(self, name: &str, value: impl Into<J>) -> J {
        match self {
            J::Obj(mut members) => {
                debug_assert!(members.iter().all(|(n, _)| n != name), "duplicate {name}");
                members.push((name.to_owned(), value.into()));
                J::Obj(members)
            }
            other => panic!("not an object: {other:?}"),
        }
    }

    /// Pretty-printed text, two-space indentation, ending with a newline.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, indent: usize) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Int(n) => out.push_str(&n.to_string()),
            J::Str(s) => out.push_str(&quote(s)),
            J::Arr(items) if items.is_empty() => out.push_str("[]"),
            J::Obj(members) if members.is_empty() => out.push_str("{}"),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent + 1);
                    item.write(out, indent + 1);
                }
                newline(out, indent);
                out.push(']');
            }
            J::Obj(members) => {
                out.push('{');
                for (i, (name, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent + 1);
                    out.push_str(&quote(name));
                    out.push_str(": ");
                    value.write(out, indent + 1);
                }
                newline(out, indent);
                out.push('}');
            }
        }
    }
}

fn newline(out: &mut String, indent: usize) {
    out.push('\n');
    for _ in 0..indent {
        out.push_str("  ");
    }
}
