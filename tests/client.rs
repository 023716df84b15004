//! Placeholder: being written (issue 13).
