// SPDX-License-Identifier: GPL-2.0

//! Every source file of `src/proto` and of these tests opens with the kernel's SPDX line.

use std::path::{Path, PathBuf};
use std::vec::Vec;

/// The line the kernel's `checkpatch.pl` wants first in a `.rs` file.
const SPDX: &str = "// SPDX-License-Identifier: GPL-2.0";

/// The `.rs` files directly in `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_source_file_starts_with_spdx() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = rust_files(&manifest.join("../../src/proto"));
    let proto_count = files.len();
    files.extend(rust_files(&manifest.join("src")));
    // Guards against a wrong directory making the check vacuous.
    assert!(proto_count >= 10 && files.len() > proto_count, "{files:?}");
    let bad: Vec<_> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let mut lines = text.lines();
            let (first, second, third) = (lines.next(), lines.next(), lines.next());
            first != Some(SPDX)
                || second != Some("")
                || !third.is_some_and(|l| l.starts_with("//!"))
        })
        .collect();
    assert!(bad.is_empty(), "files without the SPDX header: {bad:?}");
}
