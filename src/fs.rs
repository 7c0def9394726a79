// SPDX-License-Identifier: GPL-2.0

//! Files under the served root: confined lookup, stat, positional reads, directory listing.
//!
//! Every name is resolved *beneath* the root (`LOOKUP_BENEATH`): `..`, absolute symlinks and
//! symlinks that climb out of the root fail with `EXDEV` inside the VFS itself, so no race
//! between a check and an open can leave the root. All VFS `unsafe` lives in this file.

use core::{ffi::c_void, ptr::NonNull};
use kernel::ffi::c_char;
use kernel::{bindings, error::from_err_ptr, error::to_result, prelude::*, str::CStr};

// `struct path` and `struct cred` are passed as opaque pointers (`c_void`).
extern "C" {
    fn ktcp_kern_path_dir(name: *const c_char, out: *mut c_void) -> i32;
    fn ktcp_path_lookup_beneath(root: *const c_void, name: *const c_char, out: *mut c_void) -> i32;
    fn ktcp_current_cred() -> *const c_void;
}

/// An owned `struct path` reference, put on drop.
struct PathRef(bindings::path);

impl Drop for PathRef {
    fn drop(&mut self) {
        // SAFETY: the path was filled by a successful lookup, which took the references.
        unsafe { bindings::path_put(&self.0) };
    }
}

// SAFETY: a path reference may be used and put from any thread.
unsafe impl Send for PathRef {}
// SAFETY: lookups beneath a path only read it.
unsafe impl Sync for PathRef {}

/// The directory being served.
pub(crate) struct Root {
    path: PathRef,
}

impl Root {
    /// Looks up `dir`, which must be an existing directory (`ENOTDIR` otherwise).
    pub(crate) fn new(dir: &CStr) -> Result<Self> {
        // SAFETY: an all-zero `struct path` is an empty path that the lookup fills in.
        let mut path: bindings::path = unsafe { core::mem::zeroed() };
        // SAFETY: `dir` is a valid C string and `path` a valid output slot.
        to_result(unsafe {
            ktcp_kern_path_dir(dir.as_char_ptr(), (&mut path as *mut bindings::path).cast())
        })?;
        Ok(Self {
            path: PathRef(path),
        })
    }

    /// Opens `name` (relative, NUL-terminated, already checked by `proto::path`) beneath the
    /// root, read-only; a directory is opened for listing.
    pub(crate) fn open(&self, name: &CStr) -> Result<File> {
        // SAFETY: an all-zero `struct path` is an empty path that the lookup fills in.
        let mut path: bindings::path = unsafe { core::mem::zeroed() };
        // SAFETY: the root path is valid while `self` lives; `name` is a valid C string.
        to_result(unsafe {
            ktcp_path_lookup_beneath(
                (&self.path.0 as *const bindings::path).cast(),
                name.as_char_ptr(),
                (&mut path as *mut bindings::path).cast(),
            )
        })?;
        let path = PathRef(path);
        let flags = (bindings::O_RDONLY | bindings::O_LARGEFILE | bindings::O_NOATIME) as i32;
        // SAFETY: `path` is a valid looked-up path; the current (kworker) credentials are
        // valid for the duration of the call; `dentry_open` takes its own path references.
        let file = unsafe { bindings::dentry_open(&path.0, flags, ktcp_current_cred().cast()) };
        let file = from_err_ptr(file).or_else(|e| {
            // O_NOATIME is refused on files we do not own; retry without it.
            if e == EPERM {
                // SAFETY: as above.
                from_err_ptr(unsafe {
                    bindings::dentry_open(
                        &path.0,
                        flags & !(bindings::O_NOATIME as i32),
                        ktcp_current_cred().cast(),
                    )
                })
            } else {
                Err(e)
            }
        })?;
        Ok(File {
            ptr: NonNull::new(file).ok_or(ENOENT)?,
        })
    }
}

/// What `stat` tells about an open file.
pub(crate) struct Meta {
    /// Size in bytes.
    pub(crate) size: u64,
    /// Last modification, seconds since the epoch.
    pub(crate) mtime: u64,
    /// A directory.
    pub(crate) is_dir: bool,
    /// A regular file.
    pub(crate) is_file: bool,
}

/// An open file, released on drop.
///
/// # Invariants
///
/// `ptr` is a file opened by `dentry_open` that this value owns.
pub(crate) struct File {
    ptr: NonNull<bindings::file>,
}

// SAFETY: an open file may be read and released from any thread.
unsafe impl Send for File {}

impl File {
    /// Size, modification time and type.
    pub(crate) fn stat(&self) -> Result<Meta> {
        // SAFETY: an all-zero `struct kstat` is a valid output slot.
        let mut st: bindings::kstat = unsafe { core::mem::zeroed() };
        // SAFETY: the file is open, so its `f_path` is valid.
        to_result(unsafe {
            bindings::vfs_getattr(
                &(*self.ptr.as_ptr()).f_path,
                &mut st,
                bindings::STATX_BASIC_STATS,
                bindings::AT_STATX_SYNC_AS_STAT,
            )
        })?;
        let kind = u32::from(st.mode) & bindings::S_IFMT;
        Ok(Meta {
            size: u64::try_from(st.size).unwrap_or(0),
            mtime: u64::try_from(st.mtime.tv_sec).unwrap_or(0),
            is_dir: kind == bindings::S_IFDIR,
            is_file: kind == bindings::S_IFREG,
        })
    }

    /// Reads at `pos` into `buf`; the count read (0 at end of file).
    pub(crate) fn read_at(&self, buf: &mut [u8], pos: u64) -> Result<usize> {
        let mut off = i64::try_from(pos).map_err(|_| EINVAL)?;
        // SAFETY: the file is open for reading; `buf` is valid for `buf.len()` bytes.
        let n = unsafe {
            bindings::kernel_read(
                self.ptr.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut off,
            )
        };
        if n < 0 {
            return Err(Error::from_errno(n as i32));
        }
        Ok(n as usize)
    }

    /// Calls `entry(name, is_dir)` for every entry of this directory except `.` and `..`,
    /// until it returns false.
    pub(crate) fn for_each_entry(&self, entry: &mut dyn FnMut(&[u8], bool) -> bool) -> Result {
        let mut lister = Lister {
            ctx: bindings::dir_context {
                actor: Some(actor),
                pos: 0,
            },
            entry,
        };
        // SAFETY: the file is open; `lister.ctx` is the first field of a live `Lister`, which
        // `actor` recovers; `iterate_dir` calls the actor only during this call.
        to_result(unsafe { bindings::iterate_dir(self.ptr.as_ptr(), &mut lister.ctx) })
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own this reference to the file.
        unsafe { bindings::fput(self.ptr.as_ptr()) };
    }
}

/// A `dir_context` with the callback it feeds.
#[repr(C)]
struct Lister<'a> {
    ctx: bindings::dir_context,
    entry: &'a mut dyn FnMut(&[u8], bool) -> bool,
}

/// `filldir_t`: called by `iterate_dir` for each entry; returning false stops the walk.
unsafe extern "C" fn actor(
    ctx: *mut bindings::dir_context,
    name: *const c_char,
    len: i32,
    _pos: bindings::loff_t,
    _ino: u64,
    d_type: u32,
) -> bool {
    // SAFETY: `ctx` is the first field of the `#[repr(C)]` `Lister` that `for_each_entry`
    // passed to `iterate_dir`, alive for the whole walk.
    let lister = unsafe { &mut *ctx.cast::<Lister<'_>>() };
    let Ok(len) = usize::try_from(len) else {
        return false;
    };
    // SAFETY: the VFS passes `len` valid bytes at `name`.
    let name = unsafe { core::slice::from_raw_parts(name.cast::<u8>(), len) };
    if name == b"." || name == b".." {
        return true;
    }
    (lister.entry)(name, d_type == bindings::DT_DIR)
}
