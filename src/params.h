/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module parameters. module_param() is a macro bindgen cannot reach, so each module's shim
 * declares its parameters in C and fills a struct ktcp_params for the Rust side (params.rs
 * mirrors the struct and checks it against ktcp_params_layout()).
 */
#ifndef KTCP_PARAMS_H
#define KTCP_PARAMS_H

#include <linux/moduleparam.h>
#include <linux/stddef.h>
#include <linux/types.h>

struct ktcp_params {
	/* Both modules. */
	int port;
	int backlog;
	int max_connections;
	bool bench;
	/* kecho_rs. */
	int idle_timeout;
	/* khttpd_rs. */
	const char *root;
	int keepalive_timeout;
	int header_timeout;
	int uid;
	int gid;
	bool dotfiles;
	int buffer_mib;
	int defer_accept;
};

/* Fills @p with the values given at insmod (defaults for what the module does not have). */
void ktcp_params_get(struct ktcp_params *p);
/* The offset of every field of struct ktcp_params in declaration order, then its size. */
const size_t *ktcp_params_layout(void);

#define KTCP_PARAMS_FIELDS 13

/* The parameters every ktcp-rs server has; @refusal says what happens past max_connections. */
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
	const size_t *ktcp_params_layout(void)                                              \
	{                                                                                   \
		static const size_t layout[KTCP_PARAMS_FIELDS + 1] = {                      \
			offsetof(struct ktcp_params, port),                                 \
			offsetof(struct ktcp_params, backlog),                              \
			offsetof(struct ktcp_params, max_connections),                      \
			offsetof(struct ktcp_params, bench),                                \
			offsetof(struct ktcp_params, idle_timeout),                         \
			offsetof(struct ktcp_params, root),                                 \
			offsetof(struct ktcp_params, keepalive_timeout),                    \
			offsetof(struct ktcp_params, header_timeout),                       \
			offsetof(struct ktcp_params, uid),                                  \
			offsetof(struct ktcp_params, gid),                                  \
			offsetof(struct ktcp_params, dotfiles),                             \
			offsetof(struct ktcp_params, buffer_mib),                           \
			offsetof(struct ktcp_params, defer_accept),                         \
			sizeof(struct ktcp_params),                                         \
		};                                                                          \
		return layout;                                                              \
	}                                                                                   \
	static void ktcp_server_params_get(struct ktcp_params *p)                           \
	{                                                                                   \
		*p = (struct ktcp_params){ .port = port, .backlog = backlog,                \
					   .max_connections = max_connections,              \
					   .bench = bench, .root = "" };                    \
	}

#endif
