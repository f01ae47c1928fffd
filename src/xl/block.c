/* kxl block-attach, block-detach, block-list: disks of running domains,
 * through xenstore as libxl does.  The toolstack writes (or, to detach,
 * closes) the device's directories; the domain process's backend
 * (src/backends/vbd.c) watches them and does the rest. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "xl/devnodes.h"
#include "xl/diskspec.h"
#include "xl/kxl.h"

#define BLOCK_WAIT_S 15

static char *xs_readf(struct xs_handle *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *xs_readf(struct xs_handle *h, const char *fmt, ...)
{
	char path[256];
	unsigned len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_read(h, XBT_NULL, path, &len);
}

static int xs_readf_int(struct xs_handle *h, int def, const char *path)
{
	char *v = xs_readf(h, "%s", path);
	int n = v ? atoi(v) : def;

	free(v);
	return n;
}

/* Rebuilds the diskspec of an attached vbd from its backend directory
 * (only what the conflict rule needs). */
static bool attached_spec(struct xs_handle *h, const char *be,
			  struct diskspec *d)
{
	char *params = xs_readf(h, "%s/params", be);
	char *mode = xs_readf(h, "%s/mode", be);
	char *dtype = xs_readf(h, "%s/device-type", be);
	char *vdev = xs_readf(h, "%s/dev", be);
	bool ok = params && mode;

	memset(d, 0, sizeof(*d));
	if (ok) {
		snprintf(d->target, sizeof(d->target), "%s", params);
		snprintf(d->vdev, sizeof(d->vdev), "%s", vdev ? vdev : "?");
		d->readonly = !strchr(mode, 'w');
		d->shared_write = strchr(mode, '!') != NULL;
		d->is_cdrom = dtype && !strcmp(dtype, "cdrom");
		d->format = DISKSPEC_FORMAT_RAW;
	}
	free(params);
	free(mode);
	free(dtype);
	free(vdev);
	return ok;
}

int kxl_disk_conflicts(struct xs_handle *h, uint32_t domid,
		       const struct diskspec *d)
{
	static const char dir[] = "/local/domain/0/backend/vbd";
	struct diskspec *other = malloc(sizeof(*other));
	char **doms, **devs, be[160], err[512];
	unsigned nd = 0, nv;
	int ret = 0;

	if (!other)
		return -ENOMEM;
	doms = xs_directory(h, XBT_NULL, dir, &nd);
	for (unsigned i = 0; i < nd && !ret; i++) {
		uint32_t id = (uint32_t)strtoul(doms[i], NULL, 10);
		char sub[96];

		snprintf(sub, sizeof(sub), "%s/%s", dir, doms[i]);
		nv = 0;
		devs = xs_directory(h, XBT_NULL, sub, &nv);
		for (unsigned j = 0; j < nv && !ret; j++) {
			snprintf(be, sizeof(be), "%s/%s", sub, devs[j]);
			if (!attached_spec(h, be, other))
				continue;
			other->vdev_number = (uint32_t)strtoul(devs[j], NULL, 10);
			ret = diskspec_conflict(other, d, id == domid, err,
						sizeof(err));
			if (ret)
				fprintf(stderr, "kxl: %s (in use by domain %u)\n",
					err, id);
		}
		free(devs);
	}
	free(doms);
	free(other);
	return ret;
}

struct w_txn {
	struct xs_handle *h;
	xs_transaction_t t;
};

static int w_write(void *arg, const char *path, const char *value)
{
	struct w_txn *w = arg;

	return xs_write(w->h, w->t, path, value, strlen(value)) ? 0 : -EIO;
}

static int w_perms(void *arg, const char *path, uint32_t owner, uint32_t reader)
{
	struct w_txn *w = arg;
	struct xs_permissions p[2] = {{.id = owner, .perms = XS_PERM_NONE},
				      {.id = reader, .perms = XS_PERM_READ}};

	return xs_set_permissions(w->h, w->t, path, p, 2) ? 0 : -EIO;
}

/* Waits until the backend's state is one of want (a bitmask of 1 << state)
 * or the directory goes; returns the last state seen, 0 when gone. */
static int wait_state(struct xs_handle *h, const char *dir, unsigned want,
		      int seconds)
{
	char path[192];
	int s = 0;

	snprintf(path, sizeof(path), "%s/state", dir);
	for (int i = 0; i < seconds * 10; i++) {
		s = xs_readf_int(h, 0, path);
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

static int find_dom(const char *arg, struct kxl_dom *d)
{
	if (reg_find(arg, d) == 0)
		return 0;
	fprintf(stderr, "kxl: domain '%s' does not exist\n", arg);
	return -ENOENT;
}

int main_block_attach(int argc, char **argv)
{
	struct diskspec *d = NULL;
	struct xs_handle *h = NULL;
	struct kxl_dom dom;
	struct devnodes_writer w = {w_write, w_perms, NULL};
	char spec[DISKSPEC_TARGET_MAX + 256] = "", err[512], be[96], fe[96],
	     *hp;
	struct stat st;
	int ret = EXIT_FAILURE, s;

	if (argc < 3) {
		fprintf(stderr, "usage: kxl block-attach <Domain> "
				"<disk-spec-component(s)>...\n");
		return EXIT_FAILURE;
	}
	if (find_dom(argv[1], &dom))
		return EXIT_FAILURE;
	/* xl joins the components with commas. */
	for (int i = 2; i < argc; i++) {
		size_t l = strlen(spec);

		snprintf(spec + l, sizeof(spec) - l, "%s%s", l ? "," : "",
			 argv[i]);
	}
	d = malloc(sizeof(*d));
	if (!d)
		return EXIT_FAILURE;
	if (diskspec_parse(spec, d, err, sizeof(err)) < 0) {
		fprintf(stderr, "kxl: %s\n", err);
		goto out;
	}
	if (d->target[0] && stat(d->target, &st) < 0) {
		fprintf(stderr, "kxl: disk '%s': %s: %s\n", spec, d->target,
			strerror(errno));
		goto out;
	}
	h = kxl_xs_open();
	if (!h)
		goto out;
	devnodes_vbd_paths(dom.domid, d->vdev_number, be, sizeof(be), fe,
			   sizeof(fe));
	if ((hp = xs_readf(h, "%s/state", be))) {
		free(hp);
		fprintf(stderr, "kxl: domain %u already has a disk at %s (%u)\n",
			dom.domid, d->vdev, d->vdev_number);
		goto out;
	}
	if (kxl_disk_conflicts(h, dom.domid, d))
		goto out;
	/* One transaction, as libxl: the backend acts on the first key it
	 * sees, so every key must appear at once. */
	for (int tries = 0;; tries++) {
		struct w_txn wt = {h, xs_transaction_start(h)};
		int werr;

		w.arg = &wt;
		werr = wt.t ? devnodes_vbd_add(&w, dom.domid, d,
					      d->target[0] && S_ISBLK(st.st_mode))
			   : -EIO;
		if (wt.t && xs_transaction_end(h, wt.t, werr != 0) && !werr)
			break;
		if (!werr && errno == EAGAIN && tries < 10)
			continue;
		fprintf(stderr, "kxl: writing the device to xenstore failed\n");
		goto out;
	}
	/* The backend opens the storage and waits for the frontend. */
	s = wait_state(h, be, 1u << XenbusStateInitWait |
				      1u << XenbusStateConnected |
				      1u << XenbusStateClosed,
		       BLOCK_WAIT_S);
	if (s == XenbusStateInitWait || s == XenbusStateConnected) {
		ret = EXIT_SUCCESS;
		goto out;
	}
	hp = xs_readf(h, "%s/hotplug-error", be);
	fprintf(stderr, "kxl: domain %u did not take disk %s: %s\n", dom.domid,
		d->vdev, hp ? hp : "no answer from its backend");
	free(hp);
	remove_dirs(h, be, fe);
out:
	if (h)
		xs_close(h);
	free(d);
	return ret;
}

/* A DevId is a vdev name (xvdb) or its number (51728). */
static int parse_devid(const char *arg, uint32_t *num)
{
	char err[128];

	if (diskspec_vdev_number(arg, num, NULL, NULL, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "kxl: %s\n", err);
	return -EINVAL;
}

int main_block_detach(int argc, char **argv)
{
	struct xs_handle *h;
	struct kxl_dom dom;
	char be[96], fe[96], path[160];
	bool force = false;
	uint32_t devid;
	int s, ret = EXIT_FAILURE;
	int a = 1;

	if (argc > 1 && !strcmp(argv[1], "-f")) {
		force = true;
		a++;
	}
	if (argc - a != 2) {
		fprintf(stderr, "usage: kxl block-detach [-f] <Domain> <DevId>\n");
		return EXIT_FAILURE;
	}
	if (find_dom(argv[a], &dom) || parse_devid(argv[a + 1], &devid))
		return EXIT_FAILURE;
	h = kxl_xs_open();
	if (!h)
		return EXIT_FAILURE;
	devnodes_vbd_paths(dom.domid, devid, be, sizeof(be), fe, sizeof(fe));
	if (!xs_readf_int(h, 0, strcat(strcpy(path, be), "/state"))) {
		fprintf(stderr, "kxl: domain %u has no disk %s\n", dom.domid,
			argv[a + 1]);
		goto out;
	}
	/* As libxl: offline, Closing; the frontend closes, the backend says
	 * Closed; then the directories go. */
	for (int tries = 0; tries < 5; tries++) {
		xs_transaction_t t = xs_transaction_start(h);

		xs_write(h, t, strcat(strcpy(path, be), "/online"), "0", 1);
		xs_write(h, t, strcat(strcpy(path, be), "/state"), "5", 1);
		if (xs_transaction_end(h, t, false) || errno != EAGAIN)
			break;
	}
	s = wait_state(h, be, 1u << XenbusStateClosed, BLOCK_WAIT_S);
	if (s && s != XenbusStateClosed && !force) {
		fprintf(stderr,
			"kxl: domain %u did not release disk %s within %d s "
			"(still in use in the guest?); use -f to remove it "
			"anyway\n",
			dom.domid, argv[a + 1], BLOCK_WAIT_S);
		goto out;
	}
	remove_dirs(h, be, fe);
	ret = EXIT_SUCCESS;
out:
	xs_close(h);
	return ret;
}

int main_block_list(int argc, char **argv)
{
	struct xs_handle *h;
	int ret = EXIT_SUCCESS;

	if (argc < 2) {
		fprintf(stderr, "usage: kxl block-list <Domain(s)>\n");
		return EXIT_FAILURE;
	}
	h = kxl_xs_open();
	if (!h)
		return EXIT_FAILURE;
	printf("%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE", "handle",
	       "state", "evt-ch", "ring-ref", "BE-path");
	for (int i = 1; i < argc; i++) {
		struct kxl_dom dom;
		char fdir[64], path[192];
		char **devs;
		unsigned n = 0;

		if (find_dom(argv[i], &dom)) {
			ret = EXIT_FAILURE;
			continue;
		}
		snprintf(fdir, sizeof(fdir), "/local/domain/%u/device/vbd",
			 dom.domid);
		devs = xs_directory(h, XBT_NULL, fdir, &n);
		for (unsigned j = 0; j < n; j++) {
			char *bep;
			int state, evt, ref;

			snprintf(path, sizeof(path), "%s/%s/backend", fdir,
				 devs[j]);
			bep = xs_readf(h, "%s", path);
			snprintf(path, sizeof(path), "%s/%s/state", fdir, devs[j]);
			state = xs_readf_int(h, -1, path);
			snprintf(path, sizeof(path), "%s/%s/event-channel", fdir,
				 devs[j]);
			evt = xs_readf_int(h, -1, path);
			snprintf(path, sizeof(path), "%s/%s/ring-ref", fdir,
				 devs[j]);
			ref = xs_readf_int(h, -1, path);
			printf("%-5s %-3d %-6u %-5d %-6d %-8d %-30s\n", devs[j],
			       0, dom.domid, state, evt, ref, bep ? bep : "");
			free(bep);
		}
		free(devs);
	}
	xs_close(h);
	return ret;
}
