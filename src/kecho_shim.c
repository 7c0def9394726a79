// SPDX-License-Identifier: GPL-2.0
/* kecho_rs module parameters (module_param() is a macro bindgen cannot reach). */
#include "params.h"

KTCP_SERVER_PARAMS(12345, "is closed")

static int idle_timeout = 300;
module_param(idle_timeout, int, 0444);
MODULE_PARM_DESC(idle_timeout, "seconds a silent client stays connected, 0-86400 (0: forever; default 300)");

void ktcp_params_get(struct ktcp_params *p)
{
	ktcp_server_params_get(p);
	p->idle_timeout = idle_timeout;
}
