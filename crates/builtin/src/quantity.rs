//! Kubernetes resource quantities (`100m`, `1Gi`, `1e3`): parsing, comparison and the canonical form the API server stores.

use std::cmp::Ordering;
use std::fmt;

/// Why a string is not a quantity; the message is the one kube-apiserver returns when decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text does not follow the quantity grammar.
    #[error(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )]
    Format,
    /// The value does not fit the precision kept here (nano units in 128 bits).
    #[error("quantity is too large")]
    TooLarge,
}

/// How a quantity was written; kube keeps that style when it canonicalizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `Ki`, `Mi`, ... suffixes.
    BinarySi,
    /// `m`, `k`, `M`, ... suffixes or none.
    DecimalSi,
    /// `e3` / `E6` exponents.
    DecimalExponent,
}

/// A parsed quantity, held as a count of nano units (rounded up like kube does past 10^-9).
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

const NANO: i128 = 1_000_000_000;

impl Quantity {
    /// Parses a quantity string.
    pub fn parse(s: &str) -> Result<Self, QuantityError> {
        let (negative, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(num_end);
        let (int_part, frac_part) = match number.split_once('.') {
            Some((i, f)) => (i, f),
            None => (number, ""),
        };
        if (int_part.is_empty() && frac_part.is_empty()) || frac_part.contains('.') {
            return Err(QuantityError::Format);
        }
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 36 {
            return Err(QuantityError::TooLarge);
        }
        let mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| QuantityError::Format)?
        };
        let (base2, exp10, format) = interpret_suffix(suffix)?;
        // value = mantissa * 10^(exp10 - frac) * 1024^base2, stored in nanos (×10^9).
        let mut scale = exp10 + 9 - frac_part.len() as i64;
        let mut nanos = mantissa;
        for _ in 0..base2 {
            nanos = nanos.checked_mul(1024).ok_or(QuantityError::TooLarge)?;
        }
        while scale > 0 {
            nanos = nanos.checked_mul(10).ok_or(QuantityError::TooLarge)?;
            scale -= 1;
        }
        if scale < 0 {
            let div = 10i128
                .checked_pow(u32::try_from(-scale).map_err(|_| QuantityError::TooLarge)?)
                .unwrap_or(0);
            nanos = if div == 0 {
                i128::from(nanos != 0)
            } else {
                // Kube rounds a value finer than nano units up.
                (nanos + div - 1) / div
            };
        }
        Ok(Quantity {
            nanos: if negative { -nanos } else { nanos },
            format,
        })
    }

    /// A quantity of `milli` thousandths, written in decimal SI.
    pub fn from_milli(milli: i128) -> Self {
        Quantity {
            nanos: milli * 1_000_000,
            format: Format::DecimalSi,
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// The value in nano units.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The value as a float, for ratios.
    pub fn as_f64(&self) -> f64 {
        self.nanos as f64 / NANO as f64
    }

    /// Sum of two quantities, keeping the first one's format.
    pub fn add(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_add(other.nanos),
            format: self.format,
        }
    }

    /// The canonical text kube-apiserver stores and returns.
    pub fn canonical(&self) -> String {
        if self.nanos == 0 {
            return "0".to_string();
        }
        let sign = if self.nanos < 0 { "-" } else { "" };
        let abs = self.nanos.unsigned_abs();
        let mut format = self.format;
        if format == Format::BinarySi
            && (abs < 1024 * NANO as u128 || !abs.is_multiple_of(NANO as u128))
        {
            format = Format::DecimalSi;
        }
        if format == Format::BinarySi {
            let mut v = abs / NANO as u128;
            let mut n = 0;
            while v.is_multiple_of(1024) && n < 6 {
                v /= 1024;
                n += 1;
            }
            const BIN: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
            return format!("{sign}{v}{}", BIN[n]);
        }
        let mut m = abs;
        let mut e: i64 = -9;
        while m.is_multiple_of(1000) && (format == Format::DecimalExponent || e < 18) {
            m /= 1000;
            e += 3;
        }
        let suffix = match format {
            Format::DecimalExponent if e == 0 => String::new(),
            Format::DecimalExponent => format!("e{e}"),
            _ => match e {
                -9 => "n",
                -6 => "u",
                -3 => "m",
                0 => "",
                3 => "k",
                6 => "M",
                9 => "G",
                12 => "T",
                15 => "P",
                _ => "E",
            }
            .to_string(),
        };
        format!("{sign}{m}{suffix}")
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// Returns (powers of 1024, power of 10, format) for a suffix.
fn interpret_suffix(s: &str) -> Result<(u32, i64, Format), QuantityError> {
    let decimal = |e| Ok((0, e, Format::DecimalSi));
    let binary = |n| Ok((n, 0, Format::BinarySi));
    match s {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(1),
        "Mi" => binary(2),
        "Gi" => binary(3),
        "Ti" => binary(4),
        "Pi" => binary(5),
        "Ei" => binary(6),
        _ => {
            let rest = s
                .strip_prefix('e')
                .or_else(|| s.strip_prefix('E'))
                .ok_or(QuantityError::Format)?;
            let digits = rest.trim_start_matches(['+', '-']);
            if digits.is_empty()
                || !digits.bytes().all(|b| b.is_ascii_digit())
                || rest.len() - digits.len() > 1
            {
                return Err(QuantityError::Format);
            }
            let e: i64 = rest.parse().map_err(|_| QuantityError::TooLarge)?;
            if e.abs() > 60 {
                return Err(QuantityError::TooLarge);
            }
            Ok((0, e, Format::DecimalExponent))
        }
    }
}

/// The canonical form of `s`, or `None` when it is not a quantity.
pub fn canonicalize(s: &str) -> Option<String> {
    Quantity::parse(s).ok().map(|q| q.canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        canonicalize(s).unwrap()
    }

    #[test]
    fn canonical_forms_match_kube() {
        assert_eq!(c("100m"), "100m");
        assert_eq!(c("0.5"), "500m");
        assert_eq!(c("1000m"), "1");
        assert_eq!(c("1.5"), "1500m");
        assert_eq!(c("128Mi"), "128Mi");
        assert_eq!(c("1024Mi"), "1Gi");
        assert_eq!(c("1.5Gi"), "1536Mi");
        assert_eq!(c("512"), "512");
        assert_eq!(c("12000"), "12k");
        assert_eq!(c("1e3"), "1e3");
        assert_eq!(c("1E6"), "1e6");
        assert_eq!(c("0"), "0");
        assert_eq!(c("0Gi"), "0");
        assert_eq!(c("+2"), "2");
        assert_eq!(c("-100m"), "-100m");
        assert_eq!(c("0.1Ki"), "102400m");
        assert_eq!(c("1Ki"), "1Ki");
        assert_eq!(c("100Ki"), "100Ki");
        assert_eq!(c("0.0000000001"), "1n");
        assert_eq!(c("1G"), "1G");
    }

    #[test]
    fn rejects_bad_text() {
        for bad in ["", "abc", "1.2.3", "1Zi", "m", "1e", "1e+-3", "."] {
            assert_eq!(
                Quantity::parse(bad).err(),
                Some(QuantityError::Format),
                "{bad}"
            );
        }
    }

    #[test]
    fn compares_across_formats() {
        let a = Quantity::parse("1Gi").unwrap();
        let b = Quantity::parse("1G").unwrap();
        assert!(a > b);
        assert_eq!(
            Quantity::parse("1").unwrap(),
            Quantity::parse("1000m").unwrap()
        );
        assert_eq!(Quantity::from_milli(250).canonical(), "250m");
    }
}
