//! One vector and the file that holds a list of them.

use crate::json::{obj, J};

/// The schema version written into every file; bump it on incompatible changes.
pub const SCHEMA_VERSION: u64 = 1;

/// One conformance case.
pub struct Case {
    /// Stable identifier: `file/category/name`.
    pub id: String,
    /// How to run it (see `vectors/README.md`).
    pub kind: &'static str,
    /// A group of related cases (every category must have at least one case).
    pub category: &'static str,
    /// The text the expectation comes from.
    pub requirement: &'static str,
    /// `true` when the expectation follows from normative text of the cited specifications;
    /// `false` when it is this suite's strict profile (limits, stricter parsing, configuration).
    pub normative: bool,
    pub description: String,
    pub input: J,
    pub expected: J,
    /// Informative: the JSON texts a hand-made proof or token was built from.
    pub decoded: Option<J>,
}

impl Case {
    fn to_json(&self) -> J {
        obj()
            .set("id", self.id.as_str())
            .set("type", self.kind)
            .set("category", self.category)
            .set("requirement", self.requirement)
            .set("normative", self.normative)
            .set("description", self.description.as_str())
            .set("input", self.input.clone())
            .set("expected", self.expected.clone())
            .opt("decoded", self.decoded.clone())
            .done()
    }
}

/// The text of one vector file.
pub fn document(file: &str, seed: u64, description: &str, cases: &[Case]) -> String {
    let mut ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    for pair in ids.windows(2) {
        assert_ne!(pair[0], pair[1], "duplicate case id");
    }
    obj()
        .set("schema_version", SCHEMA_VERSION)
        .set("generator", "examples/generate_vectors")
        .set("seed", seed)
        .set("file", file)
        .set("description", description)
        .set("case_count", cases.len())
        .set("cases", J::Arr(cases.iter().map(Case::to_json).collect()))
        .done()
        .pretty()
}
