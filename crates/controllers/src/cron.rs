//! Cron schedules as Kubernetes parses them (robfig/cron's standard parser): five fields, names, steps, descriptors.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Why a schedule could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not five fields and not a known descriptor.
    #[error("expected exactly 5 fields, found {0}: {1:?}")]
    FieldCount(usize, String),
    /// A field value outside its range or not a number or name.
    #[error("invalid {field} field {value:?}")]
    Field { field: &'static str, value: String },
}

/// A parsed schedule: one bit per allowed value of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    /// Day-of-month or day-of-week was `*`/`?`: both must match, otherwise either.
    day_star: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

struct Bounds {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    name_base: u32,
}

fn value(s: &str, b: &Bounds) -> Option<u32> {
    if let Ok(v) = s.parse::<u32>() {
        return Some(v);
    }
    let lower = s.to_ascii_lowercase();
    b.names
        .iter()
        .position(|n| *n == lower)
        .map(|i| i as u32 + b.name_base)
}

/// Parses one field; returns the bits and whether it was a bare `*` or `?`.
fn field(expr: &str, b: &Bounds) -> Result<(u64, bool), Error> {
    let bad = || Error::Field {
        field: b.name,
        value: expr.to_string(),
    };
    let mut bits = 0u64;
    let mut star = false;
    for part in expr.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s.parse::<u32>().map_err(|_| bad())?)),
            None => (part, None),
        };
        let (lo, hi, is_star) = if range == "*" || range == "?" {
            (b.min, b.max, true)
        } else if let Some((a, z)) = range.split_once('-') {
            (
                value(a, b).ok_or_else(bad)?,
                value(z, b).ok_or_else(bad)?,
                false,
            )
        } else {
            let v = value(range, b).ok_or_else(bad)?;
            // "5/15" means from 5 to the end in steps of 15.
            (v, if step.is_some() { b.max } else { v }, false)
        };
        let step = step.unwrap_or(1);
        if step == 0 || lo < b.min || hi > b.max || lo > hi {
            return Err(bad());
        }
        if is_star && step == 1 {
            star = true;
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, star))
}

impl Schedule {
    /// Parses `spec` as Kubernetes' CronJob schedule (also `@hourly`, `@daily`,
    /// `@midnight`, `@weekly`, `@monthly`, `@yearly`, `@annually`).
    pub fn parse(spec: &str) -> Result<Schedule, Error> {
        let spec = spec.trim();
        let expanded = match spec {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            s => s,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(Error::FieldCount(fields.len(), spec.to_string()));
        }
        let b = |name, min, max, names, name_base| Bounds {
            name,
            min,
            max,
            names,
            name_base,
        };
        let (minute, _) = field(fields[0], &b("minute", 0, 59, &[], 0))?;
        let (hour, _) = field(fields[1], &b("hour", 0, 23, &[], 0))?;
        let (dom, dom_star) = field(fields[2], &b("day-of-month", 1, 31, &[], 0))?;
        let (month, _) = field(fields[3], &b("month", 1, 12, &MONTHS, 1))?;
        let (mut dow, dow_star) = field(fields[4], &b("day-of-week", 0, 7, &DAYS, 0))?;
        // 7 is Sunday too.
        if dow & (1 << 7) != 0 {
            dow = (dow | 1) & !(1 << 7);
        }
        Ok(Schedule {
            minute,
            hour,
            dom,
            month,
            dow,
            day_star: dom_star || dow_star,
        })
    }

    fn day_matches(&self, t: DateTime) -> bool {
        let dom = self.dom & (1 << t.day()) != 0;
        let dow = self.dow & (1 << t.weekday().to_sunday_zero_offset()) != 0;
        if self.day_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The first scheduled instant strictly after `after`, in `tz`. A local time
    /// skipped by a DST jump runs at the first instant after the gap; a repeated
    /// local hour runs once, at its first occurrence. None if nothing matches
    /// within five years (e.g. `0 0 30 2 *`).
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let local = after.to_zoned(tz.clone()).datetime();
        let mut t = local
            .with()
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .ok()?
            .checked_add(1.minute())
            .ok()?;
        let limit = local.checked_add(5.years()).ok()?;
        while t < limit {
            if self.month & (1 << t.month()) == 0 {
                t = t
                    .first_of_month()
                    .checked_add(1.month())
                    .ok()?
                    .with()
                    .hour(0)
                    .minute(0)
                    .build()
                    .ok()?;
                continue;
            }
            if !self.day_matches(t) {
                t = t
                    .date()
                    .checked_add(1.day())
                    .ok()?
                    .to_datetime(jiff::civil::Time::midnight());
                continue;
            }
            if self.hour & (1 << t.hour()) == 0 {
                t = t
                    .with()
                    .minute(0)
                    .build()
                    .ok()?
                    .checked_add(1.hour())
                    .ok()?;
                continue;
            }
            if self.minute & (1 << t.minute()) == 0 {
                t = t.checked_add(1.minute()).ok()?;
                continue;
            }
            let at = tz.to_ambiguous_timestamp(t).compatible().ok()?;
            if at > after {
                return Some(at);
            }
            t = t.checked_add(1.minute()).ok()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn parses_fields_names_steps_and_descriptors() {
        assert!(Schedule::parse("*/15 9-17 * JAN-mar mon,wed,FRI").is_ok());
        assert_eq!(Schedule::parse("@hourly"), Schedule::parse("0 * * * *"));
        assert_eq!(Schedule::parse("0 0 * * 7"), Schedule::parse("0 0 * * 0"));
        assert!(matches!(
            Schedule::parse("* * * *"),
            Err(Error::FieldCount(4, _))
        ));
        assert!(matches!(
            Schedule::parse("60 * * * *"),
            Err(Error::Field {
                field: "minute",
                ..
            })
        ));
        assert!(Schedule::parse("*/0 * * * *").is_err());
        assert!(Schedule::parse("0 0 32 * *").is_err());
    }

    #[test]
    fn next_times_in_utc() {
        let s = Schedule::parse("*/15 * * * *").unwrap();
        assert_eq!(
            s.next_after(ts("2026-01-01T10:07:30Z"), &TimeZone::UTC),
            Some(ts("2026-01-01T10:15:00Z"))
        );
        assert_eq!(
            s.next_after(ts("2026-01-01T10:15:00Z"), &TimeZone::UTC),
            Some(ts("2026-01-01T10:30:00Z"))
        );
        let s = Schedule::parse("@monthly").unwrap();
        assert_eq!(
            s.next_after(ts("2026-01-31T23:59:00Z"), &TimeZone::UTC),
            Some(ts("2026-02-01T00:00:00Z"))
        );
        let s = Schedule::parse("0 0 29 2 *").unwrap();
        assert_eq!(
            s.next_after(ts("2026-03-01T00:00:00Z"), &TimeZone::UTC),
            Some(ts("2028-02-29T00:00:00Z"))
        );
        assert_eq!(
            Schedule::parse("0 0 30 2 *")
                .unwrap()
                .next_after(ts("2026-01-01T00:00:00Z"), &TimeZone::UTC),
            None
        );
    }

    #[test]
    fn day_of_month_and_week_are_ored_when_both_restricted() {
        // The 13th, or any Friday.
        let s = Schedule::parse("0 0 13 * 5").unwrap();
        // 2026-02-06 is a Friday, before the 13th.
        assert_eq!(
            s.next_after(ts("2026-02-01T00:00:00Z"), &TimeZone::UTC),
            Some(ts("2026-02-06T00:00:00Z"))
        );
        // With a star day-of-month only Fridays count.
        let s = Schedule::parse("0 0 * * 5").unwrap();
        assert_eq!(
            s.next_after(ts("2026-02-06T00:00:00Z"), &TimeZone::UTC),
            Some(ts("2026-02-13T00:00:00Z"))
        );
    }

    #[test]
    fn time_zones_and_dst() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let s = Schedule::parse("30 2 * * *").unwrap();
        // 2026-03-08 02:30 does not exist in New York (clocks jump 02:00 → 03:00):
        // it runs at 03:30 EDT = 07:30Z.
        assert_eq!(
            s.next_after(ts("2026-03-08T05:00:00Z"), &ny),
            Some(ts("2026-03-08T07:30:00Z"))
        );
        // 2026-11-01 01:30 happens twice; the job runs once, at the first (EDT).
        let s = Schedule::parse("30 1 * * *").unwrap();
        let first = s.next_after(ts("2026-11-01T04:00:00Z"), &ny).unwrap();
        assert_eq!(first, ts("2026-11-01T05:30:00Z"));
        assert_eq!(s.next_after(first, &ny), Some(ts("2026-11-02T06:30:00Z")));
        // 09:00 in Tokyo is 00:00Z.
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        let s = Schedule::parse("0 9 * * *").unwrap();
        assert_eq!(
            s.next_after(ts("2026-06-01T01:00:00Z"), &tokyo),
            Some(ts("2026-06-02T00:00:00Z"))
        );
    }
}
