// SPDX-License-Identifier: GPL-2.0
/* kecho_rs module parameters (module_param() is a macro bindgen cannot reach). */
#include <linux/module.h>

#include "params.h"

/* dkms.conf's PACKAGE_VERSION, from Kbuild: modinfo's "version". */
MODULE_VERSION(KTCP_VERSION);

KTCP_SERVER_PARAMS(12345, "is closed")

KTCP_LIVE_INT(idle_timeout, 300, 0, 86400,
	      "seconds a silent client stays connected, 0-86400 (0: forever; default 300; writable at run time)");

void ktcp_params_get(struct ktcp_params *p)
{
	ktcp_server_params_get(p);
	p->idle_timeout = idle_timeout;
	p->handshake_timeout = 10;
}

void ktcp_live_params(struct ktcp_live *l)
{
	*l = (struct ktcp_live){ .max_connections = &max_connections,
				 .idle_timeout = &idle_timeout };
}
