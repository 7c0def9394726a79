// SPDX-License-Identifier: GPL-2.0
/*
 * C shims for what bindgen cannot reach from Rust in 6.12: static inlines, macros, globals,
 * and headers the kernel crate's bindings do not include. One job per function.
 * Included by each module's shim file, so that no object is shared between two modules.
 */
#include <linux/debugfs.h>
#include <linux/jiffies.h>
#include <linux/namei.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <linux/wait.h>
#include <linux/cred.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "helpers.h"

struct net *ktcp_init_net(void)
{
	return &init_net;
}

void ktcp_sock_set_nodelay(struct socket *sock)
{
	tcp_sock_set_nodelay(sock->sk);
}

void ktcp_sock_set_reuseaddr(struct socket *sock)
{
	sock_set_reuseaddr(sock->sk);
}

void ktcp_sock_set_rcvtimeo(struct socket *sock, long timeo)
{
	WRITE_ONCE(sock->sk->sk_rcvtimeo, timeo);
}

void ktcp_init_wait_entry(struct wait_queue_entry *entry, wait_queue_func_t func)
{
	init_waitqueue_func_entry(entry, func);
}

u64 ktcp_jiffies64(void)
{
	return get_jiffies_64();
}

unsigned long ktcp_msecs_to_jiffies(unsigned int ms)
{
	return msecs_to_jiffies(ms);
}

unsigned int ktcp_jiffies_to_msecs(unsigned long j)
{
	return jiffies_to_msecs(j);
}

struct dentry *ktcp_debugfs_dir(const char *name)
{
	return debugfs_create_dir(name, NULL);
}

void ktcp_debugfs_u64(const char *name, struct dentry *dir, u64 *value)
{
	debugfs_create_u64(name, 0444, dir, value);
}

void ktcp_debugfs_remove(struct dentry *dir)
{
	debugfs_remove(dir);
}

int ktcp_path_lookup_beneath(const struct path *root, const char *name, struct path *out)
{
	return vfs_path_lookup(root->dentry, root->mnt, name, LOOKUP_FOLLOW | LOOKUP_BENEATH, out);
}

int ktcp_kern_path_dir(const char *name, struct path *out)
{
	return kern_path(name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, out);
}

const struct cred *ktcp_current_cred(void)
{
	return current_cred();
}
