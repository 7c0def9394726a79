// SPDX-License-Identifier: GPL-2.0
/*
 * khttpd_rs module parameters (module_param() is a macro bindgen cannot reach) and the shared
 * C shims. The Rust side reads the values once, in init, through the getters below.
 */
#include "helpers.c"
#include "params.h"

KTCP_SERVER_PARAMS(8081, "gets 503")

static char *root = "";
module_param(root, charp, 0444);
MODULE_PARM_DESC(root, "directory to serve; empty: hello mode, a fixed body for every GET");

static int keepalive_timeout = 30;
module_param(keepalive_timeout, int, 0444);
MODULE_PARM_DESC(keepalive_timeout, "seconds an idle keep-alive connection stays open, 0-3600 (0: forever; default 30)");

static int header_timeout = 10;
module_param(header_timeout, int, 0444);
MODULE_PARM_DESC(header_timeout, "seconds a request head may take to arrive, 0-3600 (0: forever; default 10)");

const char *khttpd_param_root(void);
int khttpd_param_keepalive_timeout(void);
int khttpd_param_header_timeout(void);

const char *khttpd_param_root(void) { return root ? root : ""; }
int khttpd_param_keepalive_timeout(void) { return keepalive_timeout; }
int khttpd_param_header_timeout(void) { return header_timeout; }
