/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The modules' trace events, defined the kernel way (see samples/trace_events/; not named
 * trace_events.h, which <trace/trace_events.h> would find in its own directory): trace.c
 * includes this header with CREATE_TRACE_POINTS, once per module, with KTCP_TRACE_SYSTEM set
 * to the module's name (Kbuild), so the events are kecho_rs:conn_open, khttpd_rs:request, ...
 * Rust calls them through the wrappers in trace.c, and only when the event is enabled.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM KTCP_TRACE_SYSTEM

/* Read once: the types and the calls of trace.c (the part below is read once per stage). */
#ifndef KTCP_EVENTS_TYPES
#define KTCP_EVENTS_TYPES
#include <linux/types.h>

struct socket;

/*
 * The text of one request, not NUL-terminated, each part escaped as nginx escapes its access
 * log, and '\'' too (proto/log_escape.rs), and cut to its bound: TP_printk can quote them with
 * '\'' (libtraceevent, behind trace-cmd and perf, cannot parse a '"' inside the format).
 */
struct ktcp_request_text {
	const char *method;
	const char *target;
	const char *referer;
	const char *user_agent;
	u16 method_len, target_len, referer_len, user_agent_len;
	/* 10 for HTTP/1.0, 11 for HTTP/1.1, 0 when the request line could not be read. */
	u8 version;
};

/* Writes the peer address of sock into addr (a struct sockaddr_in6's room), or zeros. */
void ktcp_trace_peer(struct socket *sock, u8 *addr);

/* The calls Rust makes (trace.rs), and where it reads whether each event is enabled. */
extern const atomic_t *const ktcp_trace_conn_open_on;
extern const atomic_t *const ktcp_trace_conn_close_on;
extern const atomic_t *const ktcp_trace_request_on;
void ktcp_trace_conn_open(u64 id, struct socket *sock, bool refused);
void ktcp_trace_conn_close(u64 id, struct socket *sock, u64 duration_ns);
void ktcp_trace_request(struct socket *sock, const struct ktcp_request_text *text, u16 status,
			u64 bytes, u64 body_bytes, u64 duration_ns);
#endif /* KTCP_EVENTS_TYPES */

#if !defined(KTCP_EVENTS_H) || defined(TRACE_HEADER_MULTI_READ)
#define KTCP_EVENTS_H

#include <linux/in6.h>
#include <linux/tracepoint.h>

/* A connection accepted and served (or refused, when max_connections are open). */
TRACE_EVENT(conn_open,
	TP_PROTO(u64 id, struct socket *sock, bool refused),
	TP_ARGS(id, sock, refused),
	TP_STRUCT__entry(
		__field(u64, id)
		__array(u8, client, sizeof(struct sockaddr_in6))
		__field(bool, refused)
	),
	TP_fast_assign(
		__entry->id = id;
		ktcp_trace_peer(sock, __entry->client);
		__entry->refused = refused;
	),
	TP_printk("id=%llu client=%pISpc refused=%d", __entry->id, __entry->client,
		  __entry->refused)
);

/* A connection closed: how long it was open. */
TRACE_EVENT(conn_close,
	TP_PROTO(u64 id, struct socket *sock, u64 duration_ns),
	TP_ARGS(id, sock, duration_ns),
	TP_STRUCT__entry(
		__field(u64, id)
		__array(u8, client, sizeof(struct sockaddr_in6))
		__field(u64, duration_ns)
	),
	TP_fast_assign(
		__entry->id = id;
		ktcp_trace_peer(sock, __entry->client);
		__entry->duration_ns = duration_ns;
	),
	TP_printk("id=%llu client=%pISpc duration_ns=%llu", __entry->id, __entry->client,
		  __entry->duration_ns)
);

#ifdef KTCP_TRACE_HTTP
/*
 * A request answered: its response was sent whole, or the connection ended during it.
 * bytes counts head and body, body_bytes the body alone; time is the wall clock in seconds
 * when the response ended, duration_ns the time since the request head was complete.
 */
TRACE_EVENT(request,
	TP_PROTO(struct socket *sock, const struct ktcp_request_text *text, u16 status,
		 u64 bytes, u64 body_bytes, u64 duration_ns),
	TP_ARGS(sock, text, status, bytes, body_bytes, duration_ns),
	TP_STRUCT__entry(
		__array(u8, client, sizeof(struct sockaddr_in6))
		__field(s64, time)
		__string_len(method, text->method, text->method_len)
		__string_len(target, text->target, text->target_len)
		__field(u8, version)
		__field(u16, status)
		__field(u64, bytes)
		__field(u64, body_bytes)
		__field(u64, duration_ns)
		__string_len(referer, text->referer, text->referer_len)
		__string_len(user_agent, text->user_agent, text->user_agent_len)
	),
	TP_fast_assign(
		ktcp_trace_peer(sock, __entry->client);
		__entry->time = ktime_get_real_seconds();
		__assign_str(method);
		__assign_str(target);
		__entry->version = text->version;
		__entry->status = status;
		__entry->bytes = bytes;
		__entry->body_bytes = body_bytes;
		__entry->duration_ns = duration_ns;
		__assign_str(referer);
		__assign_str(user_agent);
	),
	TP_printk("client=%pISpc time=%lld method=%s target='%s' version=%u status=%u bytes=%llu body_bytes=%llu duration_ns=%llu referer='%s' user_agent='%s'",
		  __entry->client, __entry->time, __get_str(method), __get_str(target),
		  __entry->version, __entry->status, __entry->bytes, __entry->body_bytes,
		  __entry->duration_ns, __get_str(referer), __get_str(user_agent))
);
#endif /* KTCP_TRACE_HTTP */

#endif /* KTCP_EVENTS_H */

#undef TRACE_INCLUDE_PATH
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE ktcp_events
#include <trace/define_trace.h>
