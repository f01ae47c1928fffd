/* What kxl's device hot-plug commands (block.c, network.c) share: reading
 * xenstore nodes by format, writing a device's directories in one
 * transaction, waiting for the backend's answer, and the detach sequence.
 * The protocol is libxl's: the toolstack writes or closes the directories;
 * the domain process's backend watches them and does the rest. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "xl/hotplug.h"
#include "xl/kxl.h"

char *kxl_readf(struct xs_handle *h, const char *fmt, ...)
{
	char path[256];
	unsigned len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_read(h, XBT_NULL, path, &len);
}

int kxl_readf_int(struct xs_handle *h, int def, const char *fmt, ...)
{
	char path[256], *v;
	unsigned len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	v = xs_read(h, XBT_NULL, path, &len);
	n = v ? atoi(v) : def;
	free(v);
	return n;
}

int kxl_find_dom(const char *arg, struct kxl_dom *d)
{
	if (reg_find(arg, d) == 0)
		return 0;
	fprintf(stderr, "kxl: domain '%s' does not exist\n", arg);
	return -ENOENT;
}

struct txn_arg {
	struct xs_handle *h;
	xs_transaction_t t;
};

static int txn_write(void *arg, const char *path, const char *value)
{
	struct txn_arg *a = arg;

	return xs_write(a->h, a->t, path, value, strlen(value)) ? 0 : -EIO;
}

static int txn_perms(void *arg, const char *path, uint32_t owner,
		     uint32_t reader)
{
	struct txn_arg *a = arg;
	struct xs_permissions p[2] = {{.id = owner, .perms = XS_PERM_NONE},
				      {.id = reader, .perms = XS_PERM_READ}};

	return xs_set_permissions(a->h, a->t, path, p, 2) ? 0 : -EIO;
}

int kxl_dev_write(struct xs_handle *h,
		  int (*fill)(const struct devnodes_writer *w, void *arg),
		  void *arg)
{
	/* One transaction, as libxl: the backend acts on the first key it
	 * sees, so every key must appear at once. */
	for (int tries = 0;; tries++) {
		struct txn_arg a = {h, xs_transaction_start(h)};
		struct devnodes_writer w = {txn_write, txn_perms, &a};
		int werr = a.t ? fill(&w, arg) : -EIO;

		if (a.t && xs_transaction_end(h, a.t, werr != 0) && !werr)
			return 0;
		if (!werr && errno == EAGAIN && tries < 10)
			continue;
		fprintf(stderr, "kxl: writing the device to xenstore failed\n");
		return -EIO;
	}
}

int kxl_dev_wait_state(struct xs_handle *h, const char *be, unsigned want,
		       int seconds)
{
	int s = 0;

	for (int i = 0; i < seconds * 10; i++) {
		s = kxl_readf_int(h, 0, "%s/state", be);
		if (!s || (want & (1u << s)))
			break;
		usleep(100000);
	}
	return s;
}

static void remove_dirs(struct xs_handle *h, const char *be, const char *fe)
{
	xs_rm(h, XBT_NULL, be);
	xs_rm(h, XBT_NULL, fe);
}

int kxl_dev_wait_attached(struct xs_handle *h, uint32_t domid,
			  const char *be, const char *fe, const char *what)
{
	char *hp;
	int s;

	/* The backend opens its storage or TAP (and runs the hot-plug
	 * script) and waits for the frontend. */
	s = kxl_dev_wait_state(h, be, 1u << XenbusStateInitWait |
					      1u << XenbusStateConnected |
					      1u << XenbusStateClosed,
			       KXL_DEV_WAIT_S);
	if (s == XenbusStateInitWait || s == XenbusStateConnected)
		return 0;
	hp = kxl_readf(h, "%s/hotplug-error", be);
	fprintf(stderr, "kxl: domain %u did not take %s: %s\n", domid, what,
		hp ? hp : "no answer from its backend");
	free(hp);
	remove_dirs(h, be, fe);
	return -EIO;
}

int kxl_dev_detach(struct xs_handle *h, uint32_t domid, const char *be,
		   const char *fe, bool force, const char *what)
{
	char path[192];
	int s;

	if (!kxl_readf_int(h, 0, "%s/state", be)) {
		fprintf(stderr, "kxl: domain %u has no %s\n", domid, what);
		return -ENOENT;
	}
	/* As libxl: offline, Closing; the frontend closes, the backend says
	 * Closed; then the directories go (and the backend its storage or
	 * TAP). */
	for (int tries = 0; tries < 5; tries++) {
		xs_transaction_t t = xs_transaction_start(h);

		snprintf(path, sizeof(path), "%s/online", be);
		xs_write(h, t, path, "0", 1);
		snprintf(path, sizeof(path), "%s/state", be);
		xs_write(h, t, path, "5", 1);
		if (xs_transaction_end(h, t, false) || errno != EAGAIN)
			break;
	}
	s = kxl_dev_wait_state(h, be, 1u << XenbusStateClosed, KXL_DEV_WAIT_S);
	if (s && s != XenbusStateClosed && !force) {
		fprintf(stderr,
			"kxl: domain %u did not release %s within %d s (still "
			"in use in the guest?); use -f to remove it anyway\n",
			domid, what, KXL_DEV_WAIT_S);
		return -EBUSY;
	}
	remove_dirs(h, be, fe);
	return 0;
}
