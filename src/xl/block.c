/* kxl block-attach, block-detach, block-list: disks of running domains,
 * through xenstore as libxl does.  The toolstack writes (or, to detach,
 * closes) the device's directories; the domain process's backend
 * (src/backends/vbd.c) watches them and does the rest. */
#include <errno.h>
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
#include "xl/hotplug.h"
#include "xl/kxl.h"

/* Rebuilds the diskspec of an attached vbd from its backend directory
 * (only what the conflict rule needs). */
static bool attached_spec(struct xs_handle *h, const char *be,
			  struct diskspec *d)
{
	char *params = kxl_readf(h, "%s/params", be);
	char *mode = kxl_readf(h, "%s/mode", be);
	char *dtype = kxl_readf(h, "%s/device-type", be);
	char *vdev = kxl_readf(h, "%s/dev", be);
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

struct vbd_fill {
	uint32_t domid;
	const struct diskspec *d;
	bool blockdev;
};

static int fill_vbd(const struct devnodes_writer *w, void *arg)
{
	struct vbd_fill *f = arg;

	return devnodes_vbd_add(w, f->domid, f->d, f->blockdev);
}

int main_block_attach(int argc, char **argv)
{
	struct diskspec *d = NULL;
	struct xs_handle *h = NULL;
	struct kxl_dom dom;
	char spec[DISKSPEC_TARGET_MAX + 256] = "", err[512], be[96], fe[96],
	     *hp;
	struct stat st;
	int ret = EXIT_FAILURE;

	if (argc < 3) {
		fprintf(stderr, "usage: kxl block-attach <Domain> "
				"<disk-spec-component(s)>...\n");
		return EXIT_FAILURE;
	}
	if (kxl_find_dom(argv[1], &dom))
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
	if ((hp = kxl_readf(h, "%s/state", be))) {
		free(hp);
		fprintf(stderr, "kxl: domain %u already has a disk at %s (%u)\n",
			dom.domid, d->vdev, d->vdev_number);
		goto out;
	}
	if (kxl_disk_conflicts(h, dom.domid, d))
		goto out;
	{
		struct vbd_fill f = {dom.domid, d,
				     d->target[0] && S_ISBLK(st.st_mode)};
		char what[64];

		snprintf(what, sizeof(what), "disk %s", d->vdev);
		if (kxl_dev_write(h, fill_vbd, &f) == 0 &&
		    kxl_dev_wait_attached(h, dom.domid, be, fe, what) == 0)
			ret = EXIT_SUCCESS;
	}
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
	char be[96], fe[96], what[64];
	bool force = false;
	uint32_t devid;
	int ret = EXIT_FAILURE;
	int a = 1;

	if (argc > 1 && !strcmp(argv[1], "-f")) {
		force = true;
		a++;
	}
	if (argc - a != 2) {
		fprintf(stderr, "usage: kxl block-detach [-f] <Domain> <DevId>\n");
		return EXIT_FAILURE;
	}
	if (kxl_find_dom(argv[a], &dom) || parse_devid(argv[a + 1], &devid))
		return EXIT_FAILURE;
	h = kxl_xs_open();
	if (!h)
		return EXIT_FAILURE;
	devnodes_vbd_paths(dom.domid, devid, be, sizeof(be), fe, sizeof(fe));
	snprintf(what, sizeof(what), "disk %s", argv[a + 1]);
	if (kxl_dev_detach(h, dom.domid, be, fe, force, what) == 0)
		ret = EXIT_SUCCESS;
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

		if (kxl_find_dom(argv[i], &dom)) {
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
			bep = kxl_readf(h, "%s", path);
			snprintf(path, sizeof(path), "%s/%s/state", fdir, devs[j]);
			state = kxl_readf_int(h, -1, "%s", path);
			snprintf(path, sizeof(path), "%s/%s/event-channel", fdir,
				 devs[j]);
			evt = kxl_readf_int(h, -1, "%s", path);
			snprintf(path, sizeof(path), "%s/%s/ring-ref", fdir,
				 devs[j]);
			ref = kxl_readf_int(h, -1, "%s", path);
			printf("%-5s %-3d %-6u %-5d %-6d %-8d %-30s\n", devs[j],
			       0, dom.domid, state, evt, ref, bep ? bep : "");
			free(bep);
		}
		free(devs);
	}
	xs_close(h);
	return ret;
}
