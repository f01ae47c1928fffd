/* kxend: kxen's xenstore daemon.  Serves the xenstore protocol on a Unix
 * socket for host clients (libxenstore, xenstore-utils, kxl) and on each
 * introduced guest's store ring, with its state persisted in a directory.
 *
 * usage: kxend [-F] [-v] [--socket PATH] [--state-dir DIR] [--pid-file F]
 *              [--quota NAME=VALUE]... */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "kxend.h"
#include "xenstore/client.h"

#define KXEND_DEFAULT_STATE_DIR "/var/lib/kxend"

/* --- event loop ---------------------------------------------------------- */

int kxend_watch_fd(struct kxend *k, struct kxend_fd *f, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = f};

	return epoll_ctl(k->ep, EPOLL_CTL_ADD, f->fd, &ev) ? -errno : 0;
}

int kxend_modify_fd(struct kxend *k, struct kxend_fd *f, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = f};

	return epoll_ctl(k->ep, EPOLL_CTL_MOD, f->fd, &ev) ? -errno : 0;
}

void kxend_unwatch_fd(struct kxend *k, struct kxend_fd *f)
{
	epoll_ctl(k->ep, EPOLL_CTL_DEL, f->fd, NULL);
}

void kxend_mark_dirty(struct kxend *k, struct kxend_client *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->dirty_next = k->dirty;
	k->dirty = c;
}

void kxend_undirty(struct kxend *k, struct kxend_client *c)
{
	struct kxend_client **pp;

	for (pp = &k->dirty; *pp; pp = &(*pp)->dirty_next)
		if (*pp == c) {
			*pp = c->dirty_next;
			break;
		}
	c->dirty = false;
}

/* After the ready events: sync the journal once for everything handled,
 * then let the replies out (rings take their next requests), then free the
 * clients that went away.  Work queued meanwhile (a ring with more
 * requests, events for other clients) is done in the next round, without
 * sleeping in between. */
static void kxend_round(struct kxend *k)
{
	struct kxend_client *c, *list;

	persist_sync(&k->persist, k->store);
	list = k->dirty;
	k->dirty = NULL;
	while ((c = list)) {
		list = c->dirty_next;
		c->dirty = false;
		if (c->dead)
			continue;
		if (c->kind == KXEND_SOCK)
			sock_flush(k, (struct kxend_sock *)c);
		else
			ring_service(k, (struct kxend_ring *)c);
	}
	sock_reap(k);
	ring_reap(k);
	persist_sync(&k->persist, k->store);
	k->busy = k->dirty != NULL;
}

/* --- glue between the wire layer and the transports ---------------------- */

static int kxend_introduce(void *opaque, struct xs_wire_conn *from,
			   uint32_t domid, uint64_t gfn, uint32_t port,
			   struct xs_wire_conn **ring)
{
	struct kxend *k = opaque;
	struct kxend_client *c = xs_wire_conn_owner(from);
	int fds[3], n, i;

	if (c->kind != KXEND_SOCK)
		return -EINVAL;
	n = sock_take_fds((struct kxend_sock *)c, fds, 3);
	if (n != 3) {
		for (i = 0; i < n && i < 3; i++)
			close(fds[i]);
		log_warnx("INTRODUCE of domain %u without its 3 descriptors "
			  "(got %d)",
			  domid, n);
		return -EINVAL;
	}
	return ring_create(k, domid, gfn, port, fds, ring);
}

static void kxend_drop(void *opaque, struct xs_wire_conn *wc)
{
	struct kxend *k = opaque;
	struct kxend_client *c = xs_wire_conn_owner(wc);

	if (c->kind != KXEND_RING)
		return;
	kxend_undirty(k, c);
	ring_free(k, (struct kxend_ring *)c);
}

static int kxend_control_log(void *opaque, bool on)
{
	struct kxend *k = opaque;

	k->trace = on;
	log_info("request tracing %s", on ? "on" : "off");
	return 0;
}

static void kxend_control_print(void *opaque, const char *text)
{
	log_info("%s", text);
}

/* CONTROL log on: one line per request (type, ids, first argument). */
static void kxend_request(void *opaque, struct xs_wire_conn *wc,
			  const struct xsd_sockmsg *hdr, const char *payload)
{
	struct kxend *k = opaque;
	size_t n;

	if (!k->trace)
		return;
	n = strnlen(payload, hdr->len);
	log_info("domain %u: %s req_id %u tx_id %u len %u: %.*s",
		 xs_conn_domid(xs_wire_conn_store(wc)),
		 xs_wire_type_name(hdr->type), hdr->req_id, hdr->tx_id,
		 hdr->len, (int)(n > 80 ? 80 : n), payload);
}

static void kxend_output(void *opaque, struct xs_wire_conn *wc)
{
	kxend_mark_dirty(opaque, xs_wire_conn_owner(wc));
}

static const struct xs_wire_ops kxend_wire_ops = {
    .introduce = kxend_introduce,
    .drop = kxend_drop,
    .control_log = kxend_control_log,
    .control_print = kxend_control_print,
    .request = kxend_request,
    .output = kxend_output,
};

static const struct xs_store_ops kxend_store_ops = {
    .watch_event = xs_wire_watch_event,
    .changed = persist_change,
};

/* --- start-up ------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: kxend [-F] [-v] [--socket PATH] [--state-dir DIR] "
	    "[--pid-file FILE]\n"
	    "             [--quota NAME=VALUE]...\n"
	    "  -F, --foreground   stay in the foreground, log to stderr\n"
	    "  -v, --verbose      debug logging\n"
	    "  --socket PATH      listen at PATH (default: $XENSTORED_PATH,\n"
	    "                     $XENSTORED_RUNDIR/socket or "
	    "/var/run/xenstored/socket)\n"
	    "  --state-dir DIR    persistent state "
	    "(default " KXEND_DEFAULT_STATE_DIR ")\n"
	    "  --pid-file FILE    write the daemon's pid there\n"
	    "  --quota NAME=VAL   nodes, watches, transactions, "
	    "outstanding,\n"
	    "                     transaction-nodes, node-size, path-max, "
	    "permissions\n");
}

static int kxend_set_quota(struct xs_store *s, const char *arg)
{
	static const struct {
		const char *name;
		size_t off;
	} q[] = {
	    {"nodes", offsetof(struct xs_quota, nodes)},
	    {"watches", offsetof(struct xs_quota, watches)},
	    {"transactions", offsetof(struct xs_quota, transactions)},
	    {"outstanding", offsetof(struct xs_quota, outstanding)},
	    {"transaction-nodes", offsetof(struct xs_quota, trans_nodes)},
	    {"node-size", offsetof(struct xs_quota, node_size)},
	    {"path-max", offsetof(struct xs_quota, path_max)},
	    {"permissions", offsetof(struct xs_quota, perms)},
	};
	const char *eq = strchr(arg, '=');
	char *end;
	long v;
	size_t i;

	if (!eq)
		return -EINVAL;
	v = strtol(eq + 1, &end, 10);
	if (*end || v < 1 || v > 1000000)
		return -EINVAL;
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		if (strlen(q[i].name) == (size_t)(eq - arg) &&
		    !strncmp(arg, q[i].name, (size_t)(eq - arg))) {
			*(int *)((char *)xs_store_quota(s) + q[i].off) = (int)v;
			return 0;
		}
	return -EINVAL;
}

/* Forks; the parent exits once the child says it is serving (a byte on
 * the pipe), so that starting kxend returns when it is ready. */
static int kxend_daemonize(void)
{
	int p[2], devnull;
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		fatal("pipe");
	pid = fork();
	if (pid < 0)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? EXIT_SUCCESS : EXIT_FAILURE);
	}
	close(p[0]);
	if (setsid() < 0)
		fatal("setsid");
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	return p[1];
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"foreground", no_argument, NULL, 'F'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"socket", required_argument, NULL, 's'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"quota", required_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *state_dir = KXEND_DEFAULT_STATE_DIR, *pid_file = NULL;
	char sockpath[108];
	struct epoll_event evs[64];
	struct kxend k;
	struct kxend_fd sig;
	bool foreground = false;
	int verbose = 0, o, n, i, ready_fd = -1;
	const char **quotas = NULL;
	int nquotas = 0;
	sigset_t mask;

	memset(&k, 0, sizeof(k));
	if (xs_client_default_path(sockpath, sizeof(sockpath)))
		sockpath[0] = '\0';
	while ((o = getopt_long(argc, argv, "Fvh", opts, NULL)) != -1) {
		switch (o) {
		case 'F':
			foreground = true;
			break;
		case 'v':
			verbose++;
			break;
		case 's':
			snprintf(sockpath, sizeof(sockpath), "%s", optarg);
			break;
		case 'd':
			state_dir = optarg;
			break;
		case 'p':
			pid_file = optarg;
			break;
		case 'q':
			quotas =
			    realloc(quotas, (nquotas + 1) * sizeof(*quotas));
			if (!quotas)
				return EXIT_FAILURE;
			quotas[nquotas++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind != argc || !sockpath[0]) {
		usage(stderr);
		return EXIT_FAILURE;
	}

	log_init("kxend", false);
	log_set_verbose(verbose);
	k.store = xs_store_new(&kxend_store_ops, &k.persist);
	k.wire = k.store ? xs_wire_new(k.store, &kxend_wire_ops, &k) : NULL;
	if (!k.wire)
		fatalx("out of memory");
	for (i = 0; i < nquotas; i++)
		if (kxend_set_quota(k.store, quotas[i]))
			fatalx("bad --quota %s", quotas[i]);
	free(quotas);

	if (!foreground)
		ready_fd = kxend_daemonize();
	log_init("kxend", !foreground);

	signal(SIGPIPE, SIG_IGN);
	if (ring_sigbus_init())
		fatal("sigaction(SIGBUS)");
	k.ep = epoll_create1(EPOLL_CLOEXEC);
	if (k.ep < 0)
		fatal("epoll_create1");
	if (persist_open(&k.persist, state_dir, k.store))
		fatalx("cannot use the state directory %s", state_dir);
	if (sock_listen(&k, sockpath))
		fatalx("cannot serve at %s", sockpath);
	k.socket_path = sockpath;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	sig.fn = NULL;
	if (sig.fd < 0 || kxend_watch_fd(&k, &sig, EPOLLIN))
		fatal("signalfd");

	if (pid_file) {
		FILE *f = fopen(pid_file, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f))
			fatal("cannot write %s", pid_file);
	}
	{
		uint32_t saved[8];
		size_t ns = xs_store_saved_domains(k.store, saved, 8);

		log_info("serving at %s, state in %s: %zu nodes, %zu domain(s) "
			 "to be re-introduced, loaded in %.1f ms",
			 sockpath, state_dir, xs_store_nodes(k.store), ns,
			 k.persist.load_ms);
	}
	if (ready_fd >= 0) {
		if (write(ready_fd, "", 1) != 1)
			fatal("cannot signal readiness");
		close(ready_fd);
	}

	while (!k.stop) {
		n = epoll_wait(k.ep, evs, 64, k.busy ? 0 : -1);
		if (n < 0 && errno != EINTR)
			fatal("epoll_wait");
		for (i = 0; i < n; i++) {
			struct kxend_fd *f = evs[i].data.ptr;

			if (f == &sig) {
				struct signalfd_siginfo si;

				while (read(sig.fd, &si, sizeof(si)) ==
				       sizeof(si))
					if (si.ssi_signo != SIGHUP)
						k.stop = true;
				continue;
			}
			f->fn(&k, f, evs[i].events);
		}
		kxend_round(&k);
	}

	log_info("exiting (%lu journal syncs, %lu compactions)",
		 k.persist.syncs, k.persist.compactions);
	persist_sync(&k.persist, k.store);
	sock_close_all(&k);
	ring_close_all(&k);
	close(k.listen.fd);
	unlink(sockpath);
	if (pid_file)
		unlink(pid_file);
	xs_wire_free(k.wire);
	xs_store_free(k.store);
	persist_close(&k.persist);
	close(sig.fd);
	close(k.ep);
	return EXIT_SUCCESS;
}
