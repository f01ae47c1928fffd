/* bench/xs-bench.c: xenstore operations per second and latency percentiles
 * over the daemon's Unix socket, through Debian's libxenstore, so that any
 * xenstored (kxend, Xen's C xenstored) is measured by the same client.
 *
 * For each operation kind and each client count, N threads each open their
 * own connection (xs_open with XS_OPEN_SOCKETONLY, socket from
 * XENSTORED_PATH), warm up, meet at a barrier and then repeat the operation
 * for a fixed time (-d) or a fixed count (-n):
 *
 *   read         xs_read of one existing node, shared by all clients
 *   write        xs_write of the client's own node, a new value each time
 *   directory    xs_directory of a node with 20 children
 *   transaction  xs_transaction_start, xs_read and xs_write of the client's
 *                own node, xs_transaction_end; an EAGAIN from the end is a
 *                retry of the whole round trip, counted, and its time is
 *                part of that round trip's latency
 *
 * Throughput is the sum over clients of (operations / that client's elapsed
 * time); latencies are over all operations of all clients.  Build:
 *   gcc -O2 -pthread -o xs-bench bench/xs-bench.c -lxenstore
 * bench/xenstore.sh builds and runs it; `xs-bench -h` lists the options.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#define XSB_DIR_CHILDREN 20
#define XSB_MAX_CLIENTS 256
#define XSB_WARMUP_OPS 50
#define XSB_MAX_RETRIES 1000

enum xsb_kind { XSB_READ, XSB_WRITE, XSB_DIRECTORY, XSB_TRANSACTION, XSB_NR };

static const char *const xsb_kind_names[XSB_NR] = {
    [XSB_READ] = "read",
    [XSB_WRITE] = "write",
    [XSB_DIRECTORY] = "directory",
    [XSB_TRANSACTION] = "transaction",
};

struct xsb_opts {
	double seconds;	   /* per kind and client count, when ops == 0 */
	unsigned long ops; /* per client, overrides seconds */
	bool kinds[XSB_NR];
	unsigned clients[16];
	unsigned nr_clients;
	const char *base;  /* the benchmark's own subtree */
	const char *label; /* names the daemon in the output */
	bool raw;	   /* one machine-readable line per result */
};

/* One client thread: its connection, its nodes and what it measured. */
struct xsb_client {
	const struct xsb_opts *opts;
	enum xsb_kind kind;
	unsigned id;
	pthread_barrier_t *barrier;
	char own_path[256]; /* written by write and transaction */
	char read_path[256];
	char dir_path[256];
	uint32_t *lat_ns; /* one latency per operation, saturated */
	size_t nr, cap;
	unsigned long retries;
	double elapsed; /* seconds from the barrier to the last op */
	int err;	/* first errno, 0 if none */
	const char *err_what;
};

static double xsb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int xsb_record(struct xsb_client *c, double start, double end)
{
	double ns = (end - start) * 1e9;

	if (c->nr == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		uint32_t *p = realloc(c->lat_ns, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->lat_ns = p;
		c->cap = cap;
	}
	c->lat_ns[c->nr++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	return 0;
}

static int xsb_fail(struct xsb_client *c, const char *what)
{
	c->err = errno ? errno : EIO;
	c->err_what = what;
	return -c->err;
}

/* One operation of the client's kind; seq makes every written value new. */
static int xsb_op(struct xsb_client *c, struct xs_handle *h, unsigned long seq)
{
	char val[32];
	unsigned int len, num, tries;
	void *p;
	xs_transaction_t t;

	snprintf(val, sizeof(val), "%u-%lu", c->id, seq);
	switch (c->kind) {
	case XSB_READ:
		p = xs_read(h, XBT_NULL, c->read_path, &len);
		if (!p)
			return xsb_fail(c, "xs_read");
		free(p);
		return 0;
	case XSB_WRITE:
		if (!xs_write(h, XBT_NULL, c->own_path, val, strlen(val)))
			return xsb_fail(c, "xs_write");
		return 0;
	case XSB_DIRECTORY:
		p = xs_directory(h, XBT_NULL, c->dir_path, &num);
		if (!p)
			return xsb_fail(c, "xs_directory");
		free(p);
		if (num != XSB_DIR_CHILDREN) {
			errno = EPROTO;
			return xsb_fail(c, "xs_directory: child count");
		}
		return 0;
	case XSB_TRANSACTION:
		for (tries = 0; tries < XSB_MAX_RETRIES; tries++) {
			t = xs_transaction_start(h);
			if (t == XBT_NULL)
				return xsb_fail(c, "xs_transaction_start");
			p = xs_read(h, t, c->own_path, &len);
			if (!p) {
				xsb_fail(c, "xs_read in transaction");
				xs_transaction_end(h, t, true);
				return -c->err;
			}
			free(p);
			if (!xs_write(h, t, c->own_path, val, strlen(val))) {
				xsb_fail(c, "xs_write in transaction");
				xs_transaction_end(h, t, true);
				return -c->err;
			}
			if (xs_transaction_end(h, t, false))
				return 0;
			if (errno != EAGAIN)
				return xsb_fail(c, "xs_transaction_end");
			c->retries++;
		}
		errno = EAGAIN;
		return xsb_fail(c, "xs_transaction_end: too many retries");
	default:
		errno = EINVAL;
		return xsb_fail(c, "unknown kind");
	}
}

static void *xsb_client_main(void *arg)
{
	struct xsb_client *c = arg;
	const struct xsb_opts *o = c->opts;
	struct xs_handle *h = xs_open(XS_OPEN_SOCKETONLY);
	unsigned long seq = 0, i;
	double start, deadline, t0, t1;

	if (!h)
		xsb_fail(c, "xs_open");
	for (i = 0; h && !c->err && i < XSB_WARMUP_OPS; i++)
		xsb_op(c, h, seq++);
	c->retries = 0;
	/* Everyone waits here, also a client that failed, or the rest hang. */
	pthread_barrier_wait(c->barrier);
	start = xsb_now();
	deadline = start + o->seconds;
	t1 = start;
	for (i = 0; h && !c->err; i++) {
		if (o->ops ? i >= o->ops : t1 >= deadline)
			break;
		t0 = xsb_now();
		if (xsb_op(c, h, seq++) < 0)
			break;
		t1 = xsb_now();
		if (xsb_record(c, t0, t1) < 0) {
			errno = ENOMEM;
			xsb_fail(c, "latency buffer");
		}
	}
	c->elapsed = t1 - start;
	if (h)
		xs_close(h);
	return NULL;
}

static int xsb_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n), in microseconds. */
static double xsb_pct(const uint32_t *v, size_t n, double pct)
{
	size_t rank = (size_t)(pct / 100.0 * n + 0.999999);

	if (!n)
		return 0;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1] / 1000.0;
}

static void xsb_path(char *buf, size_t size, const char *base, const char *fmt,
		     unsigned id)
{
	int n = snprintf(buf, size, "%s/", base);

	snprintf(buf + n, size - n, fmt, id);
}

/* Runs one kind with n clients and prints its line; 0 or -errno. */
static int xsb_run(const struct xsb_opts *o, enum xsb_kind kind, unsigned n)
{
	struct xsb_client *cl = calloc(n, sizeof(*cl));
	pthread_t *th = calloc(n, sizeof(*th));
	pthread_barrier_t barrier;
	uint32_t *all = NULL;
	size_t total = 0, k;
	unsigned i, started = 0;
	unsigned long retries = 0;
	double rate = 0;
	int rc = 0;

	if (!cl || !th) {
		rc = -ENOMEM;
		goto out;
	}
	pthread_barrier_init(&barrier, NULL, n);
	for (i = 0; i < n; i++) {
		cl[i].opts = o;
		cl[i].kind = kind;
		cl[i].id = i;
		cl[i].barrier = &barrier;
		xsb_path(cl[i].own_path, sizeof(cl[i].own_path), o->base, "c%u",
			 i);
		xsb_path(cl[i].read_path, sizeof(cl[i].read_path), o->base,
			 "read", 0);
		xsb_path(cl[i].dir_path, sizeof(cl[i].dir_path), o->base, "dir",
			 0);
	}
	for (i = 0; i < n; i++) {
		rc = -pthread_create(&th[i], NULL, xsb_client_main, &cl[i]);
		if (rc) {
			/* Threads already waiting at the barrier cannot be
			 * released; this only happens without resources. */
			fprintf(stderr, "xs-bench: pthread_create: %s\n",
				strerror(-rc));
			exit(EXIT_FAILURE);
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&barrier);

	for (i = 0; i < n; i++) {
		if (cl[i].err && !rc) {
			fprintf(stderr,
				"xs-bench: %s, %u clients, client %u: "
				"%s: %s\n",
				xsb_kind_names[kind], n, i, cl[i].err_what,
				strerror(cl[i].err));
			rc = -cl[i].err;
		}
		total += cl[i].nr;
		retries += cl[i].retries;
		if (cl[i].elapsed > 0)
			rate += cl[i].nr / cl[i].elapsed;
	}
	if (rc)
		goto out;
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0, k = 0; i < n; i++) {
		memcpy(all + k, cl[i].lat_ns, cl[i].nr * sizeof(*all));
		k += cl[i].nr;
	}
	qsort(all, total, sizeof(*all), xsb_cmp_u32);
	if (o->raw)
		printf("xsb %s %s %u %.0f %.1f %.1f %.1f %.1f %lu %zu\n",
		       o->label, xsb_kind_names[kind], n, rate,
		       xsb_pct(all, total, 50), xsb_pct(all, total, 90),
		       xsb_pct(all, total, 99), xsb_pct(all, total, 100),
		       retries, total);
	else
		printf("%-12s %7u %10.0f %8.1f %8.1f %8.1f %9.1f %8lu\n",
		       xsb_kind_names[kind], n, rate, xsb_pct(all, total, 50),
		       xsb_pct(all, total, 90), xsb_pct(all, total, 99),
		       xsb_pct(all, total, 100), retries);
	fflush(stdout);
out:
	for (i = 0; cl && i < n; i++)
		free(cl[i].lat_ns);
	free(all);
	free(cl);
	free(th);
	return rc;
}

/* Creates base/read, base/dir/e00..e19 and base/c0..c<max-1>. */
static int xsb_setup(struct xs_handle *h, const struct xsb_opts *o,
		     unsigned max_clients)
{
	static const char value[] = "xs-bench-value-0123456789abcdef";
	char path[256];
	unsigned i;

	xs_rm(h, XBT_NULL, o->base);
	xsb_path(path, sizeof(path), o->base, "read", 0);
	if (!xs_write(h, XBT_NULL, path, value, strlen(value)))
		return -errno;
	for (i = 0; i < XSB_DIR_CHILDREN; i++) {
		xsb_path(path, sizeof(path), o->base, "dir/e%02u", i);
		if (!xs_write(h, XBT_NULL, path, "x", 1))
			return -errno;
	}
	for (i = 0; i < max_clients; i++) {
		xsb_path(path, sizeof(path), o->base, "c%u", i);
		if (!xs_write(h, XBT_NULL, path, "0", 1))
			return -errno;
	}
	return 0;
}

static void xsb_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: xs-bench [-c CLIENTS[,CLIENTS...]] [-d SECONDS | -n OPS]\n"
	    "                [-k KIND[,KIND...]] [-b BASE] [-l LABEL] [-r]\n"
	    "       xs-bench -P [-b BASE]\n"
	    "Measures xenstore operations on the socket named by "
	    "XENSTORED_PATH.\n"
	    "  -c  client counts, each client its own connection and "
	    "thread (1,16)\n"
	    "  -d  seconds per kind and client count (1)\n"
	    "  -n  operations per client instead of a duration\n"
	    "  -k  kinds: read, write, directory, transaction (all)\n"
	    "  -b  subtree the benchmark creates and removes "
	    "(/xs-bench-<pid>)\n"
	    "  -l  the daemon's name in the output (xenstored)\n"
	    "  -r  raw output: 'xsb LABEL KIND CLIENTS OPS/S P50 P90 P99 "
	    "MAX RETRIES OPS'\n"
	    "      (latencies in microseconds)\n"
	    "  -P  probe: write, read back and remove one node, exit "
	    "0 if that worked\n");
}

static int xsb_parse_kinds(struct xsb_opts *o, char *arg)
{
	char *tok, *save = NULL;
	int k;

	memset(o->kinds, 0, sizeof(o->kinds));
	for (tok = strtok_r(arg, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < XSB_NR; k++)
			if (!strcmp(tok, xsb_kind_names[k]))
				break;
		if (k == XSB_NR)
			return -EINVAL;
		o->kinds[k] = true;
	}
	return 0;
}

static int xsb_parse_clients(struct xsb_opts *o, char *arg)
{
	char *tok, *save = NULL, *end;
	unsigned long v;

	o->nr_clients = 0;
	for (tok = strtok_r(arg, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		v = strtoul(tok, &end, 10);
		if (*end || !v || v > XSB_MAX_CLIENTS ||
		    o->nr_clients == sizeof(o->clients) / sizeof(o->clients[0]))
			return -EINVAL;
		o->clients[o->nr_clients++] = v;
	}
	return o->nr_clients ? 0 : -EINVAL;
}

/* -P: is something answering on the socket that stores what it is told? */
static int xsb_probe(const struct xsb_opts *o)
{
	struct xs_handle *h = xs_open(XS_OPEN_SOCKETONLY);
	char path[256];
	unsigned int len = 0;
	char *v;
	int ok;

	if (!h) {
		fprintf(stderr, "xs-bench: probe: xs_open: %s\n",
			strerror(errno));
		return EXIT_FAILURE;
	}
	xsb_path(path, sizeof(path), o->base, "probe", 0);
	if (!xs_write(h, XBT_NULL, path, "ok", 2)) {
		fprintf(stderr, "xs-bench: probe: xs_write %s: %s\n", path,
			strerror(errno));
		xs_close(h);
		return EXIT_FAILURE;
	}
	v = xs_read(h, XBT_NULL, path, &len);
	ok = v && len == 2 && !memcmp(v, "ok", 2);
	if (!ok)
		fprintf(stderr, "xs-bench: probe: read back %s: %s\n", path,
			v ? "wrong value" : strerror(errno));
	free(v);
	xs_rm(h, XBT_NULL, o->base);
	xs_close(h);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	struct xsb_opts o = {.seconds = 1.0, .label = "xenstored"};
	char base[64], *end;
	struct xs_handle *h;
	unsigned i, max_clients = 0;
	bool probe = false;
	int opt, k, rc = 0;

	for (k = 0; k < XSB_NR; k++)
		o.kinds[k] = true;
	o.clients[0] = 1;
	o.clients[1] = 16;
	o.nr_clients = 2;
	snprintf(base, sizeof(base), "/xs-bench-%ld", (long)getpid());
	o.base = base;
	while ((opt = getopt(argc, argv, "b:c:d:hk:l:n:Pr")) != -1) {
		switch (opt) {
		case 'b':
			o.base = optarg;
			break;
		case 'c':
			if (xsb_parse_clients(&o, optarg) < 0)
				goto usage;
			break;
		case 'd':
			o.seconds = strtod(optarg, &end);
			if (*end || !(o.seconds > 0))
				goto usage;
			break;
		case 'h':
			xsb_usage(stdout);
			return EXIT_SUCCESS;
		case 'k':
			if (xsb_parse_kinds(&o, optarg) < 0)
				goto usage;
			break;
		case 'l':
			o.label = optarg;
			break;
		case 'n':
			o.ops = strtoul(optarg, &end, 10);
			if (*end || !o.ops)
				goto usage;
			break;
		case 'P':
			probe = true;
			break;
		case 'r':
			o.raw = true;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || strlen(o.base) > 200 || o.base[0] != '/')
		goto usage;
	/* A daemon that goes away must give errors, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (probe)
		return xsb_probe(&o);

	for (i = 0; i < o.nr_clients; i++)
		if (o.clients[i] > max_clients)
			max_clients = o.clients[i];
	h = xs_open(XS_OPEN_SOCKETONLY);
	if (!h) {
		fprintf(stderr, "xs-bench: xs_open (XENSTORED_PATH=%s): %s\n",
			getenv("XENSTORED_PATH") ? getenv("XENSTORED_PATH")
						 : "unset",
			strerror(errno));
		return EXIT_FAILURE;
	}
	rc = xsb_setup(h, &o, max_clients);
	if (rc < 0) {
		fprintf(stderr, "xs-bench: creating %s: %s\n", o.base,
			strerror(-rc));
		xs_close(h);
		return EXIT_FAILURE;
	}
	if (!o.raw) {
		printf("xs-bench %s on %s, ", o.label,
		       getenv("XENSTORED_PATH") ? getenv("XENSTORED_PATH")
						: "the default socket");
		if (o.ops)
			printf("%lu operations per client\n", o.ops);
		else
			printf("%.1f s per kind and client count\n", o.seconds);
		printf("%-12s %7s %10s %8s %8s %8s %9s %8s\n", "kind",
		       "clients", "ops/s", "p50 us", "p90 us", "p99 us",
		       "max us", "retries");
	}
	for (k = 0; k < XSB_NR && !rc; k++)
		for (i = 0; i < o.nr_clients && !rc && o.kinds[k]; i++)
			rc = xsb_run(&o, k, o.clients[i]);
	if (!xs_rm(h, XBT_NULL, o.base) && !rc)
		fprintf(stderr, "xs-bench: removing %s: %s\n", o.base,
			strerror(errno));
	xs_close(h);
	return rc ? EXIT_FAILURE : EXIT_SUCCESS;
usage:
	xsb_usage(stderr);
	return EXIT_FAILURE;
}
