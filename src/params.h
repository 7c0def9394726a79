/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module parameters. module_param() is a macro bindgen cannot reach, so each module's shim
 * declares its parameters in C and fills a struct ktcp_params for the Rust side (params.rs
 * mirrors the struct and checks it against ktcp_params_layout()).
 */
#ifndef KTCP_PARAMS_H
#define KTCP_PARAMS_H

#include <linux/compiler.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/moduleparam.h>
#include <linux/stddef.h>
#include <linux/sysfs.h>
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
	/* Both modules: the address to listen on. */
	const char *bind;
	/* khttpd_rs: HTTPS. */
	int tls_port;
	int handshake_timeout;
	/* Both modules: the workqueue's workers run at high priority (WQ_HIGHPRI). */
	bool highpri;
};

/* Fills @p with the values given at insmod (defaults for what the module does not have). */
void ktcp_params_get(struct ktcp_params *p);

/*
 * The parameters that may change while the module runs (mode 0644): where their current
 * values live, read by the Rust side each time it needs one. NULL for what a module lacks.
 */
struct ktcp_live {
	const int *max_connections;
	const int *idle_timeout;
	const int *keepalive_timeout;
	const int *header_timeout;
	const int *max_age;
};
void ktcp_live_params(struct ktcp_live *l);

/*
 * A run-time writable int parameter with a range: a write outside it (or not a number) fails
 * with -EINVAL and changes nothing, at insmod and through sysfs alike.
 */
struct ktcp_int_range {
	int *value;
	int min;
	int max;
};

static inline int ktcp_param_set_range(const char *val, const struct kernel_param *kp)
{
	const struct ktcp_int_range *r = kp->arg;
	int v, err = kstrtoint(val, 0, &v);

	if (!err && (v < r->min || v > r->max))
		err = -EINVAL;
	if (err) {
		pr_err_ratelimited(KBUILD_MODNAME ": invalid %s: must be a number in %d..=%d\n",
				   kp->name, r->min, r->max);
		return -EINVAL;
	}
	WRITE_ONCE(*r->value, v);
	return 0;
}

static inline int ktcp_param_get_range(char *buf, const struct kernel_param *kp)
{
	const struct ktcp_int_range *r = kp->arg;

	return sysfs_emit(buf, "%d\n", READ_ONCE(*r->value));
}

#define KTCP_LIVE_INT(name, def, lo, hi, desc)                                               \
	static int name = def;                                                              \
	static const struct kernel_param_ops name##_ops = {                                 \
		.set = ktcp_param_set_range,                                                \
		.get = ktcp_param_get_range,                                                \
	};                                                                                  \
	static struct ktcp_int_range name##_range = { &name, lo, hi };                      \
	module_param_cb(name, &name##_ops, &name##_range, 0644);                            \
	MODULE_PARM_DESC(name, desc)
/* The offset of every field of struct ktcp_params in declaration order, then its size. */
const size_t *ktcp_params_layout(void);

#define KTCP_PARAMS_FIELDS 17

/* The parameters every ktcp-rs server has; @refusal says what happens past max_connections. */
#define KTCP_SERVER_PARAMS(default_port, refusal)                                           \
	static int port = default_port;                                                     \
	module_param(port, int, 0444);                                                      \
	MODULE_PARM_DESC(port, "TCP port to listen on, 1-65535 (default " #default_port ")"); \
	static int backlog = 128;                                                           \
	module_param(backlog, int, 0444);                                                   \
	MODULE_PARM_DESC(backlog, "listen backlog, 1-65535 (default 128)");                 \
	static char *bind = "::";                                                           \
	module_param(bind, charp, 0444);                                                    \
	MODULE_PARM_DESC(bind, "address to listen on (default ::, IPv6 and IPv4 alike; "     \
			 "an IPv4 address: IPv4 only)");                                    \
	static bool bench;                                                                  \
	module_param(bench, bool, 0444);                                                    \
	MODULE_PARM_DESC(bench, "per-CPU bound workqueue instead of unbound (default N)");  \
	static bool highpri;                                                                \
	module_param(highpri, bool, 0444);                                                  \
	MODULE_PARM_DESC(highpri, "workqueue workers at high priority, nice -20, as "       \
			 "nvmet-tcp's (WQ_HIGHPRI; default N)");                            \
	KTCP_LIVE_INT(max_connections, 65536, 1, 1000000,                                   \
		      "live connections above which a client " refusal                      \
		      ", 1-1000000 (default 65536; writable at run time)");                 \
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
			offsetof(struct ktcp_params, bind),                                 \
			offsetof(struct ktcp_params, tls_port),                             \
			offsetof(struct ktcp_params, handshake_timeout),                    \
			offsetof(struct ktcp_params, highpri),                              \
			sizeof(struct ktcp_params),                                         \
		};                                                                          \
		return layout;                                                              \
	}                                                                                   \
	static void ktcp_server_params_get(struct ktcp_params *p)                           \
	{                                                                                   \
		*p = (struct ktcp_params){ .port = port, .backlog = backlog,                \
					   .max_connections = max_connections,              \
					   .bench = bench, .highpri = highpri, .root = "",  \
					   .bind = bind ? bind : "" };                      \
	}

#endif
