//! The whole suite: every vector file's name and text for a seed.

use crate::case::document;
use crate::fixtures::Fixtures;

/// The seed of the committed vectors.
pub const DEFAULT_SEED: u64 = 9449;

/// `(file name, file text)` for every vector file, generated from `seed`.
pub fn generate(seed: u64) -> Vec<(&'static str, String)> {
    let fx = Fixtures::new(seed);
    vec![
        (
            "proofs.json",
            document(
                "proofs",
                seed,
                crate::proofs::DESCRIPTION,
                &crate::proofs::cases(&fx),
            ),
        ),
        (
            "htu.json",
            document(
                "htu",
                seed,
                crate::htu::DESCRIPTION,
                &crate::htu::cases(&fx),
            ),
        ),
        (
            "requests.json",
            document(
                "requests",
                seed,
                crate::requests::DESCRIPTION,
                &crate::requests::cases(&fx),
            ),
        ),
        (
            "jwe.json",
            document(
                "jwe",
                seed,
                crate::jwe::DESCRIPTION,
                &crate::jwe::cases(&fx),
            ),
        ),
        (
            "jwk.json",
            document(
                "jwk",
                seed,
                crate::jwk::DESCRIPTION,
                &crate::jwk::cases(&fx),
            ),
        ),
    ]
}
