// SPDX-License-Identifier: GPL-2.0
/* khttpd_rs module parameters (module_param() is a macro bindgen cannot reach). */
#include <linux/module.h>

#include "params.h"

/* dkms.conf's PACKAGE_VERSION, from Kbuild: modinfo's "version". */
MODULE_VERSION(KTCP_VERSION);

KTCP_SERVER_PARAMS(8081, "gets 503")

static char *root = "";
module_param(root, charp, 0444);
MODULE_PARM_DESC(root, "directory to serve; empty: hello mode, a fixed body for every GET");

KTCP_LIVE_INT(keepalive_timeout, 30, 0, 3600,
	      "seconds an idle keep-alive connection stays open, 0-3600 (0: forever; default 30; writable at run time)");

KTCP_LIVE_INT(header_timeout, 10, 0, 3600,
	      "seconds a request head may take to arrive, 0-3600 (0: forever; default 10; writable at run time)");

KTCP_LIVE_INT(max_age, 0, 0, 31536000,
	      "seconds of Cache-Control: max-age on file responses, 0-31536000 (0: no Cache-Control; default 0; writable at run time)");

static int uid = 65534;
module_param(uid, int, 0444);
MODULE_PARM_DESC(uid, "user id whose permissions files are looked up and opened with (default 65534)");

static int gid = 65534;
module_param(gid, int, 0444);
MODULE_PARM_DESC(gid, "group id files are looked up and opened with (default 65534)");

static bool dotfiles;
module_param(dotfiles, bool, 0444);
MODULE_PARM_DESC(dotfiles, "serve and list names starting with '.' (default N: 404, not listed)");

static int buffer_mib = 64;
module_param(buffer_mib, int, 0444);
MODULE_PARM_DESC(buffer_mib, "MiB of request/response buffers all connections may hold at once, 1-65536 (default 64); past it: 503");

static int defer_accept;
module_param(defer_accept, int, 0444);
MODULE_PARM_DESC(defer_accept, "seconds the kernel holds a new connection until its first bytes arrive (TCP_DEFER_ACCEPT), 0-60 (default 0: off)");

static int tls_port;
module_param(tls_port, int, 0444);
MODULE_PARM_DESC(tls_port, "HTTPS port, 1-65535, on the bind address (default 0: no HTTPS); needs the TLS agent (ktcp-tls-agent) running");

static int handshake_timeout = 10;
module_param(handshake_timeout, int, 0444);
MODULE_PARM_DESC(handshake_timeout, "seconds a TLS handshake may take, 1-600 (default 10)");

void ktcp_params_get(struct ktcp_params *p)
{
	ktcp_server_params_get(p);
	p->root = root ? root : "";
	p->keepalive_timeout = keepalive_timeout;
	p->header_timeout = header_timeout;
	p->uid = uid;
	p->gid = gid;
	p->dotfiles = dotfiles;
	p->buffer_mib = buffer_mib;
	p->defer_accept = defer_accept;
	p->tls_port = tls_port;
	p->handshake_timeout = handshake_timeout;
}

void ktcp_live_params(struct ktcp_live *l)
{
	*l = (struct ktcp_live){ .max_connections = &max_connections,
				 .keepalive_timeout = &keepalive_timeout,
				 .header_timeout = &header_timeout,
				 .max_age = &max_age };
}
