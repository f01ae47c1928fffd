/* A libxenstore client for the host tests (tests/host/test_xs_*.sh), run
 * against a private kxend through $XENSTORED_PATH.
 *
 *   xs_client domain-path ID   print xs_get_domain_path(ID)
 *   xs_client txn              two overlapping transactions on one node:
 *                              one commits, the other gets EAGAIN
 *   xs_client watch            xs_watch / xs_read_watch: path and token
 *   xs_client bench SECONDS    write+read loop on one key; prints ops/s
 *   xs_client fill PREFIX N    writes PREFIX/d<i/100>/n<i> = i for i < N, in
 *                              transactions of 500 nodes
 *   xs_client special          INTRODUCE without descriptors, RELEASE of an
 *                              unknown domain, IS_DOMAIN_INTRODUCED
 *   xs_client control CMD ARGS CONTROL request, as xenstore-control sends it
 *                              (Debian's xenstore-control is only a wrapper
 *                              needing the Xen utilities)
 *
 * Checks print "PASS: name" or "FAIL: name: reason" (tests/host/lib.sh). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

static int failures;

static void result(bool ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS: %s\n", name);
		return;
	}
	failures++;
	printf("FAIL: %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static struct xs_handle *open_or_die(void)
{
	struct xs_handle *h = xs_open(0);

	if (!h) {
		printf("FAIL: xs_open: %s\n", strerror(errno));
		exit(1);
	}
	return h;
}

static char *read_str(struct xs_handle *h, xs_transaction_t t, const char *p)
{
	unsigned int len;

	return xs_read(h, t, p, &len);
}

static int cmd_txn(void)
{
	struct xs_handle *a = open_or_die(), *b = open_or_die();
	xs_transaction_t t1, t2;
	char *v1, *v2, *v;
	bool ok1, ok2;
	int err2;

	xs_write(a, XBT_NULL, "/txn/node", "0", 1);
	t1 = xs_transaction_start(a);
	t2 = xs_transaction_start(b);
	result(t1 != XBT_NULL && t2 != XBT_NULL,
	       "libxenstore: two transactions start", "%s", strerror(errno));
	v1 = read_str(a, t1, "/txn/node");
	v2 = read_str(b, t2, "/txn/node");
	result(v1 && v2 && !strcmp(v1, "0") && !strcmp(v2, "0"),
	       "libxenstore: both read the node inside their transaction",
	       "%s %s", v1 ? v1 : "(null)", v2 ? v2 : "(null)");
	xs_write(a, t1, "/txn/node", "from-1", 6);
	xs_write(b, t2, "/txn/node", "from-2", 6);
	v = read_str(a, XBT_NULL, "/txn/node");
	result(v && !strcmp(v, "0"),
	       "libxenstore: uncommitted writes are invisible outside",
	       "read %s", v ? v : "(null)");
	free(v);
	ok1 = xs_transaction_end(a, t1, false);
	ok2 = xs_transaction_end(b, t2, false);
	err2 = errno;
	result(ok1, "libxenstore: the first transaction commits", "%s",
	       strerror(errno));
	result(!ok2 && err2 == EAGAIN,
	       "libxenstore: the second transaction gets EAGAIN",
	       "end returned %d, errno %s", ok2, strerror(err2));
	v = read_str(a, XBT_NULL, "/txn/node");
	result(v && !strcmp(v, "from-1"),
	       "libxenstore: the committed value is the first one", "read %s",
	       v ? v : "(null)");
	free(v);
	/* The usual retry loop then succeeds. */
	do {
		t2 = xs_transaction_start(b);
		v = read_str(b, t2, "/txn/node");
		xs_write(b, t2, "/txn/node", "retried", 7);
		free(v);
	} while (!xs_transaction_end(b, t2, false) && errno == EAGAIN);
	v = read_str(a, XBT_NULL, "/txn/node");
	result(v && !strcmp(v, "retried"),
	       "libxenstore: a retried transaction commits", "read %s",
	       v ? v : "(null)");
	free(v);
	/* An aborted transaction leaves nothing. */
	t1 = xs_transaction_start(a);
	xs_write(a, t1, "/txn/aborted", "x", 1);
	xs_transaction_end(a, t1, true);
	v = read_str(a, XBT_NULL, "/txn/aborted");
	result(!v && errno == ENOENT,
	       "libxenstore: an aborted transaction leaves nothing", "read %s",
	       v ? v : "(null)");
	free(v1);
	free(v2);
	xs_close(a);
	xs_close(b);
	return failures ? 1 : 0;
}

/* The next watch event within ms milliseconds, or NULL. */
static char **next_event(struct xs_handle *h, int ms, unsigned int *n)
{
	struct pollfd p = {xs_fileno(h), POLLIN, 0};

	if (poll(&p, 1, ms) != 1)
		return NULL;
	return xs_read_watch(h, n);
}

static int cmd_watch(void)
{
	struct xs_handle *w = open_or_die(), *o = open_or_die();
	char **vec;
	unsigned int n;

	xs_rm(o, XBT_NULL, "/watched");
	result(xs_watch(w, "/watched", "tok-42"), "libxenstore: xs_watch", "%s",
	       strerror(errno));
	vec = next_event(w, 2000, &n);
	result(
	    vec && !strcmp(vec[XS_WATCH_PATH], "/watched") &&
		!strcmp(vec[XS_WATCH_TOKEN], "tok-42"),
	    "libxenstore: the initial event carries the watched path and token",
	    "%s %s", vec ? vec[0] : "(none)", vec ? vec[1] : "");
	free(vec);
	xs_write(o, XBT_NULL, "/watched/child/leaf", "1", 1);
	vec = next_event(w, 2000, &n);
	result(vec && !strcmp(vec[XS_WATCH_PATH], "/watched/child/leaf") &&
		   !strcmp(vec[XS_WATCH_TOKEN], "tok-42"),
	       "libxenstore: a write below fires with its path and the token",
	       "%s %s", vec ? vec[0] : "(none)", vec ? vec[1] : "");
	free(vec);
	xs_write(o, XBT_NULL, "/unrelated", "1", 1);
	vec = next_event(w, 300, &n);
	result(!vec, "libxenstore: a write elsewhere does not fire", "got %s",
	       vec ? vec[0] : "");
	free(vec);
	/* A change in another client's transaction fires at its commit. */
	xs_transaction_t t = xs_transaction_start(o);

	xs_write(o, t, "/watched/in-txn", "1", 1);
	vec = next_event(w, 300, &n);
	result(!vec, "libxenstore: no event before the commit", "got %s",
	       vec ? vec[0] : "");
	free(vec);
	xs_transaction_end(o, t, false);
	vec = next_event(w, 2000, &n);
	result(vec && !strcmp(vec[XS_WATCH_PATH], "/watched/in-txn"),
	       "libxenstore: the event comes with the commit", "%s",
	       vec ? vec[0] : "(none)");
	free(vec);
	result(xs_unwatch(w, "/watched", "tok-42"), "libxenstore: xs_unwatch",
	       "%s", strerror(errno));
	xs_close(w);
	xs_close(o);
	return failures ? 1 : 0;
}

static int cmd_special(void)
{
	struct xs_handle *h = open_or_die();
	char **vec;
	unsigned int n;
	bool ok;

	xs_watch(h, "@introduceDomain", "intro");
	xs_watch(h, "@releaseDomain", "release");
	vec = next_event(h, 2000, &n);
	free(vec);
	vec = next_event(h, 2000, &n);
	free(vec);
	ok = xs_introduce_domain(h, 9, 1234, 3);
	result(!ok && errno == EINVAL,
	       "INTRODUCE without the descriptors is refused (EINVAL)",
	       "ok=%d %s", ok, strerror(errno));
	result(!xs_release_domain(h, 9) && errno == ENOENT,
	       "RELEASE of an unknown domain: ENOENT", "%s", strerror(errno));
	result(xs_is_domain_introduced(h, 0), "IS_DOMAIN_INTRODUCED 0: yes",
	       "no");
	result(!xs_is_domain_introduced(h, 9), "IS_DOMAIN_INTRODUCED 9: no",
	       "yes");
	xs_close(h);
	return failures ? 1 : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_bench(double secs)
{
	struct xs_handle *h = open_or_die();
	double t0 = now_s(), t;
	unsigned long reads = 0, writes = 0;
	unsigned int len;
	char val[32];
	char *v;

	do {
		int n = snprintf(val, sizeof(val), "%lu", writes);

		if (!xs_write(h, XBT_NULL, "/bench/key", val, (unsigned)n))
			return 1;
		writes++;
		v = xs_read(h, XBT_NULL, "/bench/key", &len);
		if (!v)
			return 1;
		free(v);
		reads++;
		t = now_s() - t0;
	} while (t < secs);
	t0 = now_s();
	unsigned long r2 = 0;

	do {
		v = xs_read(h, XBT_NULL, "/bench/key", &len);
		free(v);
		r2++;
	} while (now_s() - t0 < secs);
	printf("write+read: %.0f ops/s (%lu writes, %lu reads in %.2f s); "
	       "read only: %.0f ops/s\n",
	       (reads + writes) / t, writes, reads, t, r2 / (now_s() - t0));
	xs_close(h);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "domain-path")) {
		struct xs_handle *h = open_or_die();
		char *p = xs_get_domain_path(h, (unsigned)atoi(argv[2]));

		if (!p)
			return 1;
		printf("%s\n", p);
		free(p);
		xs_close(h);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "control")) {
		struct xs_handle *h = open_or_die();
		char par[4096];
		unsigned int len = 0;
		char *ret;
		int i;

		for (i = 3; i < argc; i++) {
			size_t l = strlen(argv[i]) + 1;

			if (len + l > sizeof(par))
				return 2;
			memcpy(par + len, argv[i], l);
			len += (unsigned int)l;
		}
		ret = xs_control_command(h, argv[2], par, len);
		if (!ret) {
			fprintf(stderr, "xs_client: control: %s\n",
				strerror(errno));
			return 1;
		}
		printf("%s", ret);
		if (len && !strcmp(ret, "OK"))
			printf("\n");
		free(ret);
		xs_close(h);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "fill")) {
		struct xs_handle *h = open_or_die();
		int i, n = atoi(argv[3]);
		xs_transaction_t t = XBT_NULL;
		char path[256], val[16];

		for (i = 0; i < n; i++) {
			if (i % 500 == 0)
				t = xs_transaction_start(h);
			snprintf(path, sizeof(path), "%s/d%d/n%d", argv[2],
				 i / 100, i);
			snprintf(val, sizeof(val), "%d", i);
			if (!xs_write(h, t, path, val, (unsigned)strlen(val)))
				return 1;
			if (i % 500 == 499 || i == n - 1)
				if (!xs_transaction_end(h, t, false))
					return 1;
		}
		xs_close(h);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "txn"))
		return cmd_txn();
	if (argc == 2 && !strcmp(argv[1], "watch"))
		return cmd_watch();
	if (argc == 2 && !strcmp(argv[1], "special"))
		return cmd_special();
	if (argc == 3 && !strcmp(argv[1], "bench"))
		return cmd_bench(atof(argv[2]));
	fprintf(stderr,
		"usage: xs_client domain-path ID | txn | watch | special | "
		"bench SECONDS | control CMD [ARG...]\n");
	return 2;
}
