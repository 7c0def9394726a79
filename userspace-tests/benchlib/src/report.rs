//! The cross-run table: one row per (scenario, server) with ratios against a baseline server.

use crate::result_line::ResultLine;

/// One (scenario, server) row; numbers are averaged over the runs found.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub scenario: String,
    pub server: String,
    pub runs: usize,
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// The server this row is compared with, when the scenario has one.
    pub baseline: Option<String>,
    pub rps_ratio: Option<f64>,
    pub p99_ratio: Option<f64>,
}

pub const CSV_HEADER: [&str; 9] = [
    "scenario",
    "server",
    "runs",
    "rps",
    "p50_us",
    "p99_us",
    "baseline",
    "rps_ratio",
    "p99_ratio",
];

/// Groups `results` by scenario (in order of first appearance), then server, and fills
/// the ratios against the first name of `baselines` present in each scenario.
pub fn build_table(results: &[ResultLine], baselines: &[String]) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for result in results {
        let scenario = result.get("scenario").unwrap_or("default");
        let server = result.get("server").unwrap_or("unknown");
        let position = rows
            .iter()
            .position(|r| r.scenario == scenario && r.server == server);
        let row = match position {
            Some(index) => &mut rows[index],
            None => {
                rows.push(empty_row(scenario, server));
                let last = rows.len() - 1;
                &mut rows[last]
            }
        };
        row.runs += 1;
        row.rps += result.get_f64("rps").unwrap_or(0.0);
        row.p50_us += result.get_f64("p50_us").unwrap_or(0.0);
        row.p99_us += result.get_f64("p99_us").unwrap_or(0.0);
    }
    for row in &mut rows {
        let runs = row.runs.max(1) as f64;
        row.rps /= runs;
        row.p50_us /= runs;
        row.p99_us /= runs;
    }
    sort_by_scenario(&mut rows);
    fill_ratios(&mut rows, baselines);
    rows
}

fn empty_row(scenario: &str, server: &str) -> Row {
    Row {
        scenario: scenario.to_string(),
        server: server.to_string(),
        runs: 0,
        rps: 0.0,
        p50_us: 0.0,
        p99_us: 0.0,
        baseline: None,
        rps_ratio: None,
        p99_ratio: None,
    }
}

/// Keeps scenarios in order of first appearance, rows of one scenario together.
fn sort_by_scenario(rows: &mut [Row]) {
    let order = scenarios(rows);
    rows.sort_by_key(|row| order.iter().position(|s| *s == row.scenario));
}

/// Scenario names in order of first appearance.
pub fn scenarios(rows: &[Row]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for row in rows {
        if !names.contains(&row.scenario) {
            names.push(row.scenario.clone());
        }
    }
    names
}

/// Server names in order of first appearance.
pub fn servers(rows: &[Row]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for row in rows {
        if !names.contains(&row.server) {
            names.push(row.server.clone());
        }
    }
    names
}

fn fill_ratios(rows: &mut [Row], baselines: &[String]) {
    for scenario in scenarios(rows) {
        let base = baselines.iter().find_map(|name| {
            rows.iter()
                .find(|r| r.scenario == scenario && &r.server == name)
                .cloned()
        });
        let Some(base) = base else { continue };
        for row in rows.iter_mut().filter(|r| r.scenario == scenario) {
            row.baseline = Some(base.server.clone());
            row.rps_ratio = ratio(row.rps, base.rps);
            row.p99_ratio = ratio(row.p99_us, base.p99_us);
        }
    }
}

fn ratio(value: f64, base: f64) -> Option<f64> {
    (base > 0.0).then(|| value / base)
}

fn ratio_text(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))
}

/// The table as aligned text.
pub fn format_table(rows: &[Row]) -> String {
    let mut text = format!(
        "{:<24} {:<20} {:>4} {:>12} {:>10} {:>10} {:>9} {:>9}  {}\n",
        "scenario",
        "server",
        "runs",
        "rps",
        "p50_us",
        "p99_us",
        "rps ratio",
        "p99 ratio",
        "baseline"
    );
    for row in rows {
        text.push_str(&format!(
            "{:<24} {:<20} {:>4} {:>12.1} {:>10.0} {:>10.0} {:>9} {:>9}  {}\n",
            row.scenario,
            row.server,
            row.runs,
            row.rps,
            row.p50_us,
            row.p99_us,
            ratio_text(row.rps_ratio),
            ratio_text(row.p99_ratio),
            row.baseline.as_deref().unwrap_or("-"),
        ));
    }
    text
}

/// The table as CSV rows matching [`CSV_HEADER`].
pub fn csv_rows(rows: &[Row]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| {
            vec![
                row.scenario.clone(),
                row.server.clone(),
                row.runs.to_string(),
                format!("{:.1}", row.rps),
                format!("{:.0}", row.p50_us),
                format!("{:.0}", row.p99_us),
                row.baseline.clone().unwrap_or_default(),
                row.rps_ratio.map(|v| format!("{v:.3}")).unwrap_or_default(),
                row.p99_ratio.map(|v| format!("{v:.3}")).unwrap_or_default(),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(lines: &[&str]) -> Vec<ResultLine> {
        lines.iter().filter_map(|l| ResultLine::parse(l)).collect()
    }

    #[test]
    fn ratios_against_first_present_baseline() {
        let input = results(&[
            "RESULT scenario=echo server=kecho-c rps=100 p50_us=10 p99_us=50",
            "RESULT scenario=echo server=kecho-rs rps=150 p50_us=8 p99_us=25",
            "RESULT scenario=http server=khttpd-rs rps=300 p50_us=5 p99_us=9",
            "RESULT scenario=http server=user rps=200 p50_us=5 p99_us=12",
            "RESULT scenario=echo server=kecho-rs rps=250 p50_us=8 p99_us=35",
        ]);
        let baselines = vec!["kecho-c".to_string(), "user".to_string()];
        let rows = build_table(&input, &baselines);
        let names: Vec<_> = rows
            .iter()
            .map(|r| (r.scenario.as_str(), r.server.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("echo", "kecho-c"),
                ("echo", "kecho-rs"),
                ("http", "khttpd-rs"),
                ("http", "user")
            ]
        );
        let rs = &rows[1];
        assert_eq!((rs.runs, rs.rps, rs.p99_us), (2, 200.0, 30.0));
        assert_eq!(rs.rps_ratio, Some(2.0));
        assert_eq!(rs.p99_ratio, Some(0.6));
        assert_eq!(rows[0].rps_ratio, Some(1.0));
        assert_eq!(rows[2].baseline.as_deref(), Some("user"));
        assert_eq!(rows[2].rps_ratio, Some(1.5));
        assert_eq!(rows[2].p99_ratio, Some(0.75));
    }

    #[test]
    fn no_baseline_or_zero_baseline_gives_no_ratio() {
        let input = results(&[
            "RESULT scenario=a server=x rps=10 p99_us=0",
            "RESULT scenario=a server=y rps=20 p99_us=3",
            "RESULT server=z rps=1",
        ]);
        let rows = build_table(&input, &["x".to_string()]);
        assert_eq!(rows[1].rps_ratio, Some(2.0));
        assert_eq!(rows[1].p99_ratio, None);
        assert_eq!(
            (rows[2].scenario.as_str(), rows[2].rps_ratio),
            ("default", None)
        );
        let text = format_table(&rows);
        assert!(text.lines().count() == 4 && text.contains("2.00"));
        assert_eq!(csv_rows(&rows)[2][7], "");
    }
}
