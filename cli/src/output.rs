//! Printing results and the exit status they lead to.

use keybound::UnixTime;
use serde_json::Value;

/// How a successful run ends.
pub enum Outcome {
    /// Exit 0: done, or "valid".
    Success,
    /// Exit 1: a verify command rejected its input.
    Rejected,
}

/// Prints one JSON object on one line.
pub fn print_json(value: &Value) {
    println!("{value}");
}

/// `--now` if given, else the system clock.
pub fn now(pinned: Option<u64>) -> UnixTime {
    pinned.map_or_else(UnixTime::now, UnixTime::from_secs)
}
