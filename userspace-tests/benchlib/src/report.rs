//! The cross-run table: one row per (scenario, server), the medians of its repeats, and the
//! ratios against a baseline server as median (min-max) over the repeats paired by number.
//! A run whose load tool counted errors, or that answered no request, stays out of the table
//! and is listed as excluded.

use crate::result_line::ResultLine;
use crate::spread::Spread;

/// A client at or above this load (its CPU seconds over its wall seconds) used a whole vCPU:
/// it, not the server, set the pace.
pub const CLIENT_BOUND: f64 = 0.9;

/// The keys that say why a run with errors failed, shown when it is excluded.
const ERROR_KEYS: [&str; 12] = [
    "errors",
    "socket_errors",
    "non2xx",
    "failed",
    "mismatches",
    "connect_errors",
    "resets",
    "timeouts",
    "bad",
    "closed",
    "truncated",
    "reconnects",
];

/// One included run of a row.
#[derive(Clone, Debug, PartialEq)]
struct Sample {
    repeat: u64,
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us: Option<f64>,
    client_load: Option<f64>,
}

/// One (scenario, server) row: medians over the included runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub scenario: String,
    pub server: String,
    /// Runs in the table, and runs left out because their load tool counted errors.
    pub runs: usize,
    pub excluded: usize,
    pub rps: Option<f64>,
    pub p50_us: Option<f64>,
    pub p99_us: Option<f64>,
    /// The server's CPU per request (or echoed message), microseconds.
    pub cpu_us: Option<f64>,
    /// The client's CPU seconds over its wall seconds.
    pub client_load: Option<f64>,
    /// Errors and reconnects the load tools counted, over every run (excluded ones too).
    pub errors: u64,
    pub reconnects: u64,
    /// The server this row is compared with, when the scenario has one.
    pub baseline: Option<String>,
    pub rps_ratio: Option<Spread>,
    pub p99_ratio: Option<Spread>,
    pub cpu_ratio: Option<Spread>,
    samples: Vec<Sample>,
}

impl Row {
    fn new(scenario: &str, server: &str) -> Row {
        Row {
            scenario: scenario.to_string(),
            server: server.to_string(),
            runs: 0,
            excluded: 0,
            rps: None,
            p50_us: None,
            p99_us: None,
            cpu_us: None,
            client_load: None,
            errors: 0,
            reconnects: 0,
            baseline: None,
            rps_ratio: None,
            p99_ratio: None,
            cpu_ratio: None,
            samples: Vec::new(),
        }
    }

    /// The client was the bottleneck (median load at or above [`CLIENT_BOUND`]).
    pub fn client_bound(&self) -> bool {
        self.client_load.is_some_and(|load| load >= CLIENT_BOUND)
    }

    fn is_baseline(&self) -> bool {
        self.baseline.as_deref() == Some(self.server.as_str())
    }
}

/// A run left out of the table, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Excluded {
    pub scenario: String,
    pub server: String,
    pub repeat: u64,
    pub why: String,
}

/// The table and the runs it leaves out.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub rows: Vec<Row>,
    pub excluded: Vec<Excluded>,
}

pub const CSV_HEADER: [&str; 26] = [
    "scenario",
    "server",
    "runs",
    "excluded",
    "rps",
    "p50_us",
    "p99_us",
    "server_us_per_req",
    "client_load",
    "client_bound",
    "errors",
    "reconnects",
    "baseline",
    "rps_ratio",
    "rps_ratio_min",
    "rps_ratio_max",
    "rps_tie",
    "p99_ratio",
    "p99_ratio_min",
    "p99_ratio_max",
    "p99_tie",
    "cpu_ratio",
    "cpu_ratio_min",
    "cpu_ratio_max",
    "cpu_tie",
    "note",
];

fn count(result: &ResultLine, key: &str) -> u64 {
    result.get_f64(key).map_or(0, |v| v.max(0.0) as u64)
}

/// Groups `results` by scenario (in order of first appearance), then server; a run's repeat
/// is its `repeat=` key, else its position among the runs of its row. Ratios are against the
/// first name of `baselines` present in each scenario.
pub fn build_table(results: &[ResultLine], baselines: &[String]) -> Table {
    let mut rows: Vec<Row> = Vec::new();
    let mut excluded = Vec::new();
    for result in results {
        let scenario = result.get("scenario").unwrap_or("default");
        let server = result.get("server").unwrap_or("unknown");
        let index = match rows
            .iter()
            .position(|r| r.scenario == scenario && r.server == server)
        {
            Some(index) => index,
            None => {
                rows.push(Row::new(scenario, server));
                rows.len() - 1
            }
        };
        let row = &mut rows[index];
        let ordinal = (row.runs + row.excluded + 1) as u64;
        let repeat = result.get_f64("repeat").map_or(ordinal, |r| r as u64);
        row.errors += count(result, "errors");
        row.reconnects += count(result, "reconnects");
        if let Some(why) = why_excluded(result) {
            row.excluded += 1;
            excluded.push(Excluded {
                scenario: scenario.to_string(),
                server: server.to_string(),
                repeat,
                why,
            });
            continue;
        }
        row.runs += 1;
        row.samples.push(Sample {
            repeat,
            rps: result.get_f64("rps").unwrap_or(0.0),
            p50_us: result.get_f64("p50_us").unwrap_or(0.0),
            p99_us: result.get_f64("p99_us").unwrap_or(0.0),
            cpu_us: result.get_f64("server_us_per_req"),
            client_load: result.get_f64("client_load"),
        });
    }
    for row in &mut rows {
        fill_medians(row);
    }
    sort_by_scenario(&mut rows);
    fill_ratios(&mut rows, baselines);
    Table { rows, excluded }
}

/// Why a run stays out of the table: its nonzero error counters (e.g. "errors=3
/// socket_errors=3"), or no request answered at all; `None` for a good run.
fn why_excluded(result: &ResultLine) -> Option<String> {
    if count(result, "errors") > 0 {
        let parts: Vec<String> = ERROR_KEYS
            .iter()
            .filter(|key| count(result, key) > 0)
            .map(|key| format!("{key}={}", count(result, key)))
            .collect();
        return Some(parts.join(" "));
    }
    (result.get_f64("requests") == Some(0.0)).then(|| "no request answered".to_string())
}

fn median_of(samples: &[Sample], value: impl Fn(&Sample) -> Option<f64>) -> Option<f64> {
    let values: Vec<f64> = samples.iter().filter_map(value).collect();
    Spread::of(&values).map(|s| s.median)
}

fn fill_medians(row: &mut Row) {
    row.rps = median_of(&row.samples, |s| Some(s.rps));
    row.p50_us = median_of(&row.samples, |s| Some(s.p50_us));
    row.p99_us = median_of(&row.samples, |s| Some(s.p99_us));
    row.cpu_us = median_of(&row.samples, |s| s.cpu_us);
    row.client_load = median_of(&row.samples, |s| s.client_load);
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
            row.rps_ratio = paired_ratio(row, &base, |s| Some(s.rps));
            row.p99_ratio = paired_ratio(row, &base, |s| Some(s.p99_us));
            row.cpu_ratio = paired_ratio(row, &base, |s| s.cpu_us);
        }
    }
}

/// The ratio of `row` to `base` per repeat present (and valid) in both, as a spread.
fn paired_ratio(row: &Row, base: &Row, value: impl Fn(&Sample) -> Option<f64>) -> Option<Spread> {
    let ratios: Vec<f64> = row
        .samples
        .iter()
        .filter_map(|sample| {
            let theirs = base.samples.iter().find(|b| b.repeat == sample.repeat)?;
            ratio(value(sample)?, value(theirs)?)
        })
        .collect();
    Spread::of(&ratios)
}

fn ratio(value: f64, base: f64) -> Option<f64> {
    (base > 0.0 && value >= 0.0).then(|| value / base)
}

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
}

fn ratio_cell(row: &Row, spread: Option<Spread>) -> String {
    if row.is_baseline() {
        return "base".to_string();
    }
    spread.map_or_else(|| "-".to_string(), |s| s.ratio_text())
}

fn runs_cell(row: &Row) -> String {
    match row.excluded {
        0 => row.runs.to_string(),
        n => format!("{}+{n}x", row.runs),
    }
}

fn client_cell(row: &Row) -> String {
    let mark = if row.client_bound() { "*" } else { "" };
    format!("{}{mark}", number(row.client_load, 2))
}

/// What the columns mean, printed under the table.
pub const LEGEND: &str = "\
runs: runs in the table (+Nx: runs excluded, listed below); rps, p99_us, us/req:
medians over the runs. us/req: the server's CPU per request or echoed message (guest busy
time minus the client's own CPU, over the requests). client: the client's CPU over its wall
time, in vCPUs; * = at least 0.9: the client was the bottleneck, and the rps ratio says more
about it than about the server. Ratios: against the scenario's base row, per repeat (the
servers ran alternately), median (min-max); \"tie\" when the range crosses 1.0. rps: higher
is better; p99 and cpu: lower is better. errs and reconn: summed over every run.
";

/// The table as aligned text, then the legend and the excluded runs.
pub fn format_table(table: &Table) -> String {
    let mut text = format!(
        "{:<22} {:<15} {:>5} {:>10} {:>9} {:>8} {:>6} {:>5} {:>6}  {:<21} {:<21} {}\n",
        "scenario",
        "server",
        "runs",
        "rps",
        "p99_us",
        "us/req",
        "client",
        "errs",
        "reconn",
        "rps ratio",
        "p99 ratio",
        "cpu ratio",
    );
    for row in &table.rows {
        text.push_str(&format!(
            "{:<22} {:<15} {:>5} {:>10} {:>9} {:>8} {:>6} {:>5} {:>6}  {:<21} {:<21} {}\n",
            row.scenario,
            row.server,
            runs_cell(row),
            number(row.rps, 1),
            number(row.p99_us, 0),
            number(row.cpu_us, 1),
            client_cell(row),
            row.errors,
            row.reconnects,
            ratio_cell(row, row.rps_ratio),
            ratio_cell(row, row.p99_ratio),
            ratio_cell(row, row.cpu_ratio),
        ));
    }
    text.push('\n');
    text.push_str(LEGEND);
    if !table.excluded.is_empty() {
        text.push_str("\nexcluded runs (errors counted, or no request answered):\n");
        for run in &table.excluded {
            text.push_str(&format!(
                "  {} {} repeat {}: {}\n",
                run.scenario, run.server, run.repeat, run.why
            ));
        }
    }
    text
}

fn spread_fields(spread: Option<Spread>) -> [String; 4] {
    match spread {
        None => Default::default(),
        Some(s) => [
            format!("{:.3}", s.median),
            format!("{:.3}", s.min),
            format!("{:.3}", s.max),
            u8::from(s.is_tie()).to_string(),
        ],
    }
}

/// The table as CSV rows matching [`CSV_HEADER`]; an excluded run adds a row with its reason.
pub fn csv_rows(table: &Table) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| {
            let mut fields = vec![
                row.scenario.clone(),
                row.server.clone(),
                row.runs.to_string(),
                row.excluded.to_string(),
                number(row.rps, 1),
                number(row.p50_us, 0),
                number(row.p99_us, 0),
                number(row.cpu_us, 2),
                number(row.client_load, 3),
                u8::from(row.client_bound()).to_string(),
                row.errors.to_string(),
                row.reconnects.to_string(),
                row.baseline.clone().unwrap_or_default(),
            ];
            fields.extend(spread_fields(row.rps_ratio));
            fields.extend(spread_fields(row.p99_ratio));
            fields.extend(spread_fields(row.cpu_ratio));
            fields.push(String::new());
            fields
        })
        .collect();
    for run in &table.excluded {
        let mut fields = vec![String::new(); CSV_HEADER.len()];
        fields[0] = run.scenario.clone();
        fields[1] = run.server.clone();
        fields[CSV_HEADER.len() - 1] = format!("excluded repeat {}: {}", run.repeat, run.why);
        rows.push(fields);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(lines: &[&str]) -> Vec<ResultLine> {
        lines.iter().filter_map(|l| ResultLine::parse(l)).collect()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ratios_against_first_present_baseline() {
        let input = results(&[
            "RESULT scenario=echo server=kecho-c rps=100 p50_us=10 p99_us=50",
            "RESULT scenario=echo server=kecho-rs rps=150 p50_us=8 p99_us=25",
            "RESULT scenario=http server=khttpd-rs rps=300 p50_us=5 p99_us=9",
            "RESULT scenario=http server=user rps=200 p50_us=5 p99_us=12",
        ]);
        let table = build_table(&input, &names(&["kecho-c", "user"]));
        let rows = &table.rows;
        let order: Vec<_> = rows
            .iter()
            .map(|r| (r.scenario.as_str(), r.server.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                ("echo", "kecho-c"),
                ("echo", "kecho-rs"),
                ("http", "khttpd-rs"),
                ("http", "user")
            ]
        );
        assert_eq!(rows[1].rps_ratio.unwrap().median, 1.5);
        assert_eq!(rows[1].p99_ratio.unwrap().median, 0.5);
        assert_eq!(rows[2].baseline.as_deref(), Some("user"));
        assert_eq!(rows[2].rps_ratio.unwrap().median, 1.5);
        assert_eq!(rows[2].p99_ratio.unwrap().median, 0.75);
    }

    #[test]
    fn median_and_range_of_ratios_paired_by_repeat() {
        // Alternating runs; the ratios per repeat are 1.5, 2.0, 1.2 (not the ratio of medians).
        let input = results(&[
            "RESULT scenario=a server=ours repeat=1 rps=150 p99_us=10 server_us_per_req=50",
            "RESULT scenario=a server=base repeat=1 rps=100 p99_us=10 server_us_per_req=100",
            "RESULT scenario=a server=ours repeat=2 rps=400 p99_us=10 server_us_per_req=60",
            "RESULT scenario=a server=base repeat=2 rps=200 p99_us=20 server_us_per_req=100",
            "RESULT scenario=a server=ours repeat=3 rps=120 p99_us=10 server_us_per_req=90",
            "RESULT scenario=a server=base repeat=3 rps=100 p99_us=5 server_us_per_req=100",
        ]);
        let table = build_table(&input, &names(&["base"]));
        let ours = &table.rows[0];
        assert_eq!(ours.runs, 3);
        assert_eq!(ours.rps, Some(150.0));
        assert_eq!(ours.cpu_us, Some(60.0));
        let rps = ours.rps_ratio.unwrap();
        assert_eq!((rps.median, rps.min, rps.max), (1.5, 1.2, 2.0));
        assert!(!rps.is_tie());
        // p99 ratios 1.0, 0.5, 2.0: the range crosses 1.0.
        let p99 = ours.p99_ratio.unwrap();
        assert_eq!((p99.median, p99.min, p99.max), (1.0, 0.5, 2.0));
        assert!(p99.is_tie());
        let cpu = ours.cpu_ratio.unwrap();
        assert_eq!((cpu.median, cpu.min, cpu.max), (0.6, 0.5, 0.9));
        let text = format_table(&table);
        assert!(text.contains("1.50 (1.20-2.00)"), "{text}");
        assert!(text.contains("1.00 (0.50-2.00) tie"), "{text}");
        assert!(text.contains("0.60 (0.50-0.90)"), "{text}");
        assert!(text.lines().nth(2).unwrap().contains("base"), "{text}");
    }

    #[test]
    fn runs_with_errors_are_excluded_and_listed() {
        let input = results(&[
            "RESULT scenario=a server=ours repeat=1 rps=100 errors=0 reconnects=2",
            "RESULT scenario=a server=base repeat=1 rps=100 errors=0",
            "RESULT scenario=a server=ours repeat=2 rps=900 errors=3 socket_errors=3",
            "RESULT scenario=a server=base repeat=2 rps=100 errors=0",
        ]);
        let table = build_table(&input, &names(&["base"]));
        let ours = &table.rows[0];
        assert_eq!((ours.runs, ours.excluded), (1, 1));
        assert_eq!((ours.errors, ours.reconnects), (3, 2));
        assert_eq!(ours.rps, Some(100.0));
        assert_eq!(ours.rps_ratio.unwrap().max, 1.0);
        assert_eq!(
            table.excluded,
            [Excluded {
                scenario: "a".into(),
                server: "ours".into(),
                repeat: 2,
                why: "errors=3 socket_errors=3".into()
            }]
        );
        let text = format_table(&table);
        assert!(text.contains("1+1x"), "{text}");
        assert!(
            text.contains("a ours repeat 2: errors=3 socket_errors=3"),
            "{text}"
        );
        let csv = csv_rows(&table);
        assert_eq!(csv.len(), 3);
        assert!(csv[2][CSV_HEADER.len() - 1].contains("errors=3"));
    }

    #[test]
    fn runs_that_answered_nothing_are_excluded() {
        let input = results(&[
            "RESULT scenario=a server=ours repeat=1 rps=0.0 requests=0 errors=0",
            "RESULT scenario=a server=base repeat=1 rps=5 requests=10 errors=0",
        ]);
        let table = build_table(&input, &names(&["base"]));
        assert_eq!((table.rows[0].runs, table.rows[0].excluded), (0, 1));
        assert_eq!(table.rows[0].rps_ratio, None);
        assert_eq!(table.excluded[0].why, "no request answered");
    }

    #[test]
    fn client_bound_rows_are_marked() {
        let input = results(&[
            "RESULT scenario=a server=x rps=10 client_load=0.95",
            "RESULT scenario=a server=y rps=20 client_load=0.40",
        ]);
        let table = build_table(&input, &names(&["y"]));
        assert!(table.rows[0].client_bound());
        assert!(!table.rows[1].client_bound());
        let text = format_table(&table);
        assert!(text.contains("0.95*") && !text.contains("0.40*"), "{text}");
        assert_eq!(csv_rows(&table)[0][9], "1");
    }

    #[test]
    fn no_baseline_or_zero_baseline_gives_no_ratio() {
        let input = results(&[
            "RESULT scenario=a server=x rps=10 p99_us=0",
            "RESULT scenario=a server=y rps=20 p99_us=3",
            "RESULT server=z rps=1",
        ]);
        let table = build_table(&input, &names(&["x"]));
        let rows = &table.rows;
        assert_eq!(rows[1].rps_ratio.unwrap().median, 2.0);
        assert_eq!(rows[1].p99_ratio, None);
        assert_eq!(
            (rows[2].scenario.as_str(), rows[2].rps_ratio),
            ("default", None)
        );
        assert_eq!(csv_rows(&table)[2][13], "");
    }
}
