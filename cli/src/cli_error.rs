//! The one error type of the CLI: a message for stderr, exit status 2.

use std::fmt::Display;
use std::path::Path;

/// A usage, I/O or key-file problem. The message never contains key material.
#[derive(Debug)]
pub struct CliError(pub String);

impl CliError {
    /// A problem with the file at `path`.
    pub fn file(path: &Path, problem: impl Display) -> Self {
        Self(format!("{}: {problem}", path.display()))
    }

    /// A bad command-line value for `flag`.
    pub fn flag(flag: &str, problem: impl Display) -> Self {
        Self(format!("{flag}: {problem}"))
    }
}
