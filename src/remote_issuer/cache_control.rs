//! How long a fetched document may be used: `Cache-Control` (RFC 9111 §5.2.2), clamped.

/// The freshness lifetime `Cache-Control` gives, in seconds, clamped to `min..=max`:
/// `max-age=N` gives N; `no-store`, `no-cache`, `must-revalidate` with no `max-age`, or
/// `max-age=0` give `min`; no header, or no usable directive, gives `default` (clamped too).
/// A malformed or repeated `max-age` counts as absent (RFC 9111 §4.2.1 says to treat an
/// invalid freshness lifetime as stale; the clamp's lower bound keeps that from turning into a
/// fetch per request).
pub(crate) fn freshness_secs(header: Option<&str>, min: u64, max: u64, default: u64) -> u64 {
    let clamp = |secs: u64| secs.clamp(min, max.max(min));
    let Some(header) = header else {
        return clamp(default);
    };
    let mut max_age = None;
    let mut ages_seen = 0;
    let mut uncacheable = false;
    for directive in header.split(',') {
        let directive = directive.trim();
        let (name, value) = match directive.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
            None => (directive, None),
        };
        if name.eq_ignore_ascii_case("max-age") {
            ages_seen += 1;
            max_age = value
                .filter(|v| !v.is_empty() && v.len() <= 19 && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok());
        } else if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            uncacheable = true;
        }
    }
    if uncacheable {
        return clamp(0);
    }
    match max_age {
        Some(secs) if ages_seen == 1 => clamp(secs),
        _ => clamp(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;
    const MAX: u64 = 86_400;
    const DEFAULT: u64 = 300;

    fn f(header: &str) -> u64 {
        freshness_secs(Some(header), MIN, MAX, DEFAULT)
    }

    #[test]
    fn max_age_within_the_clamp() {
        assert_eq!(f("max-age=600"), 600);
        assert_eq!(f("public, max-age=3600, stale-while-revalidate=60"), 3600);
        assert_eq!(f("Max-Age=\"900\""), 900);
        assert_eq!(f("max-age=5"), MIN);
        assert_eq!(f("max-age=0"), MIN);
        assert_eq!(f("max-age=99999999999"), MAX);
        assert_eq!(f("max-age=99999999999999999999999"), DEFAULT);
    }

    #[test]
    fn uncacheable_gives_the_minimum() {
        assert_eq!(f("no-store"), MIN);
        assert_eq!(f("no-cache, max-age=600"), MIN);
    }

    #[test]
    fn absent_or_broken_gives_the_default() {
        assert_eq!(freshness_secs(None, MIN, MAX, DEFAULT), DEFAULT);
        assert_eq!(f("public"), DEFAULT);
        assert_eq!(f("max-age=-1"), DEFAULT);
        assert_eq!(f("max-age=1e3"), DEFAULT);
        assert_eq!(f("max-age="), DEFAULT);
        assert_eq!(f("max-age=10, max-age=600"), DEFAULT);
        assert_eq!(freshness_secs(None, MIN, MAX, 10), MIN);
    }
}
