//! `resource.Quantity`: parsing (`100m`, `1Gi`, `1e3`), comparison, arithmetic and the
//! canonical string kube-apiserver writes back.
//!
//! Values are held exactly as a count of nano-units in an `i128` (Kubernetes rounds every
//! quantity up to 1n). That covers ±1.7e29, far beyond the ±2^63-1 Kubernetes documents
//! as the supported range; larger decimal values are rejected with `OutOfRange` where
//! Go's arbitrary-precision decimal would still hold them.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

const NANOS_PER_UNIT: i128 = 1_000_000_000;
/// The BinarySI cap, 2^63-1 units, in nano-units.
const BINARY_CAP: u128 = (i64::MAX as u128) * 1_000_000_000;

/// Why a string is not a quantity; messages are Kubernetes'.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The string does not have the shape `<number><suffix>`.
    #[error(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )]
    FormatWrong,
    /// The number part holds no digits where digits are needed.
    #[error("unable to parse numeric part of quantity")]
    Numeric,
    /// The suffix is not one of the known ones.
    #[error("unable to parse quantity's suffix")]
    Suffix,
    /// The value is beyond what this implementation holds (about ±1.7e29).
    #[error("quantity is too large")]
    OutOfRange,
}

/// How a quantity is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `12e6`
    DecimalExponent,
    /// `12Mi` (powers of 1024)
    BinarySI,
    /// `12M` (powers of 1000)
    DecimalSI,
}

/// A fixed-point quantity such as `500m` CPU or `1Gi` memory.
#[derive(Debug, Clone)]
pub struct Quantity {
    nanos: i128,
    format: Format,
    /// The text parsed, kept when Kubernetes keeps it (it already was canonical enough).
    original: Option<String>,
}

/// The pieces of `<sign><digits>.<digits><suffix>`, split as Go's `parseQuantityString`.
struct Parts<'a> {
    positive: bool,
    /// Integer digits without leading zeros; `"0"` when there are none.
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
    /// Whether any digit appeared in the number part at all.
    has_digits: bool,
}

fn split(s: &str) -> Result<Parts<'_>, QuantityError> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos += 1;
        }
        Some(b'+') => pos += 1,
        _ => {}
    }
    let sign_end = pos;
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    let zeros = pos > sign_end;
    let digits_end = |from: usize| (from..end).find(|&i| !b[i].is_ascii_digit()).unwrap_or(end);
    let num_end = digits_end(pos);
    let num = if num_end == pos {
        "0"
    } else {
        &s[pos..num_end]
    };
    let mut has_digits = zeros || num_end > pos;
    pos = num_end;
    let mut denom = "";
    if pos < end && b[pos] == b'.' {
        let d_end = digits_end(pos + 1);
        denom = &s[pos + 1..d_end];
        has_digits |= !denom.is_empty();
        pos = d_end;
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    if digits_end(pos) != end {
        return Err(QuantityError::FormatWrong);
    }
    Ok(Parts {
        positive,
        num,
        denom,
        suffix: &s[suffix_start..],
        has_digits,
    })
}

/// `(base, exponent, format)` of a suffix.
fn interpret(suffix: &str) -> Option<(u32, i32, Format)> {
    let dec = |e| Some((10, e, Format::DecimalSI));
    let bin = |e| Some((2, e, Format::BinarySI));
    match suffix {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            // Go parses an int64 and then truncates it to int32.
            let e = rest.parse::<i64>().ok()? as i32;
            Some((10, e, Format::DecimalExponent))
        }
    }
}

/// Whether Go's int64 fast path applies (`Some`) and, if so, whether it keeps the input
/// text as the quantity's string form.
fn fast_path(p: &Parts<'_>, format: Format, exponent: i32) -> Option<bool> {
    let digits = (p.num.len() + p.denom.len()) as i32;
    let (precision, mut scale, mantissa) = match format {
        Format::DecimalExponent | Format::DecimalSI => (18 - digits, exponent, 1i64),
        Format::BinarySI if exponent >= 0 && p.denom.is_empty() => {
            let bits = (exponent as f32 * 3.0 / 10.0) as i32;
            (
                15 - p.num.len() as i32 - bits - 1,
                0,
                1i64 << exponent.min(62),
            )
        }
        Format::BinarySI => (-1, 0, 1),
    };
    if precision < 0 {
        return None;
    }
    scale -= p.denom.len() as i32;
    if scale < -9 {
        return None;
    }
    let shifted = format!("{}{}", p.num, p.denom);
    let value = shifted.parse::<i64>().ok()?;
    value.checked_mul(mantissa)?;
    Some(match format {
        Format::BinarySI => exponent % 10 == 0 && value & 0x07 != 0,
        _ => scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0'),
    })
}

fn pow10(n: u32) -> Option<u128> {
    10u128.checked_pow(n)
}

/// `ceil(digits × 10^shift × 2^bits)` for a decimal digit string; `None` on overflow.
fn magnitude(digits: &str, shift: i64, bits: u32) -> Option<u128> {
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    // Trailing zeros move into the exponent so that only significant digits count.
    let significant = digits.trim_end_matches('0');
    let shift = shift.saturating_add((digits.len() - significant.len()) as i64);
    let digits = significant;
    let two = 1u128 << bits;
    if shift >= 0 {
        if digits.len() as i64 + shift > 39 {
            return None;
        }
        let v = digits.parse::<u128>().ok();
        let scaled = v
            .zip(u32::try_from(shift).ok().and_then(pow10))
            .and_then(|(v, p)| v.checked_mul(p))
            .and_then(|v| v.checked_mul(two));
        return scaled;
    }
    let m = usize::try_from(-shift).unwrap_or(usize::MAX);
    let cut = digits.len().saturating_sub(m);
    let (head, tail) = digits.split_at(cut);
    if head.len() > 39 {
        return None;
    }
    let h = if head.is_empty() {
        Some(0)
    } else {
        head.parse::<u128>().ok()
    };
    let h = h?.checked_mul(two)?;
    // The fraction 0.tail (tail padded with leading zeros to m digits) times 2^bits,
    // multiplied digit by digit from the right: the final carry is its integer part.
    let mut carry: u128 = 0;
    let mut fraction = false;
    for d in tail.bytes().rev() {
        let v = u128::from(d - b'0') * two + carry;
        fraction |= !v.is_multiple_of(10);
        carry = v / 10;
    }
    // Leading zeros of the padded tail keep dividing the carry by ten.
    let mut pad = m.saturating_sub(tail.len());
    while pad > 0 && carry > 0 {
        fraction |= !carry.is_multiple_of(10);
        carry /= 10;
        pad -= 1;
    }
    h.checked_add(carry)?.checked_add(u128::from(fraction))
}

impl Quantity {
    /// Parses a quantity string as `resource.ParseQuantity` does.
    pub fn parse(s: &str) -> Result<Self, QuantityError> {
        if s.is_empty() {
            return Err(QuantityError::FormatWrong);
        }
        if s == "0" {
            return Ok(Quantity {
                nanos: 0,
                format: Format::DecimalSI,
                original: Some(s.to_string()),
            });
        }
        let p = split(s)?;
        let (base, exponent, mut format) = interpret(p.suffix).ok_or(QuantityError::Suffix)?;
        let fast = fast_path(&p, format, exponent);
        // Go's decimal parser, used off the fast path, needs at least one digit.
        if fast.is_none() && !p.has_digits {
            return Err(QuantityError::Numeric);
        }
        let keep = fast == Some(true);
        let digits = format!("{}{}", p.num, p.denom);
        let denom_len = p.denom.len() as i64;
        let (shift, bits) = if base == 10 {
            (i64::from(exponent) - denom_len + 9, 0)
        } else {
            (9 - denom_len, exponent as u32)
        };
        let mag = magnitude(&digits, shift, bits);
        let binary = format == Format::BinarySI;
        let mag = match mag {
            // Kubernetes caps binary quantities at 2^63-1 units.
            Some(m) if binary => m.min(BINARY_CAP),
            None if binary => BINARY_CAP,
            Some(m) if m <= i128::MAX as u128 => m,
            _ => return Err(QuantityError::OutOfRange),
        };
        let mag = mag as i128;
        if format == Format::BinarySI && mag > 0 && mag < NANOS_PER_UNIT {
            format = Format::DecimalSI;
        }
        Ok(Quantity {
            nanos: if p.positive { mag } else { -mag },
            format,
            original: keep.then(|| s.to_string()),
        })
    }

    /// `value` whole units (`NewQuantity`).
    pub fn new(value: i64, format: Format) -> Self {
        Self::from_nanos(i128::from(value) * NANOS_PER_UNIT, format)
    }

    /// `value` thousandths (`NewMilliQuantity`).
    pub fn new_milli(value: i64, format: Format) -> Self {
        Self::from_nanos(i128::from(value) * 1_000_000, format)
    }

    /// A quantity of `nanos` billionths.
    pub fn from_nanos(nanos: i128, format: Format) -> Self {
        Quantity {
            nanos,
            format,
            original: None,
        }
    }

    /// The exact value in billionths of a unit.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// How the quantity is written back.
    pub fn format(&self) -> Format {
        self.format
    }

    /// True for any zero, whatever its format.
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// -1, 0 or 1.
    pub fn sign(&self) -> i32 {
        self.nanos.signum() as i32
    }

    fn scaled(&self, per: i128) -> i64 {
        let q = self.nanos / per;
        let q = if self.nanos % per == 0 {
            q
        } else {
            // Kubernetes rounds away from zero.
            q + self.nanos.signum()
        };
        i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
    }

    /// Whole units, rounded away from zero and saturated to `i64` (`Value()`).
    pub fn value(&self) -> i64 {
        self.scaled(NANOS_PER_UNIT)
    }

    /// Thousandths, rounded away from zero and saturated to `i64` (`MilliValue()`).
    pub fn milli_value(&self) -> i64 {
        self.scaled(1_000_000)
    }

    /// An approximate floating-point value.
    pub fn as_f64(&self) -> f64 {
        self.nanos as f64 / 1e9
    }

    /// `q + y`; a zero `q` takes `y`'s format. `None` on overflow.
    pub fn checked_add(&self, y: &Quantity) -> Option<Quantity> {
        let format = if self.is_zero() {
            y.format
        } else {
            self.format
        };
        Some(Quantity::from_nanos(
            self.nanos.checked_add(y.nanos)?,
            format,
        ))
    }

    /// `q - y`; a zero `q` takes `y`'s format. `None` on overflow.
    pub fn checked_sub(&self, y: &Quantity) -> Option<Quantity> {
        let format = if self.is_zero() {
            y.format
        } else {
            self.format
        };
        Some(Quantity::from_nanos(
            self.nanos.checked_sub(y.nanos)?,
            format,
        ))
    }

    /// The negated quantity.
    pub fn neg(&self) -> Quantity {
        Quantity::from_nanos(-self.nanos, self.format)
    }

    /// The canonical string, ignoring any kept input text.
    pub fn canonical(&self) -> String {
        if self.nanos == 0 {
            return "0".into();
        }
        if self.format == Format::BinarySI
            && self.nanos.abs() >= 1024 * NANOS_PER_UNIT
            && self.nanos % NANOS_PER_UNIT == 0
        {
            let mut units = self.nanos / NANOS_PER_UNIT;
            let mut times = 0;
            while units.abs() >= 1024 && units % 1024 == 0 {
                units /= 1024;
                times += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                .get(times)
                .copied()
                .unwrap_or("");
            return format!("{units}{suffix}");
        }
        let mut mantissa = self.nanos;
        let mut exponent: i32 = -9;
        while mantissa % 10 == 0 {
            mantissa /= 10;
            exponent += 1;
        }
        while exponent.rem_euclid(3) != 0 {
            mantissa *= 10;
            exponent -= 1;
        }
        let suffix = match self.format {
            Format::DecimalExponent if exponent == 0 => String::new(),
            Format::DecimalExponent => format!("e{exponent}"),
            // Go finds no suffix above exa and then prints the bare mantissa; kept as is.
            _ => match exponent {
                -9 => "n",
                -6 => "u",
                -3 => "m",
                3 => "k",
                6 => "M",
                9 => "G",
                12 => "T",
                15 => "P",
                18 => "E",
                _ => "",
            }
            .to_string(),
        };
        format!("{mantissa}{suffix}")
    }
}

impl fmt::Display for Quantity {
    /// What kube-apiserver writes: the input text when Kubernetes keeps it, else canonical.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.original {
            Some(s) => f.write_str(s),
            None => f.write_str(&self.canonical()),
        }
    }
}

/// The canonical form of `s` (what the API server stores), or `None` when it is not a
/// quantity.
pub fn canonicalize(s: &str) -> Option<String> {
    Quantity::parse(s).ok().map(|q| q.canonical())
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

impl PartialEq for Quantity {
    /// Equal values are equal whatever their format, as `Quantity.Equal`.
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

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    /// Accepts a string or a JSON number, as `UnmarshalJSON` does.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Quantity::parse(v.trim()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "quantity_tests.rs"]
mod tests;
