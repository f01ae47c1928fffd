/* kxend internals: the event loop, the two transports (host Unix socket,
 * guest store rings) and persistence, around the pure store and wire layer
 * of src/xenstore/.  One thread; every client is an epoll source. */
#ifndef KXEN_KXEND_KXEND_H
#define KXEN_KXEND_KXEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenstore/journal.h"
#include "xenstore/store.h"
#include "xenstore/wire.h"

struct kxend;

/* An epoll source: fn runs with the ready events. */
struct kxend_fd {
	int fd;
	void (*fn)(struct kxend *k, struct kxend_fd *f, uint32_t events);
};

enum kxend_client_kind { KXEND_SOCK, KXEND_RING };

/* What every client (the owner of an xs_wire_conn) starts with. */
struct kxend_client {
	enum kxend_client_kind kind;
	struct kxend_client *dirty_next; /* on k->dirty: has output to flush */
	bool dirty;
	bool dead; /* to be freed after this round */
	struct xs_wire_conn *wc;
};

/* Persistence: an append-only journal fsync'd per batch of changes, and a
 * snapshot it is compacted into (persist.c; see docs/architecture.md). */
struct kxend_persist {
	char *dir;
	int dirfd, jfd, lockfd;
	struct xs_jbuf pending; /* records not yet written */
	size_t journal_bytes;	/* size of the journal file */
	size_t snapshot_bytes;
	size_t compact_min; /* compact when the journal passes this... */
	unsigned long syncs, compactions;
	double load_ms; /* time to load the state at start-up */
};

struct kxend {
	int ep;
	bool stop;
	int busy; /* rings with work left: poll without sleeping */
	struct xs_store *store;
	struct xs_wire *wire;
	struct kxend_persist persist;
	struct kxend_client *dirty;
	struct kxend_sock *socks;
	struct kxend_ring *rings;
	struct kxend_fd listen;
	char *socket_path;
	bool trace; /* CONTROL log on: one line per request */
};

/* main.c */
int kxend_watch_fd(struct kxend *k, struct kxend_fd *f, uint32_t events);
int kxend_modify_fd(struct kxend *k, struct kxend_fd *f, uint32_t events);
void kxend_unwatch_fd(struct kxend *k, struct kxend_fd *f);
/* Marks a client as having output (or ring work) to handle this round. */
void kxend_mark_dirty(struct kxend *k, struct kxend_client *c);
void kxend_undirty(struct kxend *k, struct kxend_client *c);

/* sock.c: the host socket.  Listens at path (a stale socket file left by a
 * killed kxend is replaced; a live one is an error).  0 or -errno. */
int sock_listen(struct kxend *k, const char *path);
void sock_flush(struct kxend *k, struct kxend_sock *s);
void sock_free(struct kxend *k, struct kxend_sock *s);
void sock_close_all(struct kxend *k);
/* Frees the clients that hung up or broke the protocol. */
void sock_reap(struct kxend *k);
/* The descriptors that came with the message being handled on client s
 * (INTRODUCE): moves up to max of them to fds and returns how many there
 * were (the rest are closed). */
int sock_take_fds(struct kxend_sock *s, int *fds, int max);

/* ring.c: guest store rings (the introduction protocol of
 * src/xenstore/client.h).  ring_create takes ownership of the three fds
 * (closing them on failure). */
int ring_create(struct kxend *k, uint32_t domid, uint64_t gfn, uint32_t port,
		const int fds[3], struct xs_wire_conn **wc);
/* Moves requests and replies between the ring and the store. */
void ring_service(struct kxend *k, struct kxend_ring *r);
void ring_free(struct kxend *k, struct kxend_ring *r);
void ring_close_all(struct kxend *k);
/* Disconnects (xs_store_domain_disconnect) and frees the rings that
 * failed: hostile indexes, oversized messages, vanished memory. */
void ring_reap(struct kxend *k);
/* Installs the SIGBUS handler that survives a guest memfd truncated under
 * a mapping (the ring is then disconnected).  0 or -errno. */
int ring_sigbus_init(void);

/* persist.c */
/* Opens (creating) dir, locks it, loads the snapshot and journal into s and
 * opens the journal for appending.  0 or -errno with a message logged. */
int persist_open(struct kxend_persist *p, const char *dir, struct xs_store *s);
/* The store's `changed` callback (opaque: struct kxend_persist). */
void persist_change(void *opaque, const struct xs_change *c);
/* Writes the pending records and fdatasync()s the journal.  Exits kxend
 * (fatal) when that fails: no client may see an answer that is not on
 * disk.  Compacts when the journal has grown past the snapshot. */
void persist_sync(struct kxend_persist *p, struct xs_store *s);
/* Writes a snapshot of s and starts an empty journal.  0 or -errno. */
int persist_compact(struct kxend_persist *p, struct xs_store *s);
void persist_close(struct kxend_persist *p);

#endif
