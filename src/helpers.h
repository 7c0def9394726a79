/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C shims for what bindgen cannot reach in 6.12 (static inlines, macros, globals). Declared
 * once for Rust in helpers.rs, which must match these prototypes.
 */
#ifndef KTCP_HELPERS_H
#define KTCP_HELPERS_H

#include <linux/types.h>

struct cred;
struct dentry;
struct file;
struct net;
struct path;
struct socket;
struct wait_queue_entry;
typedef int (*wait_queue_func_t)(struct wait_queue_entry *, unsigned int, int, void *);

/* Sockets. */
struct net *ktcp_init_net(void);
void ktcp_sock_set_nodelay(struct socket *sock);
void ktcp_sock_set_reuseaddr(struct socket *sock);
struct sockaddr_storage;
int ktcp_parse_addr(const char *addr, u16 port, struct sockaddr_storage *ss);
void ktcp_sock_set_v6only(struct socket *sock, bool v6only);
int ktcp_format_addr(const struct sockaddr_storage *ss, char *buf, size_t len);
void ktcp_sock_set_rcvtimeo(struct socket *sock, long timeo);
int ktcp_sock_set_defer_accept(struct socket *sock, int secs);
void ktcp_init_wait_entry(struct wait_queue_entry *entry, wait_queue_func_t func);
void ktcp_sock_release(struct socket *sock);
int ktcp_sock_alloc_file(struct socket *sock);
struct sock *ktcp_sock_get(struct socket *sock);
void ktcp_sock_put(struct sock *sk);

/* TLS: the server handshake through net/handshake (the user-space agent), then kTLS. */
typedef void (*ktcp_tls_done_t)(void *data, int status, s32 peerid);
int ktcp_tls_server_hello(struct socket *sock, unsigned int timeout_ms, ktcp_tls_done_t done,
			  void *data);
bool ktcp_tls_cancel(struct sock *sk);
bool ktcp_tls_available(void);
bool ktcp_tls_active(struct socket *sock);
int ktcp_tls_close_notify(struct socket *sock);
bool ktcp_tls_tx_pending(struct socket *sock);
bool ktcp_input_pending(struct socket *sock);
void ktcp_tls_callbacks_barrier(void);
ssize_t ktcp_splice_to_socket(struct file *in, loff_t *pos, struct socket *sock, size_t len,
			      bool more, bool *full);

/* RCU. */
void ktcp_rcu_read_lock(void);
void ktcp_rcu_read_unlock(void);

/* Time and CPUs. */
u64 ktcp_local_clock(void);
unsigned int ktcp_cpu_id(void);
unsigned int ktcp_nr_cpu_ids(void);
u64 ktcp_jiffies64(void);
unsigned long ktcp_msecs_to_jiffies(unsigned int ms);
unsigned int ktcp_jiffies_to_msecs(unsigned long j);

/* debugfs. */
struct seq_file;
struct ktcp_text {
	/*
	 * Writes the file's text into @m with ktcp_seq_write(); returns 0 or a negative errno.
	 * A text that overflows the seq_file's buffer is formatted again into a larger one.
	 */
	int (*format)(const struct ktcp_text *text, struct seq_file *m);
};
int ktcp_seq_write(struct seq_file *m, const char *buf, size_t len);
bool ktcp_seq_overflowed(struct seq_file *m);
struct dentry *ktcp_debugfs_dir(const char *name);
void ktcp_debugfs_u64(const char *name, struct dentry *dir, u64 *value);
void ktcp_debugfs_text(const char *name, struct dentry *dir, const struct ktcp_text *text);
void ktcp_debugfs_remove(struct dentry *dir);

/* Files and credentials. */
int ktcp_path_lookup_beneath(const struct path *root, const char *name, struct path *out);
int ktcp_kern_path_dir(const char *name, struct path *out);
unsigned int ktcp_path_mode(const struct path *path);
int ktcp_path_permission(const struct path *path, int mask);
void ktcp_get_file(struct file *file);
const struct cred *ktcp_unprivileged_cred(u32 uid, u32 gid);
void ktcp_put_cred(const struct cred *cred);
const struct cred *ktcp_override_creds(const struct cred *cred);
void ktcp_revert_creds(const struct cred *old);

#endif
