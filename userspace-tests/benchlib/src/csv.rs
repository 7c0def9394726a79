//! Minimal CSV writing: a header row and rows of fields, quoted when needed.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes `header` then `rows` to `path`.
pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    write_row(&mut out, header.iter().copied())?;
    for row in rows {
        write_row(&mut out, row.iter().map(String::as_str))?;
    }
    out.flush()
}

fn write_row<'a>(out: &mut impl Write, fields: impl Iterator<Item = &'a str>) -> io::Result<()> {
    let line: Vec<String> = fields.map(quote).collect();
    writeln!(out, "{}", line.join(","))
}

/// Quotes a field that contains a comma, quote or newline.
pub fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("abc"), "abc");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn writes_header_and_rows() {
        let path = std::env::temp_dir().join(format!("benchlib-csv-{}.csv", std::process::id()));
        write_csv(&path, &["a", "b"], &[vec!["1".into(), "x,y".into()]]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(text, "a,b\n1,\"x,y\"\n");
    }
}
