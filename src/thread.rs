// SPDX-License-Identifier: GPL-2.0

//! A kernel thread running a [`ThreadMain`], stopped and joined on drop.

use core::{ffi::c_void, ptr::NonNull};
use kernel::c_str;
use kernel::{bindings, error::from_err_ptr, prelude::*, str::CStr};

/// `NUMA_NO_NODE`: let the kernel pick the node.
const NUMA_NO_NODE: i32 = -1;

/// The body of a kthread.
pub(crate) trait ThreadMain: Send + 'static {
    /// Runs on the new thread; must return soon after [`ThreadContext::should_stop`] turns
    /// true.
    fn run(self, thread: &ThreadContext);
}

/// A running kthread that executes `F` once.
///
/// # Invariants
///
/// `task` is a kthread created by `kthread_create_on_node` and woken; it has not been stopped.
/// `func` came from `KBox::into_raw`; the thread reads it only while running, and `Drop`
/// frees it only after `kthread_stop` has returned, i.e. after the thread has exited.
pub(crate) struct KThread<F: ThreadMain> {
    task: NonNull<bindings::task_struct>,
    func: NonNull<Option<F>>,
}

// SAFETY: the thread handle may be stopped from any thread; `F` is `Send`.
unsafe impl<F: ThreadMain> Send for KThread<F> {}
// SAFETY: `&KThread` exposes nothing.
unsafe impl<F: ThreadMain> Sync for KThread<F> {}

/// What a kthread body may ask of its own thread; only [`KThread`]'s entry point makes one.
pub(crate) struct ThreadContext {
    _private: (),
}

impl ThreadContext {
    /// Tells whether this kthread has been asked to stop.
    pub(crate) fn should_stop(&self) -> bool {
        // SAFETY: a `ThreadContext` exists only on a kthread created by `KThread::spawn`.
        unsafe { bindings::kthread_should_stop() }
    }

    /// Sleeps for `ms` milliseconds (a kthread body runs in process context).
    pub(crate) fn sleep_ms(&self, ms: u32) {
        // SAFETY: a plain sleep in process context.
        unsafe { bindings::msleep(ms) };
    }
}

impl<F: ThreadMain> KThread<F> {
    /// Starts a kthread called `name` running `func`.
    pub(crate) fn spawn(name: &CStr, func: F) -> Result<Self> {
        let func =
            NonNull::new(KBox::into_raw(KBox::new(Some(func), GFP_KERNEL)?)).ok_or(ENOMEM)?;
        // SAFETY: `trampoline::<F>` matches the `threadfn` signature and `func` stays valid until
        // `Drop`, after the thread has exited; the format string is a valid "%s" with one string.
        let task = unsafe {
            bindings::kthread_create_on_node(
                Some(trampoline::<F>),
                func.as_ptr().cast(),
                NUMA_NO_NODE,
                c_str!("%s").as_char_ptr(),
                name.as_char_ptr(),
            )
        };
        let task = match from_err_ptr(task).map(NonNull::new) {
            Ok(Some(task)) => task,
            Ok(None) | Err(_) => {
                // SAFETY: the thread was not created, so we still own the box.
                drop(unsafe { KBox::from_raw(func.as_ptr()) });
                return Err(from_err_ptr(task).err().unwrap_or(ENOMEM));
            }
        };
        // SAFETY: `task` is a freshly created kthread.
        unsafe { bindings::wake_up_process(task.as_ptr()) };
        // INVARIANT: `task` was created and woken, and is stopped only by `Drop`, which also
        // frees `func` afterwards.
        Ok(Self { task, func })
    }
}

/// The kthread's entry point: runs the closure, then waits to be stopped, so the thread never
/// exits before `kthread_stop` (which then never sees a task that is already gone).
///
/// # Safety
///
/// `data` must be the `Option<F>` box that [`KThread::spawn`] allocated for this thread, not
/// freed before the thread exits (which `KThread`'s invariant guarantees).
unsafe extern "C" fn trampoline<F: ThreadMain>(data: *mut c_void) -> i32 {
    // SAFETY: `data` is the `Option<F>` that `spawn` allocated; `Drop` frees it only after this
    // thread has exited, and nothing else touches it while the thread runs.
    let slot = unsafe { &mut *data.cast::<Option<F>>() };
    let thread = ThreadContext { _private: () };
    if let Some(func) = slot.take() {
        func.run(&thread);
    }
    while !thread.should_stop() {
        // SAFETY: plain sleep in process context; `kthread_stop` wakes us.
        unsafe { bindings::schedule_timeout_interruptible(100) };
    }
    0
}

impl<F: ThreadMain> Drop for KThread<F> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the thread exists and has not been stopped; it cannot
        // exit on its own (see `trampoline`), so the task is still valid here.
        unsafe { bindings::kthread_stop(self.task.as_ptr()) };
        // SAFETY: the thread has exited, so we own the box again.
        drop(unsafe { KBox::from_raw(self.func.as_ptr()) });
    }
}
