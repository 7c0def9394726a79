//! `bench-report`: collects `RESULT` lines from files into a per-scenario comparison table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use benchlib::csv::write_csv;
use benchlib::plot::{grouped_bars_png, Labels};
use benchlib::report::{self, Row};
use benchlib::{Args, ResultLine};

const HELP: &str = "\
usage: bench-report [--baseline NAME]... [--csv OUT.csv] [--png OUT.png] FILE...

Reads every `RESULT key=value ...` line of the FILEs, groups them by scenario and server
(several runs are averaged) and prints rps, p50, p99 and the ratios against the baseline
server of each scenario: the first --baseline NAME present in that scenario.
  --csv F    also write the table as CSV
  --png F    also write a grouped bar chart of rps per server per scenario";

struct Options {
    baselines: Vec<String>,
    csv: Option<PathBuf>,
    png: Option<PathBuf>,
    files: Vec<String>,
}

fn parse_options() -> Result<Option<Options>, String> {
    let mut args = Args::from_env();
    if args.flag(&["-h", "--help"]) {
        println!("{HELP}");
        return Ok(None);
    }
    let baselines = args.values(&["--baseline"])?;
    let csv = args.opt(&["--csv"])?;
    let png = args.opt(&["--png"])?;
    let files = args.finish()?;
    if files.is_empty() {
        return Err("no input files (see --help)".to_string());
    }
    Ok(Some(Options {
        baselines,
        csv,
        png,
        files,
    }))
}

fn read_results(files: &[String]) -> Result<Vec<ResultLine>, String> {
    let mut results = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        results.extend(text.lines().filter_map(ResultLine::parse));
    }
    Ok(results)
}

fn write_png(path: &Path, rows: &[Row]) -> Result<(), String> {
    let scenarios = report::scenarios(rows);
    let servers = report::servers(rows);
    let values: Vec<Vec<Option<f64>>> = servers
        .iter()
        .map(|server| {
            scenarios
                .iter()
                .map(|scenario| {
                    rows.iter()
                        .find(|r| &r.server == server && &r.scenario == scenario)
                        .and_then(|r| r.rps_ratio)
                })
                .collect()
        })
        .collect();
    let labels = Labels {
        title: "throughput relative to the scenario's baseline (1.0 = baseline)",
        x: "",
        y: "rps ratio",
    };
    grouped_bars_png(path, &labels, &scenarios, &servers, &values)
}

fn run(options: Options) -> Result<(), String> {
    let results = read_results(&options.files)?;
    if results.is_empty() {
        return Err("no RESULT lines found in the input files".to_string());
    }
    let rows = report::build_table(&results, &options.baselines);
    print!("{}", report::format_table(&rows));
    if let Some(path) = &options.csv {
        let rows = report::csv_rows(&rows);
        write_csv(path, &report::CSV_HEADER, &rows)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &options.png {
        write_png(path, &rows)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let result = parse_options().and_then(|options| match options {
        Some(options) => run(options),
        None => Ok(()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench-report: {message}");
            ExitCode::FAILURE
        }
    }
}
