// SPDX-License-Identifier: GPL-2.0

//! One reading of a module's debugfs directory: its counters (one u64 per file) and its raw
//! latency histograms (`latency_buckets`), and the errors that say why it could not be read.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::histogram::{self, BUCKETS};

/// The modules ktcp-stat knows, in the order it shows them.
pub(crate) const MODULES: [&str; 2] = ["kecho_rs", "khttpd_rs"];

/// Files of a module's debugfs directory that are not counters.
const TEXT_FILES: [&str; 2] = ["latency", "latency_buckets"];

/// The counters that are gauges (a level now), not totals that only grow.
pub(crate) const GAUGES: [&str; 2] = ["active", "objects"];

/// Where the module state is read from (the real system's paths, or a test's).
#[derive(Clone, Debug)]
pub(crate) struct Paths {
    /// The debugfs mount point (`/sys/kernel/debug`).
    pub(crate) debugfs: PathBuf,
    /// Loaded modules' sysfs directories (`/sys/module`).
    pub(crate) sys_module: PathBuf,
    /// The mount table (`/proc/self/mounts`).
    pub(crate) mounts: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            debugfs: "/sys/kernel/debug".into(),
            sys_module: "/sys/module".into(),
            mounts: "/proc/self/mounts".into(),
        }
    }
}

/// Why a module's statistics cannot be read; each names the path concerned.
#[derive(Debug)]
pub(crate) enum StatError {
    /// The module is not loaded (no `/sys/module/NAME`).
    NotLoaded(Vec<String>, Vec<PathBuf>),
    /// debugfs is not mounted where it is looked for.
    NotMounted(PathBuf),
    /// A path exists but this user may not read it.
    PermissionDenied(PathBuf),
    /// The module is loaded but has no debugfs directory.
    NoDirectory(PathBuf),
    /// A file could not be read for another reason.
    Io(PathBuf, io::Error),
    /// A file's contents are not what the format says.
    Format(PathBuf, String),
}

impl fmt::Display for StatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatError::NotLoaded(names, paths) => {
                let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                let what = match names.as_slice() {
                    [one] => format!("{one} is not loaded"),
                    _ => format!("none of {} is loaded", names.join(", ")),
                };
                write!(f, "{what} (no {})", paths.join(", no "))
            }
            StatError::NotMounted(p) => write!(
                f,
                "debugfs is not mounted at {} (mount -t debugfs none {})",
                p.display(),
                p.display()
            ),
            StatError::PermissionDenied(p) => write!(
                f,
                "permission denied reading {} (debugfs is often readable by root only: run as \
                 root, or mount it with a mode or group that lets this user read it)",
                p.display()
            ),
            StatError::NoDirectory(p) => write!(
                f,
                "the module is loaded but {} does not exist (its debugfs files were not created)",
                p.display()
            ),
            StatError::Io(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            StatError::Format(p, why) => write!(f, "unexpected contents in {}: {why}", p.display()),
        }
    }
}

impl std::error::Error for StatError {}

/// The error for a failed access to `path`.
fn io_error(path: &Path, e: io::Error) -> StatError {
    match e.kind() {
        io::ErrorKind::PermissionDenied => StatError::PermissionDenied(path.to_path_buf()),
        _ => StatError::Io(path.to_path_buf(), e),
    }
}

/// One latency histogram: the sum of the buckets of every CPU.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Histogram {
    pub(crate) name: String,
    /// The samples' count (the sum of `buckets`).
    pub(crate) count: u64,
    /// The largest sample since the module was loaded, in ns.
    pub(crate) max: u64,
    /// One count per bucket of `histogram.rs` (`BUCKETS` of them).
    pub(crate) buckets: Vec<u64>,
}

/// A module's counters and histograms at one moment.
#[derive(Clone, Debug)]
pub(crate) struct Snapshot {
    pub(crate) module: String,
    pub(crate) at: Instant,
    /// Every counter file, by name, sorted.
    pub(crate) counters: Vec<(String, u64)>,
    pub(crate) latency: Vec<Histogram>,
}

impl Snapshot {
    /// The counter `name`, if the module has it.
    pub(crate) fn counter(&self, name: &str) -> Option<u64> {
        self.counters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }
}

/// The modules to show: `wanted`, or every loaded one of [`MODULES`], each with a readable
/// debugfs directory; otherwise the error that says why not.
pub(crate) fn locate(paths: &Paths, wanted: Option<&str>) -> Result<Vec<String>, StatError> {
    let candidates: Vec<&str> = match wanted {
        Some(name) => vec![name],
        None => MODULES.to_vec(),
    };
    let loaded: Vec<&str> = candidates
        .iter()
        .copied()
        .filter(|name| paths.sys_module.join(name).exists())
        .collect();
    if loaded.is_empty() {
        return Err(StatError::NotLoaded(
            candidates.iter().map(|s| s.to_string()).collect(),
            candidates
                .iter()
                .map(|n| paths.sys_module.join(n))
                .collect(),
        ));
    }
    for name in &loaded {
        let dir = paths.debugfs.join(name);
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(StatError::Format(dir, "not a directory".into())),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(StatError::PermissionDenied(paths.debugfs.clone()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(if debugfs_mounted(paths) {
                    StatError::NoDirectory(dir)
                } else {
                    StatError::NotMounted(paths.debugfs.clone())
                });
            }
            Err(e) => return Err(io_error(&dir, e)),
        }
    }
    Ok(loaded.iter().map(|s| s.to_string()).collect())
}

/// Is a debugfs mounted at `paths.debugfs`? (Assumed so when the mount table cannot be read.)
fn debugfs_mounted(paths: &Paths) -> bool {
    let Ok(table) = std::fs::read_to_string(&paths.mounts) else {
        return true;
    };
    let want = paths.debugfs.to_string_lossy();
    table.lines().any(|line| {
        let mut fields = line.split_whitespace().skip(1);
        fields.next() == Some(&want) && fields.next() == Some("debugfs")
    })
}

/// Reads `module`'s counters and histograms now.
pub(crate) fn read(paths: &Paths, module: &str) -> Result<Snapshot, StatError> {
    let dir = paths.debugfs.join(module);
    let entries = std::fs::read_dir(&dir).map_err(|e| io_error(&dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(&dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !TEXT_FILES.contains(&name.as_str()) {
            names.push(name);
        }
    }
    names.sort();
    let at = Instant::now();
    let mut counters = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(&name);
        let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
        let value = text.trim().parse().map_err(|_| {
            StatError::Format(path.clone(), format!("'{}' is not a u64", text.trim()))
        })?;
        counters.push((name, value));
    }
    let path = dir.join("latency_buckets");
    let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
    let latency = parse_buckets(&text).map_err(|why| StatError::Format(path, why))?;
    Ok(Snapshot {
        module: module.to_string(),
        at,
        counters,
        latency,
    })
}

/// The header line of `latency_buckets`, version 1 (see `Latency::write_buckets` in the
/// module's `src/latency.rs`).
pub(crate) const BUCKETS_HEADER: &str = "# latency_buckets v1: name count max_ns upper_ns:count...";

/// Parses `latency_buckets`: the v1 header, then `NAME COUNT MAX_NS UPPER:COUNT...` per
/// metric. Every `UPPER` must be the upper end of a bucket of `histogram.rs` (so that the
/// module and this tool agree on the bucket bounds) and `COUNT` the sum of the counts.
pub(crate) fn parse_buckets(text: &str) -> Result<Vec<Histogram>, String> {
    let mut lines = text.lines();
    match lines.next() {
        Some(BUCKETS_HEADER) => {}
        other => return Err(format!("header {other:?}, want {BUCKETS_HEADER:?}")),
    }
    let mut out = Vec::new();
    for line in lines {
        let mut fields = line.split(' ');
        let (Some(name), Some(count), Some(max)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(format!("short line {line:?}"));
        };
        let number = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| format!("'{s}' in {line:?} is not a u64"))
        };
        let (count, max) = (number(count)?, number(max)?);
        let mut buckets = vec![0u64; BUCKETS];
        let mut last = None;
        for pair in fields {
            let (upper, n) = pair
                .split_once(':')
                .ok_or(format!("'{pair}' is not UPPER:COUNT"))?;
            let (upper, n) = (number(upper)?, number(n)?);
            let i = histogram::bucket(upper);
            if histogram::bucket_high(i) != upper {
                return Err(format!(
                    "{upper} is not the upper end of a bucket of histogram.rs"
                ));
            }
            if last.is_some_and(|l| l >= i) || n == 0 {
                return Err(format!("buckets out of order, or empty, in {line:?}"));
            }
            last = Some(i);
            buckets[i] = n;
        }
        let sum = buckets.iter().fold(0u64, |s, c| s.saturating_add(*c));
        if sum != count {
            return Err(format!("{name}: the buckets add up to {sum}, not {count}"));
        }
        out.push(Histogram {
            name: name.to_string(),
            count,
            max,
            buckets,
        });
    }
    if out.is_empty() {
        return Err("no histogram".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_parse_and_agree_with_histogram_rs() {
        let text = format!("{BUCKETS_HEADER}\nservice 5 3000 1023:2 3071:3\nqueue_delay 0 0\n");
        let h = parse_buckets(&text).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(
            (h[0].name.as_str(), h[0].count, h[0].max),
            ("service", 5, 3000)
        );
        assert_eq!(h[0].buckets[histogram::bucket(1000)], 2);
        assert_eq!(h[0].buckets[histogram::bucket(3000)], 3);
        assert_eq!(h[1].buckets.iter().sum::<u64>(), 0);
    }

    #[test]
    fn buckets_refused_when_inconsistent() {
        let bad = [
            "service 5 3000 1023:2".to_string(), // no header
            format!("{BUCKETS_HEADER}\nservice 5 3000 1023:2 3071:2"), // count differs
            format!("{BUCKETS_HEADER}\nservice 2 3000 1000:2"), // not a bucket's end
            format!("{BUCKETS_HEADER}\nservice 4 3000 3071:2 1023:2"), // out of order
            format!("{BUCKETS_HEADER}\nservice x 3000"),
            format!("{BUCKETS_HEADER}\n"),
        ];
        for text in bad {
            assert!(parse_buckets(&text).is_err(), "{text:?} accepted");
        }
    }

    /// A fake system: `/sys/module/<loaded>` and, when `debugfs`, a debugfs directory for
    /// each with `files`.
    pub(crate) fn fake(
        loaded: &[&str],
        debugfs: bool,
        files: &[(&str, &str)],
    ) -> (tempfile::TempDir, Paths) {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths {
            debugfs: root.path().join("debug"),
            sys_module: root.path().join("module"),
            mounts: root.path().join("mounts"),
        };
        std::fs::create_dir_all(&paths.debugfs).unwrap();
        let mounts = if debugfs {
            format!("debugfs {} debugfs rw 0 0\n", paths.debugfs.display())
        } else {
            String::new()
        };
        std::fs::write(&paths.mounts, mounts).unwrap();
        for m in loaded {
            std::fs::create_dir_all(paths.sys_module.join(m)).unwrap();
            if debugfs {
                let dir = paths.debugfs.join(m);
                std::fs::create_dir_all(&dir).unwrap();
                for (name, text) in files {
                    std::fs::write(dir.join(name), text).unwrap();
                }
            }
        }
        (root, paths)
    }

    #[test]
    fn locate_names_what_is_missing() {
        let (_root, paths) = fake(&[], true, &[]);
        let e = locate(&paths, Some("khttpd_rs")).unwrap_err().to_string();
        assert!(e.starts_with("khttpd_rs is not loaded (no "), "{e}");
        assert!(e.contains("module/khttpd_rs"), "{e}");
        let e = locate(&paths, None).unwrap_err().to_string();
        assert!(
            e.starts_with("none of kecho_rs, khttpd_rs is loaded"),
            "{e}"
        );

        let (_root, paths) = fake(&["khttpd_rs"], false, &[]);
        let e = locate(&paths, None).unwrap_err().to_string();
        assert!(e.starts_with("debugfs is not mounted at "), "{e}");

        let (_root, paths) = fake(&["khttpd_rs"], true, &[]);
        assert_eq!(locate(&paths, None).unwrap(), ["khttpd_rs"]);
        std::fs::remove_dir(paths.debugfs.join("khttpd_rs")).unwrap();
        let e = locate(&paths, None).unwrap_err().to_string();
        assert!(
            e.contains("is loaded but ") && e.contains("debug/khttpd_rs"),
            "{e}"
        );
    }

    #[test]
    fn read_takes_every_counter_file() {
        let buckets = format!("{BUCKETS_HEADER}\nservice 1 7 7:1\n");
        let files = [
            ("accepted", "12\n"),
            ("active", "3\n"),
            ("latency", "table"),
            ("latency_buckets", &buckets),
        ];
        let (_root, paths) = fake(&["kecho_rs"], true, &files);
        let s = read(&paths, "kecho_rs").unwrap();
        assert_eq!(
            s.counters,
            [("accepted".to_string(), 12), ("active".to_string(), 3)]
        );
        assert_eq!(s.latency[0].buckets[7], 1);
        std::fs::write(paths.debugfs.join("kecho_rs/active"), "x\n").unwrap();
        let e = read(&paths, "kecho_rs").unwrap_err().to_string();
        assert!(
            e.contains("kecho_rs/active") && e.contains("not a u64"),
            "{e}"
        );
    }
}
