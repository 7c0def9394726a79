// SPDX-License-Identifier: GPL-2.0

//! A debugfs directory of read-only files (u64 counters, and text made when read), removed on
//! drop.

use crate::helpers::{
    ktcp_debugfs_dir, ktcp_debugfs_remove, ktcp_debugfs_text, ktcp_debugfs_u64,
    ktcp_seq_overflowed, ktcp_seq_write, KtcpText,
};
use core::fmt::Write;
use core::sync::atomic::AtomicU64;
use kernel::{bindings, ffi::c_int, prelude::*, str::CStr, sync::Arc};

/// What a text file shows: `show(owner, out)`, called each time the file is read.
pub(crate) type Show<T> = fn(&T, &mut dyn Write) -> core::fmt::Result;

/// The source of one text file, as the C side sees it (`struct ktcp_text` first).
#[repr(C)]
struct TextFile<T> {
    head: KtcpText,
    owner: *const T,
    show: Show<T>,
}

/// `/sys/kernel/debug/<name>/`, whose files show counters and text from `T`.
///
/// # Invariants
///
/// Every counter file points at an `AtomicU64` borrowed from `*owner` (or from a static), and
/// every text file at one of `texts`, which points at `*owner`; this value keeps all of them
/// alive until `Drop` has removed the files.
pub(crate) struct DebugfsDir<T: Send + Sync> {
    dir: *mut bindings::dentry,
    texts: KVec<KBox<TextFile<T>>>,
    owner: Arc<T>,
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
        Self {
            dir,
            texts: KVec::new(),
            owner,
        }
    }

    /// Adds the file `name`, whose text `show` writes from the owner each time it is read (a
    /// text of any length: one that outgrows the seq_file's buffer is written again into a
    /// larger one). Best effort, like the counters.
    pub(crate) fn add_text(&mut self, name: &CStr, show: Show<T>) {
        let Ok(text) = KBox::new(
            TextFile {
                head: KtcpText {
                    format: format_text::<T>,
                },
                owner: &*self.owner,
                show,
            },
            GFP_KERNEL,
        ) else {
            return;
        };
        let head: *const KtcpText = &text.head;
        if self.texts.push(text, GFP_KERNEL).is_err() {
            return;
        }
        // SAFETY: `name` is a valid C string (copied by debugfs); an error-pointer parent is
        // ignored. `head` points into a box now owned by `self.texts`, which outlives the file
        // (`Drop` removes the files first), and whose `owner` is kept alive by `self.owner`.
        unsafe { ktcp_debugfs_text(name.as_char_ptr(), self.dir, head) };
    }
}

/// Writes formatted text into a seq_file being read.
struct SeqWriter {
    m: *mut bindings::seq_file,
}

impl Write for SeqWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: `m` is the seq_file of the `show` call in progress (see `format_text`), and
        // `s` is valid for `s.len()` bytes.
        match unsafe { ktcp_seq_write(self.m, s.as_ptr().cast(), s.len()) } {
            0 => Ok(()),
            _ => Err(core::fmt::Error),
        }
    }
}

/// `struct ktcp_text`'s `format` for a [`TextFile<T>`]: 0, or `-ENOMEM` when `show` failed
/// for another reason than the seq_file's buffer being full (which `seq_read` answers by
/// calling again with a larger one), so that a text is never cut short silently.
///
/// # Safety
///
/// `text` is the `head` of a live `TextFile<T>` whose `owner` is alive, and `m` is the
/// seq_file of a `show` call in progress, for the whole call.
unsafe extern "C" fn format_text<T>(text: *const KtcpText, m: *mut bindings::seq_file) -> c_int {
    // SAFETY: `head` is the first field of the `#[repr(C)]` `TextFile<T>` (caller's contract).
    let file = unsafe { &*text.cast::<TextFile<T>>() };
    // SAFETY: the owner outlives the file (caller's contract).
    let owner = unsafe { &*file.owner };
    let mut out = SeqWriter { m };
    if (file.show)(owner, &mut out).is_ok() {
        return 0;
    }
    // SAFETY: `m` is the seq_file of the `show` call in progress (caller's contract).
    if unsafe { ktcp_seq_overflowed(m) } {
        0
    } else {
        ENOMEM.to_errno()
    }
}

impl<T: Send + Sync> Drop for DebugfsDir<T> {
    fn drop(&mut self) {
        // SAFETY: removes the directory created in `new` (an error pointer is ignored); no
        // file reads `self.owner` afterwards.
        unsafe { ktcp_debugfs_remove(self.dir) };
    }
}
