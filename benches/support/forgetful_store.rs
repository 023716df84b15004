//! A replay store that never remembers a proof, so one request can be verified again and again.
//! For measurement only: it disables replay protection. Shared by the benchmarks.

use keybound::{Insertion, ReplayKey, ReplayStore, StoreError, UnixTime};

/// Answers "first sighting" for every key.
pub struct ForgetfulStore;

impl ReplayStore for ForgetfulStore {
    fn insert_if_absent(
        &self,
        _key: &ReplayKey,
        _expires_at: UnixTime,
        _now: UnixTime,
    ) -> Result<Insertion, StoreError> {
        Ok(Insertion::Inserted)
    }
}
