// SPDX-License-Identifier: GPL-2.0

//! Counters in debugfs: `/sys/kernel/debug/<module>/<counter>`, one u64 per file.

use crate::conn::{Core, Session};
use core::{ffi::c_void, sync::atomic::AtomicU64};
use kernel::c_str;
use kernel::{str::CStr, sync::Arc};

// `struct dentry` is passed as an opaque pointer (`c_void`).
extern "C" {
    fn ktcp_debugfs_dir(name: *const kernel::ffi::c_char) -> *mut c_void;
    fn ktcp_debugfs_u64(name: *const kernel::ffi::c_char, dir: *mut c_void, value: *mut u64);
    fn ktcp_debugfs_remove(dir: *mut c_void);
}

/// A debugfs directory showing a server's counters; removed on drop.
///
/// # Invariants
///
/// Every file points into `core`, which this value keeps alive until the files are removed.
pub(crate) struct StatsDir<S: Session> {
    dir: *mut c_void,
    core: Arc<Core<S>>,
}

// SAFETY: debugfs entries may be removed from any thread.
unsafe impl<S: Session> Send for StatsDir<S> {}
// SAFETY: `&StatsDir` exposes nothing.
unsafe impl<S: Session> Sync for StatsDir<S> {}

impl<S: Session> StatsDir<S> {
    /// Creates `/sys/kernel/debug/<name>/` with the core's and the protocol's counters.
    /// debugfs is best effort: without it (or on error) the server runs all the same.
    pub(crate) fn new(name: &CStr, core: Arc<Core<S>>) -> Self {
        // SAFETY: `name` is a valid C string; debugfs copies it.
        let dir = unsafe { ktcp_debugfs_dir(name.as_char_ptr()) };
        let this = Self { dir, core };
        let stats = &this.core.stats;
        for (name, value) in [
            (c_str!("accepted"), &stats.accepted),
            (c_str!("active"), &stats.active),
            (c_str!("closed"), &stats.closed),
            (c_str!("refused"), &stats.refused),
            (c_str!("timeouts"), &stats.timeouts),
        ] {
            this.add(name, value);
        }
        S::counters(&this.core.shared, &mut |name, value| this.add(name, value));
        this
    }

    fn add(&self, name: &CStr, value: &AtomicU64) {
        // SAFETY: debugfs accepts an error pointer as parent and then does nothing; `value`
        // lives in `self.core`, kept alive until `Drop` removes the file. A u64 debugfs file
        // reads the value with a plain load, which is fine for a counter.
        unsafe { ktcp_debugfs_u64(name.as_char_ptr(), self.dir, value.as_ptr()) };
    }
}

impl<S: Session> Drop for StatsDir<S> {
    fn drop(&mut self) {
        // SAFETY: removes the directory created in `new` (an error pointer is ignored); no
        // file reads `self.core` afterwards.
        unsafe { ktcp_debugfs_remove(self.dir) };
    }
}
