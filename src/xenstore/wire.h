/* The xenstore wire protocol (xen/io/xs_wire.h) on top of the pure store:
 * message framing, the request table, dispatch, replies, errors and watch
 * events, byte for byte as Xen's C xenstored (4.17) produces them.
 *
 * Pure like the store: bytes in, bytes queued out.  A transport (host
 * socket, guest ring; src/kxend/) owns one struct xs_wire_conn per client,
 * feeds it the bytes it reads and writes out what xs_wire_out_peek() shows.
 *
 * Rules kept here: every request gets exactly one reply with the request's
 * req_id and tx_id (type XS_ERROR and an errno name such as "ENOENT" on
 * failure); WATCH_EVENTs carry req_id = tx_id = 0; an identical event
 * already queued is not queued twice; payloads are limited to 4096 bytes
 * both ways (a longer request header is a protocol violation: the
 * transport drops the client). */
#ifndef KXEN_XENSTORE_WIRE_H
#define KXEN_XENSTORE_WIRE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

#include "xenstore/store.h"

_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg is 16 bytes");

struct xs_wire;
struct xs_wire_conn;

/* What the wire layer needs from the daemon.  All may be NULL in tests
 * (INTRODUCE then answers EINVAL, CONTROL log ENOSYS). */
struct xs_wire_ops {
	/* INTRODUCE from privileged `from`: set up domid's ring transport and
	 * its connection (xs_wire_conn_new(w, domid, false, ...)) into *ring,
	 * not yet introduced to the store.  0 or -errno (the reply). */
	int (*introduce)(void *opaque, struct xs_wire_conn *from,
			 uint32_t domid, uint64_t gfn, uint32_t port,
			 struct xs_wire_conn **ring);
	/* Tear down a ring transport made by introduce, including its
	 * connection (xs_wire_conn_free). */
	void (*drop)(void *opaque, struct xs_wire_conn *ring);
	/* CONTROL log on|off and print: 0 or -errno. */
	int (*control_log)(void *opaque, bool on);
	void (*control_print)(void *opaque, const char *text);
	/* A request is about to be handled (for tracing). */
	void (*request)(void *opaque, struct xs_wire_conn *wc,
			const struct xsd_sockmsg *hdr, const char *payload);
	/* Output was queued on wc (the transport should flush it soon). */
	void (*output)(void *opaque, struct xs_wire_conn *wc);
};

/* The wire layer over store s (not owned).  The store's ops must route
 * watch events to xs_wire_watch_event.  NULL on no memory. */
struct xs_wire *xs_wire_new(struct xs_store *s, const struct xs_wire_ops *ops,
			    void *opaque);
void xs_wire_free(struct xs_wire *w);
struct xs_store *xs_wire_store(const struct xs_wire *w);

/* The store's watch_event callback for stores driven by this layer:
 * queues the event on the connection's xs_wire_conn (its owner). */
void xs_wire_watch_event(void *opaque, struct xs_conn *c, const char *path,
			 const char *token);

/* A client connection: a store connection with domid (privileged for host
 * sockets) plus input assembly and an output queue.  `owner` is the
 * transport's object.  NULL on no memory. */
struct xs_wire_conn *xs_wire_conn_new(struct xs_wire *w, uint32_t domid,
				      bool privileged, void *owner);
/* Frees wc, its queue and its store connection (see xs_conn_free). */
void xs_wire_conn_free(struct xs_wire_conn *wc);
void *xs_wire_conn_owner(const struct xs_wire_conn *wc);
struct xs_conn *xs_wire_conn_store(const struct xs_wire_conn *wc);

/* Stream input (sockets; ring messages too big for the ring): consumes
 * bytes of buf until one message completes (and is handled) or buf is
 * used up; *used gets the bytes consumed.  Returns 1 when a message was
 * handled, 0 when all len bytes were taken without completing one, or
 * -EPROTO when a header announces more than XENSTORE_PAYLOAD_MAX bytes
 * (the transport drops the client). */
int xs_wire_feed(struct xs_wire_conn *wc, const void *buf, size_t len,
		 size_t *used);

/* True while no message is partly received. */
bool xs_wire_idle(const struct xs_wire_conn *wc);

/* One complete message (rings): hdr->len bytes of payload.  0 or -EPROTO
 * as xs_wire_feed. */
int xs_wire_handle(struct xs_wire_conn *wc, const struct xsd_sockmsg *hdr,
		   const void *payload);

/* May the transport take another request from this client?  False for an
 * unprivileged client with quota.outstanding replies not yet taken. */
bool xs_wire_can_accept(const struct xs_wire_conn *wc);

/* Queued output allowed before a client is considered stuck: watch events
 * beyond it are dropped and xs_wire_overflowed() turns true (the transport
 * then drops the client, as xenstored drops a domain that does not take
 * its events in time).  Guests: 1 MiB; host sockets: 16 MiB. */
#define XS_WIRE_QUEUE_MAX_GUEST (1u << 20)
#define XS_WIRE_QUEUE_MAX_HOST (16u << 20)
bool xs_wire_overflowed(const struct xs_wire_conn *wc);

/* Output: the rest of the message at the head of the queue (*len bytes at
 * the returned pointer, *at_start when none of it was taken yet), or NULL
 * when the queue is empty.  xs_wire_out_advance() takes n bytes of it. */
const void *xs_wire_out_peek(const struct xs_wire_conn *wc, size_t *len,
			     bool *at_start);
void xs_wire_out_advance(struct xs_wire_conn *wc, size_t n);
size_t xs_wire_out_bytes(const struct xs_wire_conn *wc);

/* Replies queued since the connection was made, and replies completely
 * taken from the queue: a request handled when queued == n has been
 * answered once sent >= n + 1. */
uint64_t xs_wire_replies_queued(const struct xs_wire_conn *wc);
uint64_t xs_wire_replies_sent(const struct xs_wire_conn *wc);

/* The request type's name ("READ"), or "UNKNOWN". */
const char *xs_wire_type_name(uint32_t type);

/* The errno name xenstored sends for -err/err ("EINVAL" when unknown). */
const char *xs_wire_errname(int err);

#endif
