//! Reading kubectl's human-readable tables by the offsets of their header columns.

/// A table printed by `kubectl get`: column names and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names as printed (`NAME`, `READY`, `NOMINATED NODE`, ...).
    pub columns: Vec<String>,
    /// One entry per row, one cell per column (empty when the cell is blank).
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The cell of `row` under `column`, if both exist.
    pub fn cell(&self, row: usize, column: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.rows.get(row)?.get(i).map(String::as_str)
    }

    /// The row whose first cell is `name`.
    pub fn row(&self, name: &str) -> Option<&[String]> {
        self.rows
            .iter()
            .find(|r| r.first().is_some_and(|c| c == name))
            .map(Vec::as_slice)
    }
}

/// Parses a table whose columns are separated by runs of at least two spaces in the header
/// (single spaces occur inside names such as `NOMINATED NODE`).
pub fn parse_table(text: &str) -> Table {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().unwrap_or_default();
    let mut starts = Vec::new();
    let mut columns = Vec::new();
    let bytes = header.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b' ' && (i == 0 || (i >= 2 && bytes[i - 1] == b' ' && bytes[i - 2] == b' '))
        {
            starts.push(i);
        }
        i += 1;
    }
    for (n, &s) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(header.len());
        columns.push(header[s..end].trim().to_owned());
    }
    let rows = lines
        .map(|line| {
            (0..starts.len())
                .map(|n| {
                    let s = starts[n].min(line.len());
                    let e = if n + 1 == starts.len() {
                        line.len()
                    } else {
                        starts[n + 1].min(line.len())
                    };
                    line.get(s..e).unwrap_or_default().trim().to_owned()
                })
                .collect()
        })
        .collect();
    Table { columns, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_columns_with_spaces_and_blank_cells() {
        let text = "NAME   READY   NOMINATED NODE   ADDRESS   AGE\n\
                    web    0/1     <none>                     5s\n";
        let t = parse_table(text);
        assert_eq!(
            t.columns,
            ["NAME", "READY", "NOMINATED NODE", "ADDRESS", "AGE"]
        );
        assert_eq!(t.rows, vec![vec!["web", "0/1", "<none>", "", "5s"]]);
        assert_eq!(t.cell(0, "AGE"), Some("5s"));
        assert_eq!(t.row("web").map(|r| r[1].as_str()), Some("0/1"));
    }
}
