// SPDX-License-Identifier: GPL-2.0
/*
 * The trace events of ktcp_events.h, created in this module (compiled once per module, as
 * kecho_trace.o and khttpd_trace.o, with KTCP_TRACE_SYSTEM set to its name), and the calls
 * Rust makes (trace.rs). Rust first reads the event's static key count through the
 * ktcp_trace_*_on pointers, so a disabled event costs a load and a branch, no call.
 */
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/sock.h>

#define CREATE_TRACE_POINTS
#include "ktcp_events.h"

void ktcp_trace_peer(struct socket *sock, u8 *addr)
{
	struct sock *sk = sock->sk;

	/*
	 * Read straight from the socket, as the kernel's own socket events do: a tracepoint
	 * runs with preemption off, and kernel_getpeername() takes the socket lock (sleeps).
	 * The fields stay set after a shutdown or a reset.
	 */
	memset(addr, 0, sizeof(struct sockaddr_in6));
	if (IS_ENABLED(CONFIG_IPV6) && sk->sk_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = READ_ONCE(sk->sk_dport);
		sin6->sin6_addr = sk->sk_v6_daddr;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)addr;

		sin->sin_family = AF_INET;
		sin->sin_port = READ_ONCE(sk->sk_dport);
		sin->sin_addr.s_addr = READ_ONCE(sk->sk_daddr);
	}
}

const atomic_t *const ktcp_trace_conn_open_on = &__tracepoint_conn_open.key.enabled;
const atomic_t *const ktcp_trace_conn_close_on = &__tracepoint_conn_close.key.enabled;

void ktcp_trace_conn_open(u64 id, struct socket *sock, bool refused)
{
	trace_conn_open(id, sock, refused);
}

void ktcp_trace_conn_close(u64 id, struct socket *sock, u64 duration_ns)
{
	trace_conn_close(id, sock, duration_ns);
}

#ifdef KTCP_TRACE_HTTP
const atomic_t *const ktcp_trace_request_on = &__tracepoint_request.key.enabled;

void ktcp_trace_request(struct socket *sock, const struct ktcp_request_text *text, u16 status,
			u64 bytes, u64 body_bytes, u64 duration_ns)
{
	trace_request(sock, text, status, bytes, body_bytes, duration_ns);
}
#endif
