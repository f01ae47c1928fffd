/* The backends' view of xenstore (dom0's side of xenbus): a libxenstore
 * connection driven by the domain process's event loop, watches that call
 * back by token, and the few helpers every backend needs (printf a key,
 * read a key, switch a device's state).
 *
 * One connection per domain process, owned by the main thread; every call
 * here is made from that thread.  If kxend goes away (crash, upgrade) the
 * connection is reopened on a timer and every watch registered again;
 * registration fires each watch once, so a backend re-reads what it
 * watches and catches up with anything that changed meanwhile. */
#ifndef KXEN_BACKENDS_XENBUS_H
#define KXEN_BACKENDS_XENBUS_H

#include <stdbool.h>
#include <stdint.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

struct xenbus;

/* Called for each event of a watch: `path` is the node that changed (the
 * watched path or one below it). */
typedef void (*xenbus_watch_fn)(struct xenbus *xb, const char *path,
				void *arg);

/* Connects to kxend ($XENSTORED_PATH or libxenstore's default).  0 and
 * *out, or -errno (-ENOENT: no kxend is listening). */
int xenbus_open(struct xenbus **out);
/* Removes every watch and closes.  NULL is a no-op. */
void xenbus_close(struct xenbus *xb);

/* The libxenstore handle for plain requests; NULL while reconnecting
 * (requests then fail, and the re-registered watches catch up later). */
struct xs_handle *xenbus_handle(struct xenbus *xb);

/* Watches `path` and everything below it.  Returns a watch id (>= 0) for
 * xenbus_unwatch, or -errno.  fn runs once soon after (the initial event). */
int xenbus_watch(struct xenbus *xb, const char *path, xenbus_watch_fn fn,
		 void *arg);
void xenbus_unwatch(struct xenbus *xb, int id);

/* The connection is known to be dead (the domain's own store connection
 * saw kxend go): close it and reconnect on the timer.  libxenstore does not
 * report a dropped connection by itself while no request is made. */
void xenbus_lost(struct xenbus *xb);
/* Reconnects when due; returns the monotonic ns of the next attempt, or 0
 * when connected.  Call from the main loop like the other pollers. */
uint64_t xenbus_poll(struct xenbus *xb, uint64_t now_ns);

/* Reads path (printf-style) into a malloc'd NUL-terminated string, or NULL
 * (errno set: ENOENT, ...). */
char *xenbus_read(struct xenbus *xb, xs_transaction_t t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reads an unsigned integer node; `def` when absent or not a number. */
unsigned long long xenbus_read_ull(struct xenbus *xb, unsigned long long def,
				   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Writes value (printf-style) to path.  0 or -errno. */
int xenbus_printf(struct xenbus *xb, xs_transaction_t t, const char *path,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Writes "<dir>/state" = state.  0 or -errno. */
int xenbus_switch_state(struct xenbus *xb, const char *dir,
			enum xenbus_state state);
/* "<dir>/state" as a number; XenbusStateUnknown when absent. */
enum xenbus_state xenbus_read_state(struct xenbus *xb, const char *dir);

/* Name of a state for log lines ("InitWait", ...). */
const char *xenbus_state_name(enum xenbus_state s);

#endif
