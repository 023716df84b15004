//! Holds no code: this package exists for its `peers` benchmark (`benches/peers.rs`).
//! See `README.md`.
