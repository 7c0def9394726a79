// SPDX-License-Identifier: GPL-2.0

//! A debugfs directory of read-only u64 files, removed on drop.

use crate::helpers::{ktcp_debugfs_dir, ktcp_debugfs_remove, ktcp_debugfs_u64};
use core::sync::atomic::AtomicU64;
use kernel::{bindings, str::CStr, sync::Arc};

/// `/sys/kernel/debug/<name>/`, whose files show counters that live in `T`.
///
/// # Invariants
///
/// Every file points at an `AtomicU64` borrowed from `*owner` (or from a static), which this
/// value keeps alive until `Drop` has removed the files.
pub(crate) struct DebugfsDir<T: Send + Sync> {
    dir: *mut bindings::dentry,
    _owner: Arc<T>,
}

// SAFETY: debugfs entries may be removed from any thread; `T` is `Send + Sync`.
unsafe impl<T: Send + Sync> Send for DebugfsDir<T> {}
// SAFETY: `&DebugfsDir` exposes nothing.
unsafe impl<T: Send + Sync> Sync for DebugfsDir<T> {}

impl<T: Send + Sync> DebugfsDir<T> {
    /// Creates the directory and one file per counter that `list` names. debugfs is best
    /// effort: without it (or on error) the files are simply absent.
    pub(crate) fn new(
        name: &CStr,
        owner: Arc<T>,
        list: impl for<'x> FnOnce(&'x T, &mut dyn FnMut(&'static CStr, &'x AtomicU64)),
    ) -> Self {
        // SAFETY: `name` is a valid C string; debugfs copies it.
        let dir = unsafe { ktcp_debugfs_dir(name.as_char_ptr()) };
        list(&owner, &mut |file, value| {
            // A u64 debugfs file reads the value with a plain load, fine for a counter.
            // SAFETY: debugfs ignores an error-pointer parent. `value` is borrowed from
            // `*owner` (or is static), which the returned value keeps alive until `Drop`
            // removes the file.
            unsafe { ktcp_debugfs_u64(file.as_char_ptr(), dir, value.as_ptr()) };
        });
        // INVARIANT: every file created above points into `owner`, stored here.
        Self { dir, _owner: owner }
    }
}

impl<T: Send + Sync> Drop for DebugfsDir<T> {
    fn drop(&mut self) {
        // SAFETY: removes the directory created in `new` (an error pointer is ignored); no
        // file reads `self.owner` afterwards.
        unsafe { ktcp_debugfs_remove(self.dir) };
    }
}
