// SPDX-License-Identifier: GPL-2.0
/*
 * khttpd_rs module parameters (module_param() is a macro bindgen cannot reach) and the shared
 * C shims. The Rust side reads the values once, in init, through the getters below.
 */
#include <linux/moduleparam.h>

#include "helpers.c"

static int port = 8081;
module_param(port, int, 0444);
MODULE_PARM_DESC(port, "TCP port to listen on, 1-65535 (default 8081)");

static int backlog = 128;
module_param(backlog, int, 0444);
MODULE_PARM_DESC(backlog, "listen backlog, 1-65535 (default 128)");

static bool bench;
module_param(bench, bool, 0444);
MODULE_PARM_DESC(bench, "run connections on a per-CPU bound workqueue (default: unbound)");

static char *root = "";
module_param(root, charp, 0444);
MODULE_PARM_DESC(root, "directory to serve; empty: hello mode, a fixed body for every GET");

static int keepalive_timeout = 30;
module_param(keepalive_timeout, int, 0444);
MODULE_PARM_DESC(keepalive_timeout, "seconds an idle keep-alive connection stays open, 0-3600 (0: forever; default 30)");

static int header_timeout = 10;
module_param(header_timeout, int, 0444);
MODULE_PARM_DESC(header_timeout, "seconds a request head may take to arrive, 0-3600 (0: forever; default 10)");

static int max_connections = 65536;
module_param(max_connections, int, 0444);
MODULE_PARM_DESC(max_connections, "live connections above which a client gets 503, 1-1000000 (default 65536)");

int khttpd_param_port(void);
int khttpd_param_backlog(void);
bool khttpd_param_bench(void);
const char *khttpd_param_root(void);
int khttpd_param_keepalive_timeout(void);
int khttpd_param_header_timeout(void);
int khttpd_param_max_connections(void);

int khttpd_param_port(void) { return port; }
int khttpd_param_backlog(void) { return backlog; }
bool khttpd_param_bench(void) { return bench; }
const char *khttpd_param_root(void) { return root ? root : ""; }
int khttpd_param_keepalive_timeout(void) { return keepalive_timeout; }
int khttpd_param_header_timeout(void) { return header_timeout; }
int khttpd_param_max_connections(void) { return max_connections; }
