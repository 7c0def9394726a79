// SPDX-License-Identifier: GPL-2.0

//! Files under the served root: confined lookup, stat, positional reads, directory listing.
//!
//! Every name is resolved *beneath* the root (`LOOKUP_BENEATH`): `..`, absolute symlinks and
//! symlinks that climb out of the root fail with `EXDEV` inside the VFS itself, so no race
//! between a check and an open can leave the root. Lookups and opens run with an unprivileged
//! credential (the `uid`/`gid` parameters, no groups, no capabilities), so the permission
//! bits let through only what that user may search and read. (The credential is derived from
//! the kernel's own, so an LSM label, if any, stays the kernel's.) Only regular files and
//! directories are ever opened, and without blocking: a FIFO, socket or device node is
//! refused before its `open` could run.
//! All VFS `unsafe` lives in this file.

use crate::{
    helpers::{
        ktcp_get_file, ktcp_kern_path_dir, ktcp_override_creds, ktcp_path_lookup_beneath,
        ktcp_path_mode, ktcp_path_permission, ktcp_put_cred, ktcp_revert_creds,
        ktcp_splice_to_socket, ktcp_unprivileged_cred,
    },
    net::Stream,
};
use core::ptr::NonNull;
use kernel::ffi::c_char;
use kernel::{bindings, error::from_err_ptr, error::to_result, prelude::*, str::CStr};

/// `MAY_EXEC` and `MAY_READ` of `include/linux/fs.h` (macros bindgen does not export).
const MAY_EXEC: i32 = 0x1;
const MAY_READ: i32 = 0x4;

/// A reference to an unprivileged credential, put on drop.
///
/// # Invariants
///
/// `ptr` is a credential from `ktcp_unprivileged_cred` whose reference this value owns.
struct Credential {
    ptr: NonNull<bindings::cred>,
}

// SAFETY: credentials are reference-counted, immutable once made, and usable from any thread.
unsafe impl Send for Credential {}
// SAFETY: see `Send`; `&Credential` only lends the credential to `override_creds`.
unsafe impl Sync for Credential {}

impl Credential {
    /// The credential of `uid`/`gid` with no groups and no capabilities.
    fn unprivileged(uid: u32, gid: u32) -> Result<Self> {
        // SAFETY: no preconditions; returns a new reference or an error pointer.
        let ptr = from_err_ptr(unsafe { ktcp_unprivileged_cred(uid, gid) }.cast_mut())?;
        // INVARIANT: a new reference from `ktcp_unprivileged_cred`, owned by this value.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
        })
    }

    /// Runs `f` with this as the current task's credential, then restores the previous one.
    fn run_as<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: the credential is valid (type invariant) and `override_creds` takes its own
        // reference; it is reverted below on the same task before this function returns.
        let old = unsafe { ktcp_override_creds(self.ptr.as_ptr()) };
        let result = f();
        // SAFETY: `old` is what `override_creds` returned on this task, and every override
        // made inside `f` has been reverted by then (they are scoped the same way).
        unsafe { ktcp_revert_creds(old) };
        result
    }
}

impl Drop for Credential {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own this reference.
        unsafe { ktcp_put_cred(self.ptr.as_ptr()) };
    }
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

/// The directory being served, and the credential it is served with.
pub(crate) struct Root {
    path: PathRef,
    cred: Credential,
}

impl Root {
    /// Looks up `dir`, which must be an existing directory (`ENOTDIR` otherwise), to serve it
    /// with the permissions of `uid`/`gid`.
    pub(crate) fn new(dir: &CStr, uid: u32, gid: u32) -> Result<Self> {
        let cred = Credential::unprivileged(uid, gid)?;
        // SAFETY: an all-zero `struct path` is an empty path that the lookup fills in.
        let mut path: bindings::path = unsafe { core::mem::zeroed() };
        // SAFETY: `dir` is a valid C string and `path` a valid output slot.
        to_result(unsafe { ktcp_kern_path_dir(dir.as_char_ptr(), &mut path) })?;
        Ok(Self {
            path: PathRef(path),
            cred,
        })
    }

    /// Opens `name` (relative, NUL-terminated, already checked by `proto::path`) beneath the
    /// root, read-only and non-blocking, as the unprivileged user: a regular file, or a
    /// directory for listing. Anything else, or what that user may not read, is `EACCES`.
    pub(crate) fn open(&self, name: &CStr) -> Result<File> {
        self.cred.run_as(|| self.open_as_user(name))
    }

    /// [`Root::open`], with the unprivileged credential already in place.
    fn open_as_user(&self, name: &CStr) -> Result<File> {
        let path = self.lookup(name)?;
        // SAFETY: `path` holds references to a positive dentry (a successful lookup).
        let kind = unsafe { ktcp_path_mode(&path.0) } & bindings::S_IFMT;
        let mask = match kind {
            bindings::S_IFREG => MAY_READ,
            bindings::S_IFDIR => MAY_READ | MAY_EXEC,
            // FIFOs, sockets and device nodes: never opened (a FIFO's open would block, a
            // device's runs its driver).
            _ => return Err(EACCES),
        };
        // SAFETY: `path` is valid; checks `mask` against the inode with the current credential.
        to_result(unsafe { ktcp_path_permission(&path.0, mask) })?;
        let flags = (bindings::O_RDONLY | bindings::O_LARGEFILE | bindings::O_NONBLOCK) as i32;
        // SAFETY: `path` is a valid looked-up path; `self.cred` is valid while `self` lives and
        // becomes the file's credential; `dentry_open` takes its own path references.
        let file = unsafe { bindings::dentry_open(&path.0, flags, self.cred.ptr.as_ptr()) };
        // INVARIANT: a file from a successful `dentry_open`, owned by the new value.
        Ok(File {
            ptr: NonNull::new(from_err_ptr(file)?).ok_or(ENOENT)?,
        })
    }

    /// Looks `name` up beneath the root with the current credential, which needs search
    /// permission on every directory on the way. A lookup that crossed `..` fails with
    /// `EAGAIN` when a rename or mount raced it anywhere: it is retried a few times.
    fn lookup(&self, name: &CStr) -> Result<PathRef> {
        let mut tries = 3;
        loop {
            // SAFETY: an all-zero `struct path` is an empty path that the lookup fills in.
            let mut path: bindings::path = unsafe { core::mem::zeroed() };
            // SAFETY: the root path is valid while `self` lives; `name` is a valid C string.
            let ret =
                unsafe { ktcp_path_lookup_beneath(&self.path.0, name.as_char_ptr(), &mut path) };
            match to_result(ret) {
                Ok(()) => return Ok(PathRef(path)),
                Err(e) if e == EAGAIN && tries > 1 => tries -= 1,
                Err(e) => return Err(e),
            }
        }
    }
}

/// What `stat` tells about an open file.
#[derive(Clone, Copy)]
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
    /// Another reference to the same open file (its position is never used: reads are
    /// positional), released on its own drop.
    pub(crate) fn clone_ref(&self) -> File {
        // SAFETY: the file is open (type invariant); `get_file` takes a new reference.
        unsafe { ktcp_get_file(self.ptr.as_ptr()) };
        // INVARIANT: the reference just taken is owned by the new value.
        File { ptr: self.ptr }
    }

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

    /// Sends up to `len` bytes from `*pos` to `stream` without copying them: the page-cache
    /// pages go to TCP by reference (`MSG_SPLICE_PAGES`), and `*pos` advances by what was
    /// queued, with whether the socket filled up (it took less than offered: a write-space
    /// wake-up comes). `Ok((0, _))` at end of file, `Err(EAGAIN)` when the socket is full,
    /// `Err(EINVAL)` when the file system cannot splice (read it with [`File::read_at`] then).
    /// `more`: the response goes on after these bytes (`MSG_MORE`).
    pub(crate) fn splice_to(
        &self,
        stream: &Stream,
        pos: &mut u64,
        len: usize,
        more: bool,
    ) -> Result<(usize, bool)> {
        let mut off = i64::try_from(*pos).map_err(|_| EINVAL)?;
        let mut full = false;
        // SAFETY: the file is open for reading and the socket is a connected stream, both
        // valid for the call (borrowed from their owners); `off` and `full` are valid
        // in/out places.
        let n = unsafe {
            ktcp_splice_to_socket(
                self.ptr.as_ptr(),
                &mut off,
                stream.raw_socket(),
                len,
                more,
                &mut full,
            )
        };
        if n < 0 {
            return Err(Error::from_errno(n as i32));
        }
        *pos = u64::try_from(off).map_err(|_| EINVAL)?;
        Ok((n as usize, full))
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
        let lister: *mut Lister<'_> = &mut lister;
        // SAFETY: the file is open; the context pointer is derived from the whole `Lister`
        // (its first field, `#[repr(C)]`), so `actor` may recover the `Lister` from it;
        // `iterate_dir` calls the actor only during this call, while `lister` lives.
        to_result(unsafe {
            bindings::iterate_dir(self.ptr.as_ptr(), core::ptr::addr_of_mut!((*lister).ctx))
        })
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
///
/// # Safety
///
/// `ctx` must be the `ctx` field of a live [`Lister`] and `name` valid for `len` bytes, as
/// `iterate_dir` guarantees for the context [`File::for_each_entry`] passes it.
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
