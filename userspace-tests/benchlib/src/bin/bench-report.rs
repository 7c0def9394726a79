//! `bench-report`: collects `RESULT` lines from files into a per-scenario comparison table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use benchlib::csv::write_csv;
use benchlib::plot::{grouped_bars_png, Labels};
use benchlib::report::{self, Table};
use benchlib::{Args, ResultLine};

const HELP: &str = "\
usage: bench-report [--baseline NAME]... [--csv OUT.csv] [--png OUT.png] FILE...

Reads every `RESULT key=value ...` line of the FILEs, groups them by scenario and server
and prints, per row, the medians of its runs (rps, p99, the server's CPU per request, the
client's load), the errors and reconnects counted, and the ratios against the baseline
server of each scenario (the first --baseline NAME present in it): per repeat (repeat=N,
else the order of the runs), as median (min-max), \"tie\" when the range crosses 1.0.
A run with errors>0 or requests=0 stays out of the table and is listed as excluded, with why.
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

fn write_png(path: &Path, table: &Table) -> Result<(), String> {
    let rows = &table.rows;
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
                        .map(|ratio| ratio.median)
                })
                .collect()
        })
        .collect();
    let labels = Labels {
        title:
            "throughput relative to the scenario's baseline, median of the repeats (1.0 = baseline)",
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
    let table = report::build_table(&results, &options.baselines);
    print!("{}", report::format_table(&table));
    if let Some(path) = &options.csv {
        let rows = report::csv_rows(&table);
        write_csv(path, &report::CSV_HEADER, &rows)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &options.png {
        write_png(path, &table)?;
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
