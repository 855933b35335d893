//! Points in time as the core sees them: whole seconds since the Unix epoch, always handed in by the caller.
//!
//! The core has no clock. Hosts pass "now" (or a fixture's `verify_at`) as a [`Timestamp`]; the core only compares.

use alloc::string::String;
use core::fmt;

/// A UTC instant with one-second resolution (the resolution of X.509 validity, JWS and COSE times).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why an RFC 3339 string was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not of the form `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    #[error("not an RFC 3339 date-time: {0:?}")]
    Syntax(String),
    /// A field is out of its range (month 13, second 61, ...).
    #[error("date-time field out of range: {0:?}")]
    Range(String),
}

impl Timestamp {
    /// Wraps seconds since 1970-01-01T00:00:00Z.
    pub const fn from_unix(seconds: i64) -> Self {
        Timestamp(seconds)
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// Adds seconds, saturating instead of overflowing (hostile inputs carry absurd durations).
    pub const fn saturating_add(self, seconds: i64) -> Self {
        Timestamp(self.0.saturating_add(seconds))
    }

    /// Builds an instant from calendar fields in UTC; `None` when a field is out of range.
    pub fn from_civil(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 {
            return None;
        }
        // A leap second (60) is folded onto the next second, as Go's time package does.
        if second > 60 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        Some(Timestamp(
            days.checked_mul(86_400)?
                .checked_add(i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second))?,
        ))
    }

    /// Parses RFC 3339 (`2025-06-01T00:00:00Z`, any offset, optional fraction which is truncated).
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimeError> {
        let syntax = || TimeError::Syntax(String::from(text));
        let b = text.as_bytes();
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(syntax());
        }
        let num = |range: core::ops::Range<usize>| -> Result<u32, TimeError> {
            let s = text.get(range).ok_or_else(syntax)?;
            if !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(syntax());
            }
            s.parse::<u32>().map_err(|_| syntax())
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let mut rest = &b[19..];
        if rest.first() == Some(&b'.') {
            let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return Err(syntax());
            }
            rest = &rest[1 + digits..];
        }
        let offset: i64 = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digits = [*h1, *h2, *m1, *m2];
                if !digits.iter().all(u8::is_ascii_digit) {
                    return Err(syntax());
                }
                let h = i64::from((h1 - b'0') * 10 + (h2 - b'0'));
                let m = i64::from((m1 - b'0') * 10 + (m2 - b'0'));
                if h > 23 || m > 59 {
                    return Err(TimeError::Range(String::from(text)));
                }
                let total = h * 3600 + m * 60;
                if *sign == b'+' {
                    total
                } else {
                    -total
                }
            }
            _ => return Err(syntax()),
        };
        let local = Timestamp::from_civil(i64::from(year), month, day, hour, minute, second)
            .ok_or_else(|| TimeError::Range(String::from(text)))?;
        Ok(Timestamp(local.0 - offset))
    }

    /// Formats as RFC 3339 in UTC without fractional seconds (what notation emits).
    pub fn to_rfc3339(self) -> String {
        alloc::format!("{self}")
    }

    /// The calendar fields (year, month, day, hour, minute, second) of this instant in UTC.
    pub fn to_civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (y, m, d, (secs / 3600) as u32, ((secs % 3600) / 60) as u32, (secs % 60) as u32)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.to_civil();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_round_trip() {
        let t = Timestamp::parse_rfc3339("2025-06-01T00:00:00Z").unwrap();
        assert_eq!(t.unix(), 1_748_736_000);
        assert_eq!(t.to_rfc3339(), "2025-06-01T00:00:00Z");
        let off = Timestamp::parse_rfc3339("2025-06-01T02:30:00.123+02:30").unwrap();
        assert_eq!(off, t);
        assert_eq!(Timestamp::from_unix(-1).to_rfc3339(), "1969-12-31T23:59:59Z");
        assert_eq!(Timestamp::parse_rfc3339("2024-02-29T12:00:00Z").unwrap().to_rfc3339(), "2024-02-29T12:00:00Z");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "2025-06-01",
            "2025-13-01T00:00:00Z",
            "2025-02-30T00:00:00Z",
            "2025-06-01T00:00:00",
            "2025-06-01T00:00:00+0200",
            "2025-06-01T00:00:00.Z",
            "2025-06-01T25:00:00Z",
            "２０25-06-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad}");
        }
    }
}
