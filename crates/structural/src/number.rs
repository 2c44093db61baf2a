//! Numeric keywords (`multipleOf`, `minimum`, `maximum`) with kube-openapi's native-type arithmetic.

// kube-openapi compares an integer value with an integer bound after truncating the bound
// (`int64(max)`), and checks that integer-typed values and bounds parse as int64; those quirks
// are reproduced because they decide what kube-apiserver accepts.

use crate::gofmt::{go_float, is_json_integer};
use crate::node::Node;
use crate::validate::{IN, Validator};
use apimachinery::field::FieldError;
use serde_json::Value;
use std::cmp::Ordering;

/// A bound as the comparison uses it: truncated to int64 against integer values.
#[derive(Clone, Copy)]
enum Bound {
    Int(i64),
    Float(f64),
}

impl Bound {
    fn render(self) -> String {
        match self {
            Bound::Int(i) => i.to_string(),
            Bound::Float(f) => go_float(f),
        }
    }
}

/// `swag.ConvertInt64(FormatFloat(f, 'f', -1))` succeeds.
fn fits_int64(f: f64) -> bool {
    f.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
}

impl Validator<'_> {
    pub(crate) fn check_number(
        &self,
        n: &Node,
        data: &Value,
        name: &str,
        out: &mut Vec<FieldError>,
    ) {
        let Some(f) = data.as_f64() else {
            return;
        };
        let int = data.as_i64();
        // Only a schema with exactly one type of `integer` checks ranges; formats are stripped.
        let integer_type = !n.int_or_string && n.type_ == "integer";
        if integer_type && int.is_none() && !fits_int64(f) {
            out.push(self.root_invalid(format!(
                "Checked value must be of type integer (default format) in {name}"
            )));
        }
        // The bound is used natively (truncated against integers) only when it passed the range check.
        let bound = |b: f64, label: &str, out: &mut Vec<FieldError>| -> Bound {
            if integer_type && !fits_int64(b) {
                out.push(self.root_invalid(format!(
                    "{label} value must be of type integer (default format) in {name}"
                )));
                return Bound::Float(b);
            }
            match int {
                Some(_) => Bound::Int(b as i64),
                None => Bound::Float(b),
            }
        };
        if let Some(factor) = n.multiple_of {
            let b = bound(factor, "MultipleOf", out);
            self.multiple_of(b, int, f, data, name, out);
        }
        if let Some(min) = n.minimum {
            let b = bound(min, "Minimum boundary", out);
            let ord = compare(int, f, b);
            let (fails, op) = if n.exclusive_minimum {
                (ord != Ordering::Greater, "greater than")
            } else {
                (ord == Ordering::Less, "greater than or equal to")
            };
            if fails {
                let msg = format!("{name} in {IN} should be {op} {}", b.render());
                out.push(self.invalid(name, data.clone(), msg));
            }
        }
        if let Some(max) = n.maximum {
            let b = bound(max, "Maximum boundary", out);
            let ord = compare(int, f, b);
            let (fails, op) = if n.exclusive_maximum {
                (ord != Ordering::Less, "less than")
            } else {
                (ord == Ordering::Greater, "less than or equal to")
            };
            if fails {
                let msg = format!("{name} in {IN} should be {op} {}", b.render());
                out.push(self.invalid(name, data.clone(), msg));
            }
        }
    }

    fn multiple_of(
        &self,
        factor: Bound,
        int: Option<i64>,
        f: f64,
        data: &Value,
        name: &str,
        out: &mut Vec<FieldError>,
    ) {
        let (positive, factor_value) = match factor {
            Bound::Int(i) => (i > 0, Value::from(i)),
            Bound::Float(x) => (x > 0.0, Value::from(x)),
        };
        if !positive {
            let msg = format!(
                "factor MultipleOf declared for {name} must be positive: {}",
                factor.render()
            );
            out.push(self.invalid(name, factor_value, msg));
            return;
        }
        let multiple = match (factor, int) {
            (Bound::Int(k), Some(i)) => i % k == 0,
            (Bound::Int(k), None) => is_json_integer(f / k as f64),
            (Bound::Float(x), _) => {
                let mult = if x < 1.0 { 1.0 / x * f } else { f / x };
                is_json_integer(mult)
            }
        };
        if !multiple {
            let msg = format!("{name} in {IN} should be a multiple of {}", factor.render());
            out.push(self.invalid(name, data.clone(), msg));
        }
    }
}

fn compare(int: Option<i64>, f: f64, b: Bound) -> Ordering {
    match (int, b) {
        (Some(i), Bound::Int(k)) => i.cmp(&k),
        (_, Bound::Int(k)) => f.partial_cmp(&(k as f64)).unwrap_or(Ordering::Equal),
        (_, Bound::Float(x)) => f.partial_cmp(&x).unwrap_or(Ordering::Equal),
    }
}
