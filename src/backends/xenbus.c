/* dom0's side of xenbus for the backends: libxenstore on the event loop. */
#include "backends/xenbus.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "domain/domain.h" /* now_ns */
#include "domain/loop.h"

#define XENBUS_MAX_WATCHES 256
#define XENBUS_RETRY_NS 500000000ull
#define XENBUS_PATH_MAX 256

struct xenbus_watch {
	bool used;
	char path[XENBUS_PATH_MAX];
	xenbus_watch_fn fn;
	void *arg;
};

struct xenbus {
	struct xs_handle *h; /* NULL while disconnected */
	int fd;		     /* xs_fileno(h), in the loop */
	uint64_t retry_at;   /* monotonic ns; 0 = connected */
	struct xenbus_watch w[XENBUS_MAX_WATCHES];
};

static void xenbus_token(int id, char *buf, size_t len)
{
	snprintf(buf, len, "kx%d", id);
}

/* Runs the callbacks of every pending watch event. */
static void xenbus_on_fd(int fd, void *arg)
{
	struct xenbus *xb = arg;
	char **vec;

	(void)fd;
	while (xb->h && (vec = xs_check_watch(xb->h))) {
		int id = -1;

		if (sscanf(vec[XS_WATCH_TOKEN], "kx%d", &id) == 1 && id >= 0 &&
		    id < XENBUS_MAX_WATCHES && xb->w[id].used)
			xb->w[id].fn(xb, vec[XS_WATCH_PATH], xb->w[id].arg);
		free(vec);
	}
	if (xb->h && errno != EAGAIN)
		xenbus_lost(xb);
}

static int xenbus_connect(struct xenbus *xb)
{
	char tok[16];

	xb->h = xs_open(0);
	if (!xb->h)
		return errno ? -errno : -ENOENT;
	xb->fd = xs_fileno(xb->h);
	if (xb->fd < 0 || loop_add(xb->fd, xenbus_on_fd, xb) < 0) {
		xs_close(xb->h);
		xb->h = NULL;
		return -EIO;
	}
	for (int i = 0; i < XENBUS_MAX_WATCHES; i++) {
		if (!xb->w[i].used)
			continue;
		xenbus_token(i, tok, sizeof(tok));
		if (!xs_watch(xb->h, xb->w[i].path, tok))
			log_warn("xenstore watch %s", xb->w[i].path);
	}
	return 0;
}

void xenbus_lost(struct xenbus *xb)
{
	if (!xb->h)
		return;
	log_warnx("backends: lost the xenstore connection; reconnecting");
	loop_del(xb->fd);
	xs_close(xb->h);
	xb->h = NULL;
	xb->fd = -1;
	xb->retry_at = now_ns() + XENBUS_RETRY_NS;
}

int xenbus_open(struct xenbus **out)
{
	struct xenbus *xb = calloc(1, sizeof(*xb));
	int ret;

	if (!xb)
		return -ENOMEM;
	xb->fd = -1;
	ret = xenbus_connect(xb);
	if (ret) {
		free(xb);
		return ret;
	}
	*out = xb;
	return 0;
}

void xenbus_close(struct xenbus *xb)
{
	if (!xb)
		return;
	if (xb->h) {
		loop_del(xb->fd);
		xs_close(xb->h);
	}
	free(xb);
}

struct xs_handle *xenbus_handle(struct xenbus *xb)
{
	return xb->h;
}

int xenbus_watch(struct xenbus *xb, const char *path, xenbus_watch_fn fn,
		 void *arg)
{
	char tok[16];

	for (int i = 0; i < XENBUS_MAX_WATCHES; i++) {
		struct xenbus_watch *w = &xb->w[i];

		if (w->used)
			continue;
		if (strlen(path) >= sizeof(w->path))
			return -ENAMETOOLONG;
		snprintf(w->path, sizeof(w->path), "%s", path);
		w->fn = fn;
		w->arg = arg;
		w->used = true;
		xenbus_token(i, tok, sizeof(tok));
		if (xb->h && !xs_watch(xb->h, path, tok)) {
			int err = errno ? -errno : -EIO;

			w->used = false;
			return err;
		}
		return i;
	}
	return -ENOSPC;
}

void xenbus_unwatch(struct xenbus *xb, int id)
{
	char tok[16];

	if (id < 0 || id >= XENBUS_MAX_WATCHES || !xb->w[id].used)
		return;
	xenbus_token(id, tok, sizeof(tok));
	if (xb->h)
		xs_unwatch(xb->h, xb->w[id].path, tok);
	xb->w[id].used = false;
}

uint64_t xenbus_poll(struct xenbus *xb, uint64_t now)
{
	int ret;

	if (!xb || !xb->retry_at)
		return 0;
	if (now < xb->retry_at)
		return xb->retry_at;
	ret = xenbus_connect(xb);
	log_debug("backends: xenstore reconnect: %s", ret ? strerror(-ret) : "ok");
	if (ret == 0) {
		log_info("backends: connected to xenstore again");
		xb->retry_at = 0;
		return 0;
	}
	xb->retry_at = now + XENBUS_RETRY_NS;
	return xb->retry_at;
}

static char *xenbus_vread(struct xenbus *xb, xs_transaction_t t,
			  const char *fmt, va_list ap)
{
	char path[XENBUS_PATH_MAX];
	unsigned len;

	if (vsnprintf(path, sizeof(path), fmt, ap) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (!xb->h) {
		errno = EIO;
		return NULL;
	}
	return xs_read(xb->h, t, path, &len);
}

char *xenbus_read(struct xenbus *xb, xs_transaction_t t, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = xenbus_vread(xb, t, fmt, ap);
	va_end(ap);
	return v;
}

unsigned long long xenbus_read_ull(struct xenbus *xb, unsigned long long def,
				   const char *fmt, ...)
{
	unsigned long long n = def;
	va_list ap;
	char *v, *end;

	va_start(ap, fmt);
	v = xenbus_vread(xb, XBT_NULL, fmt, ap);
	va_end(ap);
	if (v && *v) {
		errno = 0;
		n = strtoull(v, &end, 10);
		if (*end || errno)
			n = def;
	}
	free(v);
	return n;
}

int xenbus_printf(struct xenbus *xb, xs_transaction_t t, const char *path,
		  const char *fmt, ...)
{
	char val[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(val))
		return -E2BIG;
	if (!xb->h)
		return -EIO;
	if (!xs_write(xb->h, t, path, val, (unsigned)n))
		return errno ? -errno : -EIO;
	return 0;
}

int xenbus_switch_state(struct xenbus *xb, const char *dir,
			enum xenbus_state state)
{
	char path[XENBUS_PATH_MAX];

	snprintf(path, sizeof(path), "%s/state", dir);
	return xenbus_printf(xb, XBT_NULL, path, "%d", (int)state);
}

enum xenbus_state xenbus_read_state(struct xenbus *xb, const char *dir)
{
	return (enum xenbus_state)xenbus_read_ull(xb, XenbusStateUnknown,
						  "%s/state", dir);
}

const char *xenbus_state_name(enum xenbus_state s)
{
	static const char *const names[] = {
		"Unknown",   "Initialising", "InitWait", "Initialised",
		"Connected", "Closing",	     "Closed",	 "Reconfiguring",
		"Reconfigured",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s]
							       : "invalid";
}
