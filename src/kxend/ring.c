/* kxend's guest transport: a domain's xenstore ring page (struct
 * xenstore_domain_interface) in the guest's memory, reached through the
 * memfd, kick eventfd and notify eventfd the domain process hands over with
 * INTRODUCE (src/xenstore/client.h).
 *
 * Everything in the page is the guest's to scribble on: kxend keeps its own
 * copies of the indexes it owns (req_cons, rsp_prod), reads each guest
 * index once per pass, copies bytes out before parsing them, and drops the
 * guest (one log line, the page's error field set) when an index claims
 * more than a ring's worth of data or a header more than the payload
 * limit.
 *
 * Request bytes are consumed as soon as they are there and replies written
 * as space allows, as xenstored does: Linux's xenbus writes a request's
 * header and payload separately and notifies the store only when the
 * request ring was empty (as the store left it) and after draining a full
 * response ring, so a store that waited for whole messages or for room for
 * whole replies would wait forever.  Each pass goes on while it makes
 * progress instead of waiting for kicks.
 *
 * After a restart kxend adopts the ring where the dead kxend left it:
 * requests written meanwhile are answered; a request the dead kxend had
 * taken but not answered is lost (its caller waits), and a kill in the
 * middle of a message leaves the guest's stream cut. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "common/log.h"
#include "kxend.h"

#define RING_PAGE 4096u

_Static_assert(sizeof(struct xenstore_domain_interface) <= RING_PAGE,
	       "the ring interface fits in a page");
_Static_assert(XENSTORE_RING_SIZE == 1024, "xenstore rings are 1 KiB");

struct kxend_ring {
	struct kxend_client base; /* first: the wire connection's owner */
	struct kxend_fd kick;
	struct kxend_ring *next;
	int notify_fd;
	uint32_t domid;
	struct xenstore_domain_interface *intf;
	/* The indexes kxend owns; the page's copies are only written. */
	XENSTORE_RING_IDX req_cons, rsp_prod;
	volatile sig_atomic_t bus_error;
};

/* The mapped pages, for the SIGBUS handler (a domain process that
 * truncates its memfd must not take kxend down). */
#define RING_MAX_MAPS 1024
static struct kxend_ring *volatile ring_maps[RING_MAX_MAPS];

static void ring_sigbus(int sig, siginfo_t *si, void *uc)
{
	int i;

	(void)uc;
	for (i = 0; i < RING_MAX_MAPS; i++) {
		struct kxend_ring *r = ring_maps[i];
		char *base = r ? (char *)r->intf : NULL;

		if (base && (char *)si->si_addr >= base &&
		    (char *)si->si_addr < base + RING_PAGE) {
			/* Put a private zero page there and carry on; the
			 * ring is dropped at the end of this pass. */
			mmap(base, RING_PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			r->bus_error = 1;
			return;
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int ring_sigbus_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = ring_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) ? -errno : 0;
}

static XENSTORE_RING_IDX ring_load(const XENSTORE_RING_IDX *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void ring_store(XENSTORE_RING_IDX *p, XENSTORE_RING_IDX v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Non-blocking use of eventfds whose file status flags are shared with the
 * domain process (so kxend does not set O_NONBLOCK on them). */
static bool ring_fd_ready(int fd, short events)
{
	struct pollfd p = {fd, events, 0};

	return poll(&p, 1, 0) == 1 && (p.revents & events);
}

static void ring_notify(struct kxend_ring *r)
{
	uint64_t one = 1;

	if (ring_fd_ready(r->notify_fd, POLLOUT) &&
	    write(r->notify_fd, &one, sizeof(one)) != sizeof(one))
		log_debug("domain %u: notify failed", r->domid);
}

/* Drops the guest: one line, the error in the page, a last notify. */
static void ring_fail(struct kxend_ring *r, uint32_t err, const char *why)
{
	if (r->base.dead)
		return;
	log_warnx("domain %u: %s; store ring disconnected", r->domid, why);
	if (!r->bus_error) {
		r->intf->error = err;
		ring_notify(r);
	}
	r->base.dead = true;
}

/* Writes replies and events while the response ring has room.  Returns
 * true when it produced something. */
static bool ring_flush_out(struct kxend_ring *r)
{
	struct xenstore_domain_interface *intf = r->intf;
	XENSTORE_RING_IDX cons;
	const char *p;
	uint32_t used, space, off, chunk;
	size_t len;
	bool produced = false;

	while ((p = xs_wire_out_peek(r->base.wc, &len, NULL))) {
		cons = ring_load(&intf->rsp_cons);
		used = r->rsp_prod - cons;
		if (used > XENSTORE_RING_SIZE) {
			ring_fail(r, XENSTORE_ERROR_RINGIDX,
				  "response ring index out of range");
			return produced;
		}
		space = XENSTORE_RING_SIZE - used;
		/* As much as fits, as xenstored does: Linux notifies the store
		 * after reading only when it found the ring full, so waiting
		 * for room for a whole message could wait forever.  (With the
		 * ring drained, which is the usual case, a reply up to 1024
		 * bytes goes in whole.) */
		if (!space)
			break;
		off = MASK_XENSTORE_IDX(r->rsp_prod);
		chunk = XENSTORE_RING_SIZE - off;
		if (chunk > space)
			chunk = space;
		if (chunk > len)
			chunk = (uint32_t)len;
		memcpy(intf->rsp + off, p, chunk);
		r->rsp_prod += chunk;
		ring_store(&intf->rsp_prod, r->rsp_prod);
		xs_wire_out_advance(r->base.wc, chunk);
		produced = true;
	}
	return produced;
}

/* Takes request bytes from the ring into the connection (handling each
 * message as it completes), as far as they go or until the connection may
 * take no more.  Returns true when it consumed something. */
static bool ring_take_requests(struct kxend_ring *r)
{
	struct xenstore_domain_interface *intf = r->intf;
	char buf[XENSTORE_RING_SIZE];
	XENSTORE_RING_IDX prod;
	uint32_t avail, chunk;
	size_t used;
	bool took = false;
	int rc;

	while (!r->base.dead) {
		if (xs_wire_idle(r->base.wc) && !xs_wire_can_accept(r->base.wc))
			break;
		prod = ring_load(&intf->req_prod);
		avail = prod - r->req_cons;
		if (avail > XENSTORE_RING_SIZE) {
			ring_fail(r, XENSTORE_ERROR_RINGIDX,
				  "request ring index out of range");
			break;
		}
		if (!avail)
			break;
		chunk = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(r->req_cons);
		if (chunk > avail)
			chunk = avail;
		/* Copied out once: the guest may change the ring meanwhile. */
		memcpy(buf, intf->req + MASK_XENSTORE_IDX(r->req_cons), chunk);
		rc = xs_wire_feed(r->base.wc, buf, chunk, &used);
		r->req_cons += (uint32_t)used;
		ring_store(&intf->req_cons, r->req_cons);
		took = true;
		if (rc < 0)
			ring_fail(r, XENSTORE_ERROR_PROTO,
				  "message over the payload limit");
	}
	return took;
}

/* Called when the guest kicked, when output was queued, or to continue:
 * takes requests, syncs what they changed to disk, writes replies and
 * events; notifies the guest when it produced or consumed anything. */
void ring_service(struct kxend *k, struct kxend_ring *r)
{
	bool notify = false, progress = true;
	int rounds = 0;

	while (progress && !r->base.dead && !r->bus_error && rounds++ < 64) {
		progress = ring_take_requests(r);
		/* What was handled must be on disk before it is answered. */
		persist_sync(&k->persist, k->store);
		if (ring_flush_out(r))
			progress = true;
		notify |= progress;
	}
	if (r->bus_error)
		ring_fail(r, XENSTORE_ERROR_COMM, "guest memory went away");
	if (xs_wire_overflowed(r->base.wc))
		ring_fail(r, XENSTORE_ERROR_COMM,
			  "over 1 MiB of replies and events not taken");
	if (notify && !r->base.dead)
		ring_notify(r);
	/* Out of rounds with work left: come back without sleeping. */
	if (progress && !r->base.dead)
		kxend_mark_dirty(k, &r->base);
}

static void ring_kick(struct kxend *k, struct kxend_fd *f, uint32_t events)
{
	struct kxend_ring *r =
	    (struct kxend_ring *)((char *)f -
				  offsetof(struct kxend_ring, kick));
	uint64_t cnt;

	if (ring_fd_ready(f->fd, POLLIN) &&
	    read(f->fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		log_debug("domain %u: kick read failed", r->domid);
	kxend_mark_dirty(k, &r->base);
}

void ring_free(struct kxend *k, struct kxend_ring *r)
{
	struct kxend_ring **pp;
	int i;

	for (pp = &k->rings; *pp && *pp != r; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = r->next;
	for (i = 0; i < RING_MAX_MAPS; i++)
		if (ring_maps[i] == r)
			ring_maps[i] = NULL;
	kxend_unwatch_fd(k, &r->kick);
	close(r->kick.fd);
	close(r->notify_fd);
	munmap(r->intf, RING_PAGE);
	xs_wire_conn_free(r->base.wc);
	free(r);
}

void ring_reap(struct kxend *k)
{
	struct kxend_ring *r, *next;

	for (r = k->rings; r; r = next) {
		next = r->next;
		if (r->base.dead) {
			xs_store_domain_disconnect(k->store, r->domid);
			kxend_undirty(k, &r->base);
			ring_free(k, r);
		}
	}
}

void ring_close_all(struct kxend *k)
{
	while (k->rings)
		ring_free(k, k->rings);
}

int ring_create(struct kxend *k, uint32_t domid, uint64_t gfn, uint32_t port,
		const int fds[3], struct xs_wire_conn **wc)
{
	struct kxend_ring *r = NULL;
	struct xenstore_domain_interface *intf;
	struct stat st;
	void *map = MAP_FAILED;
	int i, slot = -1, rc = -EINVAL;

	for (i = 0; i < RING_MAX_MAPS && slot < 0; i++)
		if (!ring_maps[i])
			slot = i;
	if (fstat(fds[0], &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < (gfn + 1) * RING_PAGE) {
		log_warnx("INTRODUCE of domain %u: the memory fd does not "
			  "hold page %llu",
			  domid, (unsigned long long)gfn);
		goto out;
	}
	rc = -ENOSPC;
	if (slot < 0)
		goto out;
	map = mmap(NULL, RING_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0],
		   (off_t)(gfn * RING_PAGE));
	if (map == MAP_FAILED) {
		rc = -errno;
		log_warn("INTRODUCE of domain %u: cannot map page %llu", domid,
			 (unsigned long long)gfn);
		goto out;
	}
	intf = map;
	/* Adopt the ring as it is: fresh (zeroed) or left by a previous
	 * kxend that died. */
	rc = -EINVAL;
	if (ring_load(&intf->req_prod) - ring_load(&intf->req_cons) >
		XENSTORE_RING_SIZE ||
	    ring_load(&intf->rsp_prod) - ring_load(&intf->rsp_cons) >
		XENSTORE_RING_SIZE) {
		log_warnx("INTRODUCE of domain %u: ring indexes out of range",
			  domid);
		goto out;
	}
	rc = -ENOMEM;
	r = calloc(1, sizeof(*r));
	if (!r)
		goto out;
	r->base.kind = KXEND_RING;
	r->intf = intf;
	r->domid = domid;
	r->kick.fd = fds[1];
	r->kick.fn = ring_kick;
	r->notify_fd = fds[2];
	r->req_cons = ring_load(&intf->req_cons);
	r->rsp_prod = ring_load(&intf->rsp_prod);
	r->base.wc = xs_wire_conn_new(k->wire, domid, false, r);
	if (!r->base.wc)
		goto out;
	rc = kxend_watch_fd(k, &r->kick, EPOLLIN);
	if (rc)
		goto out;
	ring_maps[slot] = r;
	if (intf->connection == XENSTORE_RECONNECT)
		intf->connection = XENSTORE_CONNECTED;
	intf->error = XENSTORE_ERROR_NONE;
	close(fds[0]);
	r->next = k->rings;
	k->rings = r;
	*wc = r->base.wc;
	log_info("domain %u: store ring at page %llu, event channel %u", domid,
		 (unsigned long long)gfn, port);
	/* Requests may be waiting (written while kxend was away). */
	kxend_mark_dirty(k, &r->base);
	ring_notify(r);
	r = NULL;
	map = MAP_FAILED;
	rc = 0;
out:
	if (r) {
		xs_wire_conn_free(r->base.wc);
		free(r);
	}
	if (map != MAP_FAILED)
		munmap(map, RING_PAGE);
	if (rc)
		for (i = 0; i < 3; i++)
			close(fds[i]);
	return rc;
}
