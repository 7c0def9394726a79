// SPDX-License-Identifier: GPL-2.0

//! Counters in debugfs: `/sys/kernel/debug/<module>/<counter>`, one u64 per file, and the
//! latency histograms: their summary, `/sys/kernel/debug/<module>/latency`, and their
//! buckets, `latency_buckets` (read by `ktcp-stat`).

use crate::{
    conn::{Core, Session},
    debugfs::DebugfsDir,
};
use kernel::{c_str, str::CStr, sync::Arc};

/// A server's counters in debugfs (the connection core's and the protocol's); removed on drop.
pub(crate) struct StatsDir<S: Session> {
    _dir: DebugfsDir<Core<S>>,
}

impl<S: Session> StatsDir<S> {
    /// Creates `/sys/kernel/debug/<name>/` with the core's and the protocol's counters.
    pub(crate) fn new(name: &CStr, core: Arc<Core<S>>) -> Self {
        let mut dir = DebugfsDir::new(name, core, |core, add| {
            let stats = &core.stats;
            add(c_str!("accepted"), &stats.accepted);
            add(c_str!("active"), &stats.active);
            add(c_str!("closed"), &stats.closed);
            add(c_str!("refused"), &stats.refused);
            add(c_str!("timeouts"), &stats.timeouts);
            add(c_str!("objects"), &stats.objects);
            S::counters(&core.shared, add);
        });
        dir.add_text(c_str!("latency"), |core, out| {
            core.latency.write_summary(out)
        });
        dir.add_text(c_str!("latency_buckets"), |core, out| {
            core.latency.write_buckets(out)
        });
        Self { _dir: dir }
    }
}
