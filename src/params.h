/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parameters every ktcp-rs server has. Expanded once in each module's shim (each module
 * is its own object, so the getters' names do not clash); read by `params.rs`.
 */
#ifndef KTCP_PARAMS_H
#define KTCP_PARAMS_H

#include <linux/moduleparam.h>

int ktcp_param_port(void);
int ktcp_param_backlog(void);
bool ktcp_param_bench(void);
int ktcp_param_max_connections(void);

#define KTCP_SERVER_PARAMS(default_port, refusal)                                           \
	static int port = default_port;                                                     \
	module_param(port, int, 0444);                                                      \
	MODULE_PARM_DESC(port, "TCP port to listen on, 1-65535 (default " #default_port ")"); \
	static int backlog = 128;                                                           \
	module_param(backlog, int, 0444);                                                   \
	MODULE_PARM_DESC(backlog, "listen backlog, 1-65535 (default 128)");                 \
	static bool bench;                                                                  \
	module_param(bench, bool, 0444);                                                    \
	MODULE_PARM_DESC(bench, "per-CPU bound workqueue instead of unbound (default N)");  \
	static int max_connections = 65536;                                                 \
	module_param(max_connections, int, 0444);                                           \
	MODULE_PARM_DESC(max_connections, "live connections above which a client " refusal  \
			 ", 1-1000000 (default 65536)");                                    \
	int ktcp_param_port(void) { return port; }                                          \
	int ktcp_param_backlog(void) { return backlog; }                                    \
	bool ktcp_param_bench(void) { return bench; }                                       \
	int ktcp_param_max_connections(void) { return max_connections; }

#endif
