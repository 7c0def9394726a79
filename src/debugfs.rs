// SPDX-License-Identifier: GPL-2.0

//! A debugfs directory of read-only files (u64 counters, and text made when read), removed on
//! drop.

use crate::helpers::{
    ktcp_debugfs_dir, ktcp_debugfs_remove, ktcp_debugfs_text, ktcp_debugfs_u64, KtcpText,
};
use core::fmt::Write;
use core::sync::atomic::AtomicU64;
use kernel::{bindings, prelude::*, str::CStr, sync::Arc};

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

    /// Adds the file `name`, whose text `show` writes (at most a page) from the owner each time
    /// it is read. Best effort, like the counters.
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

/// Writes formatted text into a byte slice, dropping what does not fit.
struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buf.len().saturating_sub(self.len);
        let n = s.len().min(room);
        if let (Some(to), Some(from)) = (
            self.buf.get_mut(self.len..self.len + n),
            s.as_bytes().get(..n),
        ) {
            to.copy_from_slice(from);
        }
        self.len += n;
        if n < s.len() {
            Err(core::fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// `struct ktcp_text`'s `format` for a [`TextFile<T>`].
///
/// # Safety
///
/// `text` is the `head` of a live `TextFile<T>` whose `owner` is alive, and `buf` is valid for
/// writes of `cap` bytes, for the whole call.
unsafe extern "C" fn format_text<T>(text: *const KtcpText, buf: *mut u8, cap: usize) -> usize {
    // SAFETY: `head` is the first field of the `#[repr(C)]` `TextFile<T>` (caller's contract).
    let file = unsafe { &*text.cast::<TextFile<T>>() };
    // SAFETY: the caller guarantees `buf` is valid for `cap` bytes, written only here.
    let buf = unsafe { core::slice::from_raw_parts_mut(buf, cap) };
    let mut out = SliceWriter { buf, len: 0 };
    // SAFETY: the owner outlives the file (caller's contract).
    let owner = unsafe { &*file.owner };
    // A text cut short at the page's end is still shown.
    let _ = (file.show)(owner, &mut out);
    out.len
}

impl<T: Send + Sync> Drop for DebugfsDir<T> {
    fn drop(&mut self) {
        // SAFETY: removes the directory created in `new` (an error pointer is ignored); no
        // file reads `self.owner` afterwards.
        unsafe { ktcp_debugfs_remove(self.dir) };
    }
}
