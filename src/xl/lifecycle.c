/* kxl shutdown, reboot, pause, unpause, rename and sysrq, as xl does them:
 * requests to the guest through its xenstore control/ directory, and to
 * the domain process through its control channel (dominfo.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "xl/dominfo.h"
#include "xl/kxl.h"

#define LC_ACK_TIMEOUT_S 60  /* libxl's wait for the guest's ack */
#define LC_GONE_TIMEOUT_S 60 /* a domain process tearing down */
#define LC_REBOOT_TIMEOUT_S 60

static int lc_find(const char *arg, struct kxl_dom *d)
{
	if (reg_find(arg, d) == 0)
		return 0;
	fprintf(stderr, "kxl: domain '%s' does not exist\n", arg);
	return -ENOENT;
}

static void lc_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ---- shutdown and reboot ---- */

struct lc_target {
	struct kxl_dom dom;
	int fd;		 /* wait-shutdown connection, -1 if none */
	long long boots; /* boots when the request was made */
};

/* As libxl__domain_pvcontrol: write control/shutdown, then wait for the
 * guest to acknowledge by clearing it (Linux's xenbus shutdown watch
 * does).  libxl assumes a PVH guest has PV control, so does kxl. */
static int lc_pvcontrol(struct xs_handle *xs, uint32_t domid, const char *cmd)
{
	char path[64];
	time_t deadline = time(NULL) + LC_ACK_TIMEOUT_S;

	snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown",
		 domid);
	if (!xs_write(xs, XBT_NULL, path, cmd, strlen(cmd))) {
		fprintf(stderr, "kxl: cannot write %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	while (time(NULL) < deadline) {
		unsigned int len;
		char *v = xs_read(xs, XBT_NULL, path, &len);
		bool acked = !v || !*v;

		free(v);
		if (acked)
			return 0;
		lc_sleep_ms(50);
	}
	fprintf(stderr, "kxl: guest didn't acknowledge control request\n");
	return -ETIMEDOUT;
}

/* Registers a wait-shutdown on t's control channel before the request is
 * made, so that no shutdown can slip by. */
static int lc_wait_open(struct lc_target *t)
{
	char line[256];
	int ret;

	t->fd = domctl_connect(t->dom.domid);
	if (t->fd < 0) {
		fprintf(stderr, "kxl: domain %u: no control channel: %s\n",
			t->dom.domid, strerror(-t->fd));
		return t->fd;
	}
	ret = domctl_send(t->fd, "wait-shutdown");
	if (!ret)
		ret = domctl_recv(t->fd, line, sizeof(line), 5000);
	if (ret) {
		fprintf(stderr, "kxl: domain %u: cannot wait for it: %s\n",
			t->dom.domid, ret < 0 ? strerror(-ret) : line);
		close(t->fd);
		t->fd = -1;
		return -EIO;
	}
	ctl_get_num(line, "boots", &t->boots);
	return 0;
}

/* The domain's registry entry and process are gone. */
static bool lc_gone(const struct kxl_dom *dom)
{
	struct kxl_dom now;
	char id[16];

	snprintf(id, sizeof(id), "%u", dom->domid);
	return reg_find(id, &now) < 0 || now.pid != dom->pid;
}

static bool lc_wait_gone(const struct kxl_dom *dom)
{
	time_t deadline = time(NULL) + LC_GONE_TIMEOUT_S;

	while (!lc_gone(dom)) {
		if (time(NULL) >= deadline)
			return false;
		lc_sleep_ms(100);
	}
	return true;
}

/* After a reboot: the domain process has booted the guest again. */
static bool lc_wait_reboot(const struct lc_target *t)
{
	time_t deadline = time(NULL) + LC_REBOOT_TIMEOUT_S;
	char line[CTL_LINE_MAX];
	long long boots;

	while (time(NULL) < deadline && !lc_gone(&t->dom)) {
		if (domctl_request(t->dom.domid, "info", line, sizeof(line),
				   1000) == 0 &&
		    ctl_get_num(line, "boots", &boots) == 0 && boots > t->boots)
			return true;
		lc_sleep_ms(100);
	}
	return false;
}

/* xl's wait_for_domain_deaths, kxl's way: each domain's wait-shutdown
 * connection says when it shut down and what it will do about it. */
static int lc_wait_all(struct lc_target *t, int n, bool reboot)
{
	int ret = EXIT_SUCCESS;

	fprintf(stderr, "Waiting for %d domains\n", n);
	for (int i = 0; i < n; i++) {
		char line[256], action[32] = "";
		long long reason = -1;

		if (t[i].fd < 0)
			continue;
		if (domctl_recv(t[i].fd, line, sizeof(line), -1) != 0 ||
		    ctl_get_num(line, "reason", &reason) < 0) {
			close(t[i].fd);
			lc_wait_gone(&t[i].dom);
			fprintf(stderr, "Domain %u has been destroyed\n",
				t[i].dom.domid);
			continue;
		}
		close(t[i].fd);
		ctl_get(line, "action", action, sizeof(action));
		fprintf(stderr,
			"Domain %u has been shut down, reason code %lld\n",
			t[i].dom.domid, reason);
		if (strcmp(action, "preserve") == 0)
			continue;
		if (strstr(action, "restart")) {
			if (!lc_wait_reboot(&t[i])) {
				fprintf(stderr,
					"kxl: domain %u did not come "
					"back\n",
					t[i].dom.domid);
				ret = EXIT_FAILURE;
			} else if (!reboot) {
				fprintf(stderr,
					"Domain %u is running again "
					"(its on_poweroff is %s)\n",
					t[i].dom.domid, action);
			}
			continue;
		}
		if (!lc_wait_gone(&t[i].dom)) {
			fprintf(stderr, "kxl: domain %u is still there\n",
				t[i].dom.domid);
			ret = EXIT_FAILURE;
		}
	}
	return ret;
}

static int main_shutdown_or_reboot(bool reboot, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", 0, NULL, 'a'},
	    {"wait", 0, NULL, 'w'},
	    {"help", 0, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct kxl_dom all[256];
	static struct lc_target t[256];
	const char *what = reboot ? "reboot" : "shutdown";
	bool wait = false, every = false;
	struct xs_handle *xs;
	int c, n = 0, ret = EXIT_SUCCESS;

	optind = 1;
	while ((c = getopt_long(argc, argv, "awFh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			every = true;
			break;
		case 'w':
			wait = true;
			break;
		case 'F':
			break; /* PVH: PV control is assumed, as libxl does */
		default:
			fprintf(stderr,
				"Usage: kxl %s [-w] [-a] [-F] "
				"<-a|Domain>\n",
				what);
			return c == 'h' ? EXIT_SUCCESS : EXIT_FAILURE;
		}
	}
	if (optind >= argc && !every) {
		fprintf(stderr, "You must specify -a or a domain id.\n\n");
		return EXIT_FAILURE;
	}
	if (every) {
		int k = reg_list(all, 256);

		for (int i = 0; i < k; i++)
			if (all[i].pid > 0)
				t[n++].dom = all[i];
	} else if (lc_find(argv[optind], &t[n++].dom) < 0) {
		return EXIT_FAILURE;
	}
	if (n == 0) { /* -a with no guest: nothing to do, as xl */
		if (wait)
			fprintf(stderr, "Waiting for 0 domains\n");
		return EXIT_SUCCESS;
	}
	xs = kxl_xs_open();
	if (!xs)
		return EXIT_FAILURE;
	for (int i = 0; i < n; i++) {
		t[i].fd = -1;
		if (wait && lc_wait_open(&t[i]) < 0) {
			ret = EXIT_FAILURE;
			continue;
		}
		fprintf(stderr, "%s domain %u\n",
			reboot ? "Rebooting" : "Shutting down", t[i].dom.domid);
		if (lc_pvcontrol(xs, t[i].dom.domid,
				 reboot ? "reboot" : "poweroff") < 0) {
			fprintf(stderr, "%s failed\n", what);
			if (t[i].fd >= 0)
				close(t[i].fd);
			t[i].fd = -1;
			ret = EXIT_FAILURE;
		}
	}
	xs_close(xs);
	if (wait && lc_wait_all(t, n, reboot) != EXIT_SUCCESS)
		ret = EXIT_FAILURE;
	return ret;
}

int main_shutdown(int argc, char **argv)
{
	return main_shutdown_or_reboot(false, argc, argv);
}

int main_reboot(int argc, char **argv)
{
	return main_shutdown_or_reboot(true, argc, argv);
}

/* ---- pause, unpause ---- */

static int lc_simple(int argc, char **argv, const char *req)
{
	char line[256];
	struct kxl_dom d;
	int ret;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "Usage: kxl %s <Domain>\n", req);
		return EXIT_FAILURE;
	}
	if (lc_find(argv[1], &d) < 0)
		return EXIT_FAILURE;
	ret = domctl_request(d.domid, req, line, sizeof(line), 5000);
	if (ret) {
		fprintf(stderr, "kxl: %s domain %u: %s\n", req, d.domid,
			ret < 0 ? strerror(-ret) : domctl_error_text(line));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

int main_pause(int argc, char **argv)
{
	return lc_simple(argc, argv, "pause");
}

int main_unpause(int argc, char **argv)
{
	return lc_simple(argc, argv, "unpause");
}

/* ---- rename ---- */

/* /local/domain/<id>/name and /vm/<uuid>/name in one transaction, as
 * libxl__domain_rename. */
static int lc_store_rename(uint32_t domid, const char *name)
{
	struct xs_handle *xs = xs_open(0);
	char path[96], *vm = NULL;
	unsigned int len;
	int ret = 0;

	if (!xs)
		return 0; /* no store: the domain runs without one */
	for (int attempt = 0; attempt < 10; attempt++) {
		xs_transaction_t tx = xs_transaction_start(xs);

		if (!tx) {
			ret = -errno;
			break;
		}
		snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
		free(vm);
		vm = xs_read(xs, tx, path, &len);
		snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
		ret = xs_write(xs, tx, path, name, strlen(name)) ? 0 : -errno;
		if (!ret && vm) {
			snprintf(path, sizeof(path), "%.80s/name", vm);
			ret = xs_write(xs, tx, path, name, strlen(name))
				  ? 0
				  : -errno;
		}
		if (xs_transaction_end(xs, tx, ret != 0) || ret)
			break;
		if (errno != EAGAIN) {
			ret = -errno;
			break;
		}
	}
	free(vm);
	xs_close(xs);
	return ret;
}

int main_rename(int argc, char **argv)
{
	char line[256], req[128], old[64];
	struct kxl_dom d;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "Usage: kxl rename <Domain> <NewDomainName>\n");
		return EXIT_FAILURE;
	}
	if (lc_find(argv[1], &d) < 0)
		return EXIT_FAILURE;
	snprintf(old, sizeof(old), "%s", d.name);
	/* The registry first: under its lock, a duplicate is refused and
	 * no create can take the name meanwhile. */
	if (reg_rename(d.domid, argv[2]) < 0) {
		fprintf(stderr, "Can't rename domain '%s'.\n", argv[1]);
		return EXIT_FAILURE;
	}
	snprintf(req, sizeof(req), "rename %s", argv[2]);
	ret = domctl_request(d.domid, req, line, sizeof(line), 5000);
	if (ret) {
		fprintf(stderr, "kxl: domain %u: %s\n", d.domid,
			ret < 0 ? strerror(-ret) : domctl_error_text(line));
		reg_rename(d.domid, old);
		fprintf(stderr, "Can't rename domain '%s'.\n", argv[1]);
		return EXIT_FAILURE;
	}
	ret = lc_store_rename(d.domid, argv[2]);
	if (ret) {
		fprintf(stderr, "kxl: domain %u: xenstore: %s\n", d.domid,
			strerror(-ret));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

/* ---- sysrq ---- */

int main_sysrq(int argc, char **argv)
{
	struct kxl_dom d;
	struct xs_handle *xs;
	char path[64];
	bool ok;

	if (argc != 3) {
		fprintf(stderr, "Usage: kxl sysrq <Domain> <letter>\n");
		return EXIT_FAILURE;
	}
	if (lc_find(argv[1], &d) < 0)
		return EXIT_FAILURE;
	if (!argv[2][0] || argv[2][1]) {
		fprintf(stderr, "Invalid sysrq.\n\n");
		fprintf(stderr, "Usage: kxl sysrq <Domain> <letter>\n");
		return EXIT_FAILURE;
	}
	xs = kxl_xs_open();
	if (!xs)
		return EXIT_FAILURE;
	/* As libxl_send_sysrq: Linux's xenbus sysrq watch takes it. */
	snprintf(path, sizeof(path), "/local/domain/%u/control/sysrq", d.domid);
	ok = xs_write(xs, XBT_NULL, path, argv[2], 1);
	if (!ok)
		fprintf(stderr, "kxl: cannot write %s: %s\n", path,
			strerror(errno));
	xs_close(xs);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
