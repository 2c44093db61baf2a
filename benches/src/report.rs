//! The summary table: each figure with its unit, the goal it is held against, and whether
//! this run met it.

use std::fmt::Write as _;

/// A goal a figure is compared with.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// The figure should be below this.
    Below(f64),
    /// The figure should be at least this.
    AtLeast(f64),
    /// Informational: no goal.
    None,
}

/// One line of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub metric: String,
    /// The figure in `unit`.
    pub value: f64,
    /// Unit of `value` and of the goal.
    pub unit: &'static str,
    /// The goal.
    pub goal: Goal,
}

impl Row {
    /// `Some(true)` when the goal is met, `None` when there is no goal.
    pub fn met(&self) -> Option<bool> {
        match self.goal {
            Goal::Below(g) => Some(self.value < g),
            Goal::AtLeast(g) => Some(self.value >= g),
            Goal::None => None,
        }
    }
}

fn number(v: f64) -> String {
    if v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The rows as an aligned plain-text table (also valid Markdown).
pub fn table(rows: &[Row]) -> String {
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            let goal = match r.goal {
                Goal::Below(g) => format!("< {} {}", number(g), r.unit),
                Goal::AtLeast(g) => format!(">= {} {}", number(g), r.unit),
                Goal::None => "-".to_owned(),
            };
            let met = match r.met() {
                Some(true) => "met",
                Some(false) => "NOT MET",
                None => "",
            };
            [
                r.metric.clone(),
                format!("{} {}", number(r.value), r.unit),
                goal,
                met.to_owned(),
            ]
        })
        .collect();
    let header = ["metric", "value", "goal", "status"];
    let mut width = header.map(str::len);
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: &[&str]| {
        out.push('|');
        for (c, w) in row.iter().zip(width) {
            let _ = write!(out, " {c:<w$} |");
        }
        out.push('\n');
    };
    line(&mut out, &header);
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    line(
        &mut out,
        &rule.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    for row in &cells {
        line(
            &mut out,
            &row.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_are_judged_in_their_direction() {
        let row = |value, goal| Row {
            metric: "m".into(),
            value,
            unit: "ms",
            goal,
        };
        assert_eq!(row(0.9, Goal::Below(1.0)).met(), Some(true));
        assert_eq!(row(1.0, Goal::Below(1.0)).met(), Some(false));
        assert_eq!(row(3000.0, Goal::AtLeast(3000.0)).met(), Some(true));
        assert_eq!(row(2999.0, Goal::AtLeast(3000.0)).met(), Some(false));
        assert_eq!(row(5.0, Goal::None).met(), None);
    }

    #[test]
    fn table_aligns_columns() {
        let rows = [
            Row {
                metric: "ready (fresh)".into(),
                value: 312.0,
                unit: "ms",
                goal: Goal::Below(1000.0),
            },
            Row {
                metric: "creates/s".into(),
                value: 2500.0,
                unit: "/s",
                goal: Goal::AtLeast(3000.0),
            },
        ];
        let t = table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{t}");
        assert!(lines[2].contains("312 ms") && lines[2].contains("met"));
        assert!(lines[3].contains("NOT MET"));
    }
}
