//! Time as a value: [`UnixTime`] and the [`Clock`] that supplies it.
//!
//! Every check in this crate takes the current time as an argument so that verification is
//! deterministic and testable; convenience entry points read a [`Clock`] (by default
//! [`SystemClock`]).

use core::fmt;

/// Seconds since the Unix epoch (1970-01-01T00:00:00Z), the unit of JWT `NumericDate`
/// (RFC 7519 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(u64);

impl UnixTime {
    /// The instant `secs` seconds after the Unix epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// The current system time. Times before the epoch read as the epoch.
    pub fn now() -> Self {
        SystemClock.now()
    }

    /// `self + secs`, saturating at `u64::MAX`.
    pub const fn saturating_add(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// `self - secs`, saturating at the epoch.
    pub const fn saturating_sub(self, secs: u64) -> Self {
        Self(self.0.saturating_sub(secs))
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<time::OffsetDateTime> for UnixTime {
    /// Converts a `time` date; instants before the epoch become the epoch.
    fn from(t: time::OffsetDateTime) -> Self {
        Self(u64::try_from(t.unix_timestamp()).unwrap_or(0))
    }
}

/// A source of the current time. Implement it to pin time in tests or to use a trusted clock.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        UnixTime::from(time::OffsetDateTime::now_utc())
    }
}

/// A clock that always answers the same instant (for tests and scripting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedClock(pub UnixTime);

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now().as_secs() > 1_577_836_800);
    }

    #[test]
    fn saturating_arithmetic() {
        assert_eq!(
            UnixTime::from_secs(5).saturating_sub(10),
            UnixTime::from_secs(0)
        );
        assert_eq!(
            UnixTime::from_secs(u64::MAX).saturating_add(1).as_secs(),
            u64::MAX
        );
    }

    #[test]
    fn before_epoch_reads_as_epoch() {
        let t = time::OffsetDateTime::from_unix_timestamp(-5).unwrap();
        assert_eq!(UnixTime::from(t), UnixTime::from_secs(0));
    }
}
