// SPDX-License-Identifier: GPL-2.0

//! Open regular files by name, like nginx's `open_file_cache`: a hit costs a hash, a name
//! compare and a reference on the open file, instead of a path walk, a permission check, an
//! open, a `getattr` and a (deferred, from a kworker) `fput` per request.
//!
//! An entry is used for [`VALID_MS`] after its open; then the name is looked up and opened
//! again (with the root's unprivileged credential), so a replaced, removed, re-permissioned
//! or changed file is seen within that time, as nginx's `open_file_cache_valid` does. The
//! table is direct-mapped: a name's slot holds the last file opened under it or under a name
//! with the same hash. Directories are never cached. An expired entry is released by the next
//! miss on its slot or by the server's sweep (every 500 ms), so a removed file's space is
//! freed within about 1.5 s; everything left is released when the cache drops (at unload).

use crate::{
    clock::{self, Deadline},
    fs::{File, Meta, Root},
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    new_spinlock,
    prelude::*,
    str::CStr,
    sync::{Arc, SpinLock},
};

/// Slots in the table.
const SLOTS: usize = 256;
/// How long an open is trusted before the name is looked up again.
pub(crate) const VALID_MS: u32 = 1000;

/// One cached open file.
struct Entry {
    /// The name it was opened under, with its NUL.
    name: KVec<u8>,
    file: File,
    meta: Meta,
    until: Deadline,
}

/// The cache of one server's root.
#[pin_data]
pub(crate) struct FileCache {
    // INVARIANT: `slots.len() == SLOTS` (allocated once in `new`).
    #[pin]
    slots: SpinLock<KVec<Option<Entry>>>,
    /// Opens answered from the cache.
    pub(crate) hits: AtomicU64,
    /// Opens that looked the name up (new, expired or evicted).
    pub(crate) misses: AtomicU64,
}

impl FileCache {
    /// An empty cache.
    pub(crate) fn new() -> Result<Arc<Self>> {
        let mut slots = KVec::with_capacity(SLOTS, GFP_KERNEL)?;
        for _ in 0..SLOTS {
            slots.push(None, GFP_KERNEL)?;
        }
        Arc::pin_init(
            pin_init!(Self {
                slots <- new_spinlock!(slots, "khttpd_rs file cache"),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
            }),
            GFP_KERNEL,
        )
    }

    /// `name` (relative, NUL-terminated) under `root`, opened (or taken from the cache), with
    /// what `stat` says of it.
    pub(crate) fn open(&self, root: &Root, name: &CStr) -> Result<(File, Meta)> {
        let key = name.as_bytes_with_nul();
        let slot = fnv1a(key) % SLOTS;
        let expired = {
            let mut slots = self.slots.lock();
            let Some(s) = slots.get_mut(slot) else {
                return Err(EINVAL);
            };
            match s {
                Some(e) if clock::now() < e.until => {
                    if e.name.as_slice() == key {
                        self.hits.fetch_add(1, Ordering::Relaxed);
                        return Ok((e.file.clone_ref(), e.meta));
                    }
                    None
                }
                // Expired: released (after the lock) whatever the new open gives.
                _ => s.take(),
            }
        };
        drop(expired);
        self.misses.fetch_add(1, Ordering::Relaxed);
        // The validity counts from before the lookup: a slow open cannot stretch it.
        let until = clock::after_ms(VALID_MS);
        let file = root.open(name)?;
        let meta = file.stat()?;
        if meta.is_file {
            self.insert(slot, key, &file, meta, until);
        }
        Ok((file, meta))
    }

    /// Releases every expired entry (their files are closed).
    pub(crate) fn purge_expired(&self) {
        let now = clock::now();
        let mut slots = self.slots.lock();
        for s in slots.iter_mut() {
            if s.as_ref().is_some_and(|e| now >= e.until) {
                // fput() from the accept thread only queues the final release, and kfree()
                // does not sleep: fine under the spinlock.
                drop(s.take());
            }
        }
    }

    /// Caches `file` under `key` in `slot` until `until` (best effort: without memory, nothing
    /// is cached). An entry for the same name opened later (a later `until`) is kept: a slow
    /// open must not put an older file back.
    fn insert(&self, slot: usize, key: &[u8], file: &File, meta: Meta, until: Deadline) {
        let mut name = KVec::new();
        if name.extend_from_slice(key, GFP_KERNEL).is_err() {
            return;
        }
        let entry = Entry {
            name,
            file: file.clone_ref(),
            meta,
            until,
        };
        // The entry replaced (or this one, if kept out) is released after the lock is dropped.
        let _released = {
            let mut slots = self.slots.lock();
            match slots.get_mut(slot) {
                Some(Some(e)) if e.name == entry.name && e.until >= until => Some(entry),
                Some(s) => s.replace(entry),
                None => Some(entry),
            }
        };
    }
}

/// FNV-1a over `bytes`, as an index.
fn fnv1a(bytes: &[u8]) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as usize
}
