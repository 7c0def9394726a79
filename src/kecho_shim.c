// SPDX-License-Identifier: GPL-2.0
/*
 * kecho_rs module parameters (module_param() is a macro bindgen cannot reach) and the shared
 * C shims. The Rust side reads the values once, in init, through the getters below.
 */
#include <linux/moduleparam.h>

#include "helpers.c"

static int port = 12345;
module_param(port, int, 0444);
MODULE_PARM_DESC(port, "TCP port to listen on, 1-65535 (default 12345)");

static int backlog = 128;
module_param(backlog, int, 0444);
MODULE_PARM_DESC(backlog, "listen backlog, 1-65535 (default 128)");

static bool bench;
module_param(bench, bool, 0444);
MODULE_PARM_DESC(bench, "run connections on a per-CPU bound workqueue (default: unbound)");

static int max_connections = 65536;
module_param(max_connections, int, 0444);
MODULE_PARM_DESC(max_connections, "live connections above which a client is closed, 1-1000000 (default 65536)");

int kecho_param_port(void);
int kecho_param_backlog(void);
bool kecho_param_bench(void);
int kecho_param_max_connections(void);

int kecho_param_port(void) { return port; }
int kecho_param_backlog(void) { return backlog; }
bool kecho_param_bench(void) { return bench; }
int kecho_param_max_connections(void) { return max_connections; }
