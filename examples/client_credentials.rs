//! Placeholder: being written (issue 13).
fn main() {}
