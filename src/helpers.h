/* SPDX-License-Identifier: GPL-2.0 */
/* Prototypes of the C shims in helpers.c; the Rust side declares the same in net.rs et al. */
#ifndef KTCP_HELPERS_H
#define KTCP_HELPERS_H

#include <linux/types.h>

struct cred;
struct dentry;
struct net;
struct path;
struct socket;
struct wait_queue_entry;
typedef int (*wait_queue_func_t)(struct wait_queue_entry *, unsigned int, int, void *);

struct net *ktcp_init_net(void);
void ktcp_sock_set_nodelay(struct socket *sock);
void ktcp_sock_set_reuseaddr(struct socket *sock);
void ktcp_sock_set_rcvtimeo(struct socket *sock, long timeo);
void ktcp_init_wait_entry(struct wait_queue_entry *entry, wait_queue_func_t func);
u64 ktcp_jiffies64(void);
unsigned long ktcp_msecs_to_jiffies(unsigned int ms);
unsigned int ktcp_jiffies_to_msecs(unsigned long j);
struct dentry *ktcp_debugfs_dir(const char *name);
void ktcp_debugfs_u64(const char *name, struct dentry *dir, u64 *value);
void ktcp_debugfs_remove(struct dentry *dir);
int ktcp_path_lookup_beneath(const struct path *root, const char *name, struct path *out);
int ktcp_kern_path_dir(const char *name, struct path *out);
const struct cred *ktcp_current_cred(void);

#endif
