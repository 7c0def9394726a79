// SPDX-License-Identifier: GPL-2.0
/*
 * C shims for what bindgen cannot reach from Rust in 6.12: static inlines, macros, globals,
 * and headers the kernel crate's bindings do not include. One job per function. Kbuild
 * compiles this file once per module (see Kbuild), so no object is shared between modules.
 */
#include <linux/capability.h>
#include <linux/cpu.h>
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/inet.h>
#include <linux/in6.h>
#include <linux/jiffies.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/pipe_fs_i.h>
#include <linux/rcupdate.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/net.h>
#include <linux/sched/task.h>
#include <linux/splice.h>
#include <linux/tcp.h>
#include <linux/uidgid.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <net/net_namespace.h>
#include <net/handshake.h>
#include <net/inet_connection_sock.h>
#include <net/tls.h>
#include <net/tls_prot.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "helpers.h"

struct net *ktcp_init_net(void)
{
	return &init_net;
}

void ktcp_sock_set_nodelay(struct socket *sock)
{
	tcp_sock_set_nodelay(sock->sk);
}

/*
 * Zero-copy file bodies. splice_direct_to_actor() reads up to 64 KiB of @in's page cache into
 * the task's private pipe (references to the pages, no copy) and hands the pipe to
 * splice_to_sock_actor(), which passes the pages to TCP with MSG_SPLICE_PAGES: the skbs take
 * their own page references, so nothing is copied and the pipe can be emptied at once. The
 * send never blocks (MSG_DONTWAIT); what it did not take is released by
 * splice_direct_to_actor() and read again on the next call, from the advanced position.
 */
struct splice_to_sock {
	struct socket *sock;
	/* The socket took less than it was offered (it is full: a write-space wake-up comes). */
	bool full;
};

static int splice_to_sock_actor(struct pipe_inode_info *pipe, struct splice_desc *sd)
{
	struct splice_to_sock *to = sd->u.data;
	struct socket *sock = to->sock;
	unsigned int mask = pipe->ring_size - 1;
	size_t sent = 0, want = sd->total_len;
	int ret = 0;

	while (sent < want && !pipe_empty(pipe->head, pipe->tail)) {
		struct bio_vec bvec[16];
		struct msghdr msg = { .msg_flags = MSG_SPLICE_PAGES | MSG_DONTWAIT | MSG_NOSIGNAL };
		unsigned int slot = pipe->tail, n = 0;
		size_t len = 0;

		while (n < ARRAY_SIZE(bvec) && !pipe_empty(pipe->head, slot) && sent + len < want) {
			struct pipe_buffer *buf = &pipe->bufs[slot & mask];
			size_t seg = min_t(size_t, buf->len, want - sent - len);

			ret = pipe_buf_confirm(pipe, buf);
			if (ret)
				goto out;
			if (seg) {
				bvec_set_page(&bvec[n++], buf->page, seg, buf->offset);
				len += seg;
			}
			slot++;
		}
		if (!len)
			break;
		if ((sd->flags & SPLICE_F_MORE) || sent + len < want)
			msg.msg_flags |= MSG_MORE;
		iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bvec, n, len);
		ret = sock_sendmsg(sock, &msg);
		if (ret <= 0) {
			to->full = ret == -EAGAIN;
			goto out;
		}
		sent += ret;
		/* Drop what the socket took from the front of the pipe, and empty buffers. */
		for (size_t left = ret; !pipe_empty(pipe->head, pipe->tail);) {
			struct pipe_buffer *buf = &pipe->bufs[pipe->tail & mask];

			if (left < buf->len) {
				buf->offset += left;
				buf->len -= left;
				break;
			}
			left -= buf->len;
			pipe_buf_release(pipe, buf);
			pipe->tail++;
		}
		if ((size_t)ret < len) {
			to->full = true;
			break;
		}
	}
out:
	return sent ? sent : ret;
}

ssize_t ktcp_splice_to_socket(struct file *in, loff_t *pos, struct socket *sock, size_t len,
			      bool more, bool *full)
{
	struct splice_to_sock to = { .sock = sock, .full = false };
	struct splice_desc sd = {
		.len = len,
		.total_len = len,
		.flags = more ? SPLICE_F_MORE : 0,
		.pos = *pos,
		.u.data = &to,
	};
	const struct cred *old;
	ssize_t ret;

	/*
	 * What read() checks too (kernel_read does): LSM, fanotify permission events, range; as
	 * the user the file was opened for (its f_cred), not the worker.
	 */
	old = override_creds(in->f_cred);
	ret = rw_verify_area(READ, in, pos, len);
	revert_creds(old);
	if (ret)
		return ret;
	ret = splice_direct_to_actor(in, &sd, splice_to_sock_actor);
	if (ret > 0) {
		*pos = sd.pos;
		fsnotify_access(in);
	}
	*full = to.full;
	return ret;
}

void ktcp_sock_set_reuseaddr(struct socket *sock)
{
	sock_set_reuseaddr(sock->sk);
}

/* Releases a socket, through its file when it has one (sock_alloc_file gave it one). */
void ktcp_sock_release(struct socket *sock)
{
	if (sock->file)
		fput(sock->file);
	else
		sock_release(sock);
}

/*
 * Gives @sock a file (net/handshake installs it in the agent's fd table); 0 if it has one
 * already. On failure the socket is released (sock_alloc_file does it) and a negative errno
 * returned.
 */
int ktcp_sock_alloc_file(struct socket *sock)
{
	struct file *file;

	if (sock->file)
		return 0;
	/* Accepted sockets inherit the listener's short receive timeout: not for the agent. */
	WRITE_ONCE(sock->sk->sk_rcvtimeo, MAX_SCHEDULE_TIMEOUT);
	file = sock_alloc_file(sock, 0, NULL);
	return IS_ERR(file) ? PTR_ERR(file) : 0;
}

/* A reference to @sock's struct sock, which outlives the socket until ktcp_sock_put(). */
struct sock *ktcp_sock_get(struct socket *sock)
{
	sock_hold(sock->sk);
	return sock->sk;
}

void ktcp_sock_put(struct sock *sk)
{
	sock_put(sk);
}

/*
 * Asks the user-space agent (net/handshake, handler class tlshd) for a TLS server handshake on
 * @sock, which must have a file. @done(@data, status, peer) runs once, in the agent's context,
 * unless ktcp_tls_cancel() returns true first. The agent uses its own certificate.
 */
int ktcp_tls_server_hello(struct socket *sock, unsigned int timeout_ms, ktcp_tls_done_t done,
			  void *data)
{
#if IS_ENABLED(CONFIG_NET_HANDSHAKE)
	struct tls_handshake_args args = {
		.ta_sock = sock,
		.ta_done = done,
		.ta_data = data,
		.ta_timeout_ms = timeout_ms,
		.ta_keyring = TLS_NO_KEYRING,
		.ta_my_cert = TLS_NO_CERT,
		.ta_my_privkey = TLS_NO_PRIVKEY,
	};

	int ret;

	/* handshake_req_submit() wants the caller to hold the file across the call. */
	get_file(sock->file);
	ret = tls_server_hello_x509(&args, GFP_KERNEL);
	fput(sock->file);
	return ret;
#else
	return -EOPNOTSUPP;
#endif
}

/*
 * Whether the agent really put kTLS on @sock in both directions (a DONE with status 0 is
 * only its word): the "tls" ULP, with a software or offloaded transmit and receive side.
 */
bool ktcp_tls_active(struct socket *sock)
{
#if IS_ENABLED(CONFIG_TLS)
	struct sock *sk = sock->sk;
	const struct inet_connection_sock *icsk = inet_csk(sk);
	bool ok = false;

	lock_sock(sk);
	if (icsk->icsk_ulp_ops && !strcmp(icsk->icsk_ulp_ops->name, "tls")) {
		struct tls_context *ctx = tls_get_ctx(sk);

		ok = ctx && ctx->tx_conf != TLS_BASE && ctx->rx_conf != TLS_BASE;
	}
	release_sock(sk);
	return ok;
#else
	return false;
#endif
}

static long ktcp_noop(void *arg)
{
	return 0;
}

/*
 * Waits until no CPU can still be running the tail of a handshake done callback (its last
 * store was seen): Tasks RCU where there is preemption; else every CPU schedules once,
 * which a non-preemptible CPU does only after the callback returned.
 */
void ktcp_tls_callbacks_barrier(void)
{
#ifdef CONFIG_TASKS_RCU
	synchronize_rcu_tasks();
#else
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu)
		work_on_cpu(cpu, ktcp_noop, NULL);
	cpus_read_unlock();
#endif
}

/* Whether this kernel has the handshake upcall (CONFIG_NET_HANDSHAKE) and kTLS. */
bool ktcp_tls_available(void)
{
	return IS_ENABLED(CONFIG_NET_HANDSHAKE) && IS_ENABLED(CONFIG_TLS);
}

/*
 * Sends a TLS close_notify alert on @sock (a kTLS socket), without waiting and without
 * SIGPIPE: tls_handshake_close() sends it without MSG_NOSIGNAL, so a connection already reset
 * would signal whoever closes it (rmmod itself, at unload). Returns 0 once it is queued or can
 * never be (a socket past sending), -EAGAIN while the send buffer is full: kTLS then set
 * SOCK_NOSPACE, and room appearing wakes the socket's waiters.
 */
int ktcp_tls_close_notify(struct socket *sock)
{
#if IS_ENABLED(CONFIG_TLS)
	struct sock *sk = sock->sk;
	u8 alert[2] = { TLS_ALERT_LEVEL_WARNING, TLS_ALERT_DESC_CLOSE_NOTIFY };
	u8 record_type = TLS_RECORD_TYPE_ALERT;
	u8 buf[CMSG_SPACE(sizeof(record_type))];
	struct kvec iov = { .iov_base = alert, .iov_len = sizeof(alert) };
	struct msghdr msg = {
		.msg_control = buf,
		.msg_controllen = sizeof(buf),
		.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL,
	};
	struct cmsghdr *cmsg;
	int ret;

	if (READ_ONCE(sk->sk_err) || (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) ||
	    !((1 << READ_ONCE(sk->sk_state)) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)))
		return 0;
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_TLS;
	cmsg->cmsg_type = TLS_SET_RECORD_TYPE;
	cmsg->cmsg_len = CMSG_LEN(sizeof(record_type));
	memcpy(CMSG_DATA(cmsg), &record_type, sizeof(record_type));
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &iov, 1, sizeof(alert));
	ret = sock_sendmsg(sock, &msg);
	return ret == -EAGAIN ? -EAGAIN : 0;
#else
	return 0;
#endif
}

/*
 * Whether a receive on @sock could return something now: data queued (or in the backlog of a
 * socket another context owns, processed at its release_sock), an error, or the end of the
 * stream. Lockless. A false answer never loses input when: the caller's wait entry is on the
 * socket's wait queue and it asks from the work item that entry queues (data queued after
 * the look, or before it but unseen, comes with sk_data_ready, sk_state_change or
 * sk_error_report, which queue the item again: a running item is not pending); SO_RCVLOWAT
 * is 1 (ktcp never raises it; above it tcp_data_ready does not wake); and the socket's
 * receive path is plain TCP. Any other receive path (kTLS, whose decrypted records wait
 * outside the queue; a BPF sockmap, which moves skbs to its own queue before it wakes the
 * socket) answers true, leaving it to recvmsg.
 */
bool ktcp_input_pending(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (READ_ONCE(sk->sk_prot)->recvmsg != tcp_prot.recvmsg)
		return true;
	return !skb_queue_empty_lockless(&sk->sk_receive_queue) || READ_ONCE(sk->sk_backlog.tail) ||
	       READ_ONCE(sk->sk_err) || (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN);
}

/*
 * Whether kTLS on @sock holds records that TCP has not taken yet (its send buffer was full:
 * kTLS pushes them as room appears, from its tx work). A shutdown now would lose them. While
 * it does, SOCK_NOSPACE is set, so that room appearing wakes the socket's waiters again. False
 * on a socket that cannot send any more (error, shut down, not connected): nothing will go.
 */
bool ktcp_tls_tx_pending(struct socket *sock)
{
#if IS_ENABLED(CONFIG_TLS)
	struct sock *sk = sock->sk;
	const struct inet_connection_sock *icsk = inet_csk(sk);
	bool pending = false;

	lock_sock(sk);
	if (icsk->icsk_ulp_ops && !strcmp(icsk->icsk_ulp_ops->name, "tls") && !sk->sk_err &&
	    !(sk->sk_shutdown & SEND_SHUTDOWN) &&
	    ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))) {
		struct tls_context *ctx = tls_get_ctx(sk);

		if (ctx && ctx->tx_conf == TLS_SW)
			pending = ctx->partially_sent_record || ctx->pending_open_record_frags ||
				  !list_empty(&tls_sw_ctx_tx(ctx)->tx_list);
		if (pending)
			set_bit(SOCK_NOSPACE, &sock->flags);
	}
	release_sock(sk);
	return pending;
#else
	return false;
#endif
}

/* Cancels @sk's pending handshake: true if it was pending (its done will not run). */
bool ktcp_tls_cancel(struct sock *sk)
{
#if IS_ENABLED(CONFIG_NET_HANDSHAKE)
	return tls_handshake_cancel(sk);
#else
	return false;
#endif
}

/*
 * Parses @addr (IPv4 dotted quad, or IPv6 with an optional %scope) with @port into @ss;
 * returns the address length to bind with, or -EINVAL.
 */
int ktcp_parse_addr(const char *addr, u16 port, struct sockaddr_storage *ss)
{
	char port_str[8];

	snprintf(port_str, sizeof(port_str), "%u", port);
	memset(ss, 0, sizeof(*ss));
	if (inet_pton_with_scope(&init_net, AF_UNSPEC, addr, port_str, ss))
		return -EINVAL;
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* An AF_INET6 listener: @v6only false takes IPv4 clients too (as ::ffff:a.b.c.d). */
void ktcp_sock_set_v6only(struct socket *sock, bool v6only)
{
	lock_sock(sock->sk);
	sock->sk->sk_ipv6only = v6only;
	release_sock(sock->sk);
}

/* Formats @ss as "a.b.c.d:port" or "[v6]:port" into @buf; returns the length. */
int ktcp_format_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET6 && sin6->sin6_scope_id)
		return snprintf(buf, len, "%pISpsc", ss);
	return snprintf(buf, len, "%pISpc", ss);
}

void ktcp_sock_set_rcvtimeo(struct socket *sock, long timeo)
{
	WRITE_ONCE(sock->sk->sk_rcvtimeo, timeo);
}

/* TCP_DEFER_ACCEPT: kernel_setsockopt() is gone, so through the protocol's own setsockopt. */
int ktcp_sock_set_defer_accept(struct socket *sock, int secs)
{
	return sock->ops->setsockopt(sock, SOL_TCP, TCP_DEFER_ACCEPT, KERNEL_SOCKPTR(&secs),
				     sizeof(secs));
}

void ktcp_init_wait_entry(struct wait_queue_entry *entry, wait_queue_func_t func)
{
	init_waitqueue_func_entry(entry, func);
}

void ktcp_rcu_read_lock(void)
{
	rcu_read_lock();
}

void ktcp_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

u64 ktcp_local_clock(void)
{
	return local_clock();
}

unsigned int ktcp_cpu_id(void)
{
	return raw_smp_processor_id();
}

unsigned int ktcp_nr_cpu_ids(void)
{
	return nr_cpu_ids;
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

/*
 * A read-only debugfs text file whose contents @text->format() writes into the seq_file when
 * the file is read: a text longer than the buffer makes seq_read() format it again into one
 * twice as large, so no text is cut short. @text must stay valid until the file is removed
 * (debugfs_remove() waits for readers in flight).
 */
static int ktcp_text_show(struct seq_file *m, void *unused)
{
	const struct ktcp_text *text = m->private;

	return text->format(text, m);
}

/* Appends @len bytes to @m: 0, or -1 when they did not fit (seq_read() then retries). */
int ktcp_seq_write(struct seq_file *m, const char *buf, size_t len)
{
	return seq_write(m, buf, len);
}

/* Has @m's buffer overflowed (so that seq_read() formats the text again, larger)? */
bool ktcp_seq_overflowed(struct seq_file *m)
{
	return seq_has_overflowed(m);
}
DEFINE_SHOW_ATTRIBUTE(ktcp_text);

void ktcp_debugfs_text(const char *name, struct dentry *dir, const struct ktcp_text *text)
{
	debugfs_create_file(name, 0444, dir, (void *)text, &ktcp_text_fops);
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

/* The file type and permission bits of a looked-up path. */
unsigned int ktcp_path_mode(const struct path *path)
{
	return d_inode(path->dentry)->i_mode;
}

/* May the current credentials access the inode at @path as @mask (MAY_READ, MAY_EXEC)? */
void ktcp_get_file(struct file *file)
{
	get_file(file);
}

int ktcp_path_permission(const struct path *path, int mask)
{
	return inode_permission(mnt_idmap(path->mnt), d_inode(path->dentry), mask);
}

/*
 * Credentials of @uid/@gid in the initial user namespace, with no supplementary groups and no
 * capabilities: what an unprivileged user of that id may read, the server may serve.
 */
const struct cred *ktcp_unprivileged_cred(u32 uid, u32 gid)
{
	kuid_t kuid = make_kuid(&init_user_ns, uid);
	kgid_t kgid = make_kgid(&init_user_ns, gid);
	struct group_info *groups;
	struct cred *cred;

	if (!uid_valid(kuid) || !gid_valid(kgid))
		return ERR_PTR(-EINVAL);
	groups = groups_alloc(0);
	if (!groups)
		return ERR_PTR(-ENOMEM);
	cred = prepare_kernel_cred(&init_task);
	if (!cred) {
		put_group_info(groups);
		return ERR_PTR(-ENOMEM);
	}
	cred->uid = cred->euid = cred->suid = cred->fsuid = kuid;
	cred->gid = cred->egid = cred->sgid = cred->fsgid = kgid;
	set_groups(cred, groups);
	put_group_info(groups);
	cap_clear(cred->cap_inheritable);
	cap_clear(cred->cap_permitted);
	cap_clear(cred->cap_effective);
	cap_clear(cred->cap_bset);
	cap_clear(cred->cap_ambient);
	return cred;
}

void ktcp_put_cred(const struct cred *cred)
{
	put_cred(cred);
}

const struct cred *ktcp_override_creds(const struct cred *cred)
{
	return override_creds(cred);
}

void ktcp_revert_creds(const struct cred *old)
{
	revert_creds(old);
}
