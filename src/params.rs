// SPDX-License-Identifier: GPL-2.0

//! Validation of module parameters shared by both modules.

use kernel::prelude::*;

/// Checks that parameter `name` lies in `min..=max`, logging a clear line if it does not.
pub(crate) fn in_range(name: &str, value: i32, min: i32, max: i32) -> Result<i32> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        pr_err!("invalid {}={}: must be {}..={}\n", name, value, min, max);
        Err(EINVAL)
    }
}
