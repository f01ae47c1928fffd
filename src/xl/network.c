/* kxl network-attach, network-detach, network-list: vifs of running
 * domains, through xenstore as libxl does (the model is block.c).  The
 * toolstack writes (or, to detach, closes) the device's directories; the
 * domain process's backend (src/backends/vif.c) watches them, opens the
 * TAP, runs the hot-plug script and serves the frontend. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "xl/devnodes.h"
#include "xl/hotplug.h"
#include "xl/kxl.h"
#include "xl/vifspec.h"

#define NET_MAX_VIFS 64

struct vif_fill {
	uint32_t domid;
	const struct vifspec *v;
};

static int fill_vif(const struct devnodes_writer *w, void *arg)
{
	struct vif_fill *f = arg;

	return devnodes_vif_add(w, f->domid, f->v);
}

/* The vifs domid has now (devid and MAC, what vifspec_domain needs to
 * number and address a new one), from its backend directories. */
static size_t existing_vifs(struct xs_handle *h, uint32_t domid,
			    struct vifspec *out, size_t max)
{
	char dir[96], **devs;
	unsigned n = 0;
	size_t k = 0;

	snprintf(dir, sizeof(dir), "/local/domain/0/backend/vif/%u", domid);
	devs = xs_directory(h, XBT_NULL, dir, &n);
	for (unsigned i = 0; i < n && k < max; i++) {
		char *mac = kxl_readf(h, "%s/%s/mac", dir, devs[i]);
		struct vifspec *v = &out[k];

		memset(v, 0, sizeof(*v));
		v->devid = strtoll(devs[i], NULL, 10);
		v->has_mac = mac && !vifspec_parse_mac(mac, v->mac, NULL, 0);
		free(mac);
		k++;
	}
	free(devs);
	return k;
}

static bool is_bridge(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", name);
	return access(path, F_OK) == 0;
}

int main_network_attach(int argc, char **argv)
{
	struct vifspec *vifs = NULL, *v;
	struct xs_handle *h = NULL;
	struct kxl_dom dom;
	char spec[2048] = "", err[512], be[96], fe[96], mac[18], *hp;
	const char *script, *bridge;
	int ret = EXIT_FAILURE;
	size_t n;

	if (argc < 2) {
		fprintf(stderr, "usage: kxl network-attach <Domain> "
				"[vif-spec-component(s)]...\n");
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
	vifs = calloc(NET_MAX_VIFS + 1, sizeof(*vifs));
	if (!vifs)
		return EXIT_FAILURE;
	h = kxl_xs_open();
	if (!h)
		goto out;
	n = existing_vifs(h, dom.domid, vifs, NET_MAX_VIFS);
	v = &vifs[n];
	if (vifspec_parse(spec, v, err, sizeof(err)) < 0) {
		fprintf(stderr, "kxl: %s\n", err);
		goto out;
	}
	if (v->type == VIFSPEC_TYPE_IOEMU) {
		fprintf(stderr, "kxl: type=ioemu: a PV guest only has vifs\n");
		goto out;
	}
	script = v->script[0] ? v->script : VIFSPEC_DEFAULT_SCRIPT;
	bridge = v->bridge[0] ? v->bridge : VIFSPEC_DEFAULT_BRIDGE;
	if (strstr(script, "vif-bridge") && !is_bridge(bridge)) {
		fprintf(stderr, "kxl: bridge '%s' does not exist\n", bridge);
		goto out;
	}
	/* Numbered and addressed as create does: next devid, the MAC of the
	 * domain's name (a UUID fixed in the config is not recorded). */
	if (vifspec_domain(vifs, n + 1, dom.name, err, sizeof(err)) < 0) {
		fprintf(stderr, "kxl: %s\n", err);
		goto out;
	}
	devnodes_vif_paths(dom.domid, (uint32_t)v->devid, be, sizeof(be), fe,
			   sizeof(fe));
	if ((hp = kxl_readf(h, "%s/state", be))) {
		free(hp);
		fprintf(stderr, "kxl: domain %u already has vif %lld\n",
			dom.domid, (long long)v->devid);
		goto out;
	}
	{
		struct vif_fill f = {dom.domid, v};
		char what[64];

		vifspec_format_mac(v->mac, mac);
		snprintf(what, sizeof(what), "vif %lld (%s)",
			 (long long)v->devid, mac);
		if (kxl_dev_write(h, fill_vif, &f) == 0 &&
		    kxl_dev_wait_attached(h, dom.domid, be, fe, what) == 0)
			ret = EXIT_SUCCESS;
	}
out:
	if (h)
		xs_close(h);
	free(vifs);
	return ret;
}

/* A DevId is the vif's number or its MAC address. */
static int find_devid(struct xs_handle *h, uint32_t domid, const char *arg,
		      uint32_t *devid)
{
	struct vifspec vifs[NET_MAX_VIFS];
	uint8_t mac[6];
	char *end;
	unsigned long d;
	size_t n;

	if (vifspec_parse_mac(arg, mac, NULL, 0) == 0) {
		n = existing_vifs(h, domid, vifs, NET_MAX_VIFS);
		for (size_t i = 0; i < n; i++)
			if (vifs[i].has_mac && !memcmp(vifs[i].mac, mac, 6)) {
				*devid = (uint32_t)vifs[i].devid;
				return 0;
			}
		fprintf(stderr, "kxl: domain %u has no vif with MAC %s\n",
			domid, arg);
		return -ENOENT;
	}
	errno = 0;
	d = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || d > VIFSPEC_DEVID_MAX) {
		fprintf(stderr, "kxl: '%s' is neither a vif number nor a MAC "
				"address\n", arg);
		return -EINVAL;
	}
	*devid = (uint32_t)d;
	return 0;
}

int main_network_detach(int argc, char **argv)
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
		fprintf(stderr,
			"usage: kxl network-detach [-f] <Domain> <DevId|mac>\n");
		return EXIT_FAILURE;
	}
	if (kxl_find_dom(argv[a], &dom))
		return EXIT_FAILURE;
	h = kxl_xs_open();
	if (!h)
		return EXIT_FAILURE;
	if (find_devid(h, dom.domid, argv[a + 1], &devid))
		goto out;
	devnodes_vif_paths(dom.domid, devid, be, sizeof(be), fe, sizeof(fe));
	snprintf(what, sizeof(what), "vif %s", argv[a + 1]);
	if (kxl_dev_detach(h, dom.domid, be, fe, force, what) == 0)
		ret = EXIT_SUCCESS;
out:
	xs_close(h);
	return ret;
}

int main_network_list(int argc, char **argv)
{
	struct xs_handle *h;
	int ret = EXIT_SUCCESS;

	if (argc < 2) {
		fprintf(stderr, "usage: kxl network-list <Domain(s)>\n");
		return EXIT_FAILURE;
	}
	h = kxl_xs_open();
	if (!h)
		return EXIT_FAILURE;
	/* xl's columns. */
	printf("%-3s %-2s %-17s %-6s %-5s %-6s %-5s/%-5s %-30s\n", "Idx", "BE",
	       "Mac Addr.", "handle", "state", "evt-ch", "tx-", "rx-ring-ref",
	       "BE-path");
	for (int i = 1; i < argc; i++) {
		struct kxl_dom dom;
		char fdir[64];
		char **devs;
		unsigned n = 0;

		if (kxl_find_dom(argv[i], &dom)) {
			ret = EXIT_FAILURE;
			continue;
		}
		snprintf(fdir, sizeof(fdir), "/local/domain/%u/device/vif",
			 dom.domid);
		devs = xs_directory(h, XBT_NULL, fdir, &n);
		for (unsigned j = 0; j < n; j++) {
			char *bep = kxl_readf(h, "%s/%s/backend", fdir, devs[j]);
			char *mac = kxl_readf(h, "%s/%s/mac", fdir, devs[j]);
			int state = kxl_readf_int(h, -1, "%s/%s/state", fdir,
						 devs[j]);
			int evt = kxl_readf_int(h, -1, "%s/%s/event-channel",
					       fdir, devs[j]);
			int tx = kxl_readf_int(h, -1, "%s/%s/tx-ring-ref", fdir,
					      devs[j]);
			int rx = kxl_readf_int(h, -1, "%s/%s/rx-ring-ref", fdir,
					      devs[j]);

			if (evt < 0) /* split event channels */
				evt = kxl_readf_int(h, -1,
						   "%s/%s/event-channel-tx",
						   fdir, devs[j]);
			printf("%-3s %-2d %-17s %-6u %-5d %-6d %-5d/%-5d %-30s\n",
			       devs[j], 0, mac ? mac : "", dom.domid, state,
			       evt, tx, rx, bep ? bep : "");
			free(bep);
			free(mac);
		}
		free(devs);
	}
	xs_close(h);
	return ret;
}
