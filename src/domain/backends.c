/* Device backends of one domain: set-up, and the be_guest interface over
 * this process's grant table and event channels. */
#include "domain/backends.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "backends/backend.h"
#include "backends/vbd.h"
#include "backends/vif.h"
#include "backends/xenbus.h"
#include "common/log.h"
#include "domain/domain.h"
#include "domain/evtchn.h"
#include "domain/gnttab.h"
#include "xl/devnodes.h"
#include "xl/diskspec.h"
#include "xl/vifspec.h"

struct backends {
	struct xenbus *xb;
	struct be_guest g;
	struct vbd_backend *vbd;
	struct vif_backend *vif;
};

/* ---- be_guest over this domain ---- */

static void *be_map_grant(void *opaque, uint32_t ref, bool write, int *err)
{
	return gnttab_map_ref(opaque, ref, write, err);
}

static void be_unmap_grant(void *opaque, uint32_t ref, bool write)
{
	gnttab_unmap_ref(opaque, ref, write);
}

/* A multi-page ring must look contiguous to the ring code; the guest's
 * pages are anywhere in its RAM.  Guest RAM is one memfd (file offset =
 * offset in our mapping), so each granted page is mapped again, side by
 * side, into a reserved range. */
static void *be_map_ring(void *opaque, const uint32_t *refs, unsigned n,
			 int *err)
{
	struct domain *d = opaque;
	uint8_t *area, *p;
	unsigned i;

	if (n == 1)
		return gnttab_map_ref(d, refs[0], true, err);
	if (n == 0 || n > BE_MAX_RING_PAGES) {
		*err = -EINVAL;
		return NULL;
	}
	area = mmap(NULL, n * GUEST_PAGE_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		p = gnttab_map_ref(d, refs[i], true, err);
		if (!p)
			break;
		if (mmap(area + i * GUEST_PAGE_SIZE, GUEST_PAGE_SIZE,
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 d->mem.fd, p - d->mem.host) == MAP_FAILED) {
			*err = -errno;
			gnttab_unmap_ref(d, refs[i], true);
			break;
		}
	}
	if (i == n)
		return area;
	while (i--)
		gnttab_unmap_ref(d, refs[i], true);
	munmap(area, n * GUEST_PAGE_SIZE);
	return NULL;
}

static void be_unmap_ring(void *opaque, void *ring, const uint32_t *refs,
			  unsigned n)
{
	struct domain *d = opaque;

	for (unsigned i = 0; i < n; i++)
		gnttab_unmap_ref(d, refs[i], true);
	if (n > 1)
		munmap(ring, n * GUEST_PAGE_SIZE);
}

static int be_bind_evtchn(void *opaque, uint32_t port, int eventfd)
{
	return evtchn_bind_backend(opaque, port, eventfd);
}

static void be_unbind_evtchn(void *opaque, uint32_t port, int eventfd)
{
	evtchn_unbind_backend(opaque, port, eventfd);
}

static int be_notify(void *opaque, uint32_t port)
{
	return evtchn_notify_guest(opaque, port);
}

/* ---- the config's disks ---- */

static int xb_write(void *arg, const char *path, const char *value)
{
	struct xs_handle *h = arg;

	return xs_write(h, XBT_NULL, path, value, strlen(value)) ? 0
		: errno ? -errno : -EIO;
}

static int xb_set_perms(void *arg, const char *path, uint32_t owner,
			uint32_t reader)
{
	struct xs_permissions p[2] = {
		{.id = owner, .perms = XS_PERM_NONE},
		{.id = reader, .perms = XS_PERM_READ},
	};

	return xs_set_permissions(arg, XBT_NULL, path, p, 2) ? 0
		: errno ? -errno : -EIO;
}

static int backends_add_disks(struct domain *d, struct backends *b)
{
	const struct domain_config *cfg = d->cfg;
	struct devnodes_writer w = {xb_write, xb_set_perms,
				    xenbus_handle(b->xb)};
	struct diskspec *spec = malloc(sizeof(*spec));
	char err[256];
	int ret = 0;

	if (!spec)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->nr_disks && !ret; i++) {
		struct stat st;

		ret = diskspec_parse(cfg->disks[i], spec, err, sizeof(err));
		if (ret) {
			log_warnx("domain %s: disk %s", cfg->name, err);
			break;
		}
		ret = devnodes_vbd_add(&w, cfg->domid, spec,
				       stat(spec->target, &st) == 0 &&
					   S_ISBLK(st.st_mode));
		if (ret)
			log_warnx("domain %s: writing the xenstore nodes of "
				  "disk %s: %s",
				  cfg->name, spec->vdev, strerror(-ret));
	}
	free(spec);
	return ret;
}

/* The config's vifs: numbered and given their MAC as kxl does (kxl passes
 * them complete; a spec without them, from a direct run, gets the same
 * stable MAC for the domain's name). */
static int backends_add_vifs(struct domain *d, struct backends *b)
{
	const struct domain_config *cfg = d->cfg;
	struct devnodes_writer w = {xb_write, xb_set_perms,
				    xenbus_handle(b->xb)};
	struct vifspec *vifs;
	char err[256];
	int ret = 0;

	if (!cfg->nr_vifs)
		return 0;
	vifs = calloc(cfg->nr_vifs, sizeof(*vifs));
	if (!vifs)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->nr_vifs && !ret; i++) {
		ret = vifspec_parse(cfg->vifs[i], &vifs[i], err, sizeof(err));
		if (ret)
			log_warnx("domain %s: vif %s", cfg->name, err);
	}
	if (!ret) {
		ret = vifspec_domain(vifs, cfg->nr_vifs, cfg->name, err,
				     sizeof(err));
		if (ret)
			log_warnx("domain %s: %s", cfg->name, err);
	}
	for (unsigned i = 0; i < cfg->nr_vifs && !ret; i++) {
		ret = devnodes_vif_add(&w, cfg->domid, &vifs[i]);
		if (ret)
			log_warnx("domain %s: writing the xenstore nodes of "
				  "vif %lld: %s",
				  cfg->name, (long long)vifs[i].devid,
				  strerror(-ret));
	}
	free(vifs);
	return ret;
}

int backends_start(struct domain *d)
{
	const struct domain_config *cfg = d->cfg;
	struct backends *b;
	int ret;

	/* No store, no devices (the domain runs without a store). */
	if (!cfg->nr_disks && !cfg->nr_vifs &&
	    !d->hvm_params[HVM_PARAM_STORE_PFN])
		return 0;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	d->backends = b;
	ret = xenbus_open(&b->xb);
	if (ret) {
		if (!cfg->nr_disks && !cfg->nr_vifs)
			return 0;
		log_warnx("domain %s: disks and vifs need xenstore, and none "
			  "answers (%s): is kxend running?",
			  cfg->name, strerror(-ret));
		return ret;
	}
	b->g = (struct be_guest){
		.domid = (uint16_t)cfg->domid,
		.nr_vcpus = d->nr_vcpus,
		.opaque = d,
		.map_grant = be_map_grant,
		.unmap_grant = be_unmap_grant,
		.map_ring = be_map_ring,
		.unmap_ring = be_unmap_ring,
		.bind_evtchn = be_bind_evtchn,
		.unbind_evtchn = be_unbind_evtchn,
		.notify = be_notify,
	};
	ret = backends_add_disks(d, b);
	if (!ret)
		ret = backends_add_vifs(d, b);
	if (!ret)
		ret = vif_backend_start(b->xb, &b->g, &b->vif);
	if (ret)
		return ret;
	ret = vbd_backend_start(b->xb, &b->g, &b->vbd);
	if (ret)
		return ret;
	/* A config disk that cannot be opened (a corrupt image, no access)
	 * stops the create, as in xl, instead of a guest without it. */
	if (vbd_backend_count(b->vbd) < cfg->nr_disks) {
		log_warnx("domain %s: %u of %u disks could not be opened (see "
			  "above)",
			  cfg->name, cfg->nr_disks - vbd_backend_count(b->vbd),
			  cfg->nr_disks);
		return -EIO;
	}
	return 0;
}

void backends_stop(struct domain *d)
{
	struct backends *b = d->backends;
	char path[64];

	if (!b)
		return;
	vbd_backend_stop(b->vbd);
	vif_backend_stop(b->vif);
	if (b->xb && xenbus_handle(b->xb)) {
		snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u",
			 d->cfg->domid);
		xs_rm(xenbus_handle(b->xb), XBT_NULL, path);
		snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u",
			 d->cfg->domid);
		xs_rm(xenbus_handle(b->xb), XBT_NULL, path);
	}
	xenbus_close(b->xb);
	free(b);
	d->backends = NULL;
}

void backends_stats(struct domain *d, struct vbd_stats *vbd, unsigned *nr_vbd,
		    struct vif_stats *vif, unsigned *nr_vif)
{
	struct backends *b = d->backends;

	*nr_vbd = b ? vbd_backend_stats(b->vbd, vbd, *nr_vbd) : 0;
	*nr_vif = b ? vif_backend_stats(b->vif, vif, *nr_vif) : 0;
}

uint64_t backends_poll(struct domain *d, uint64_t now)
{
	struct backends *b = d->backends;

	return b && b->xb ? xenbus_poll(b->xb, now) : 0;
}

void backends_store_lost(struct domain *d)
{
	struct backends *b = d->backends;

	if (b && b->xb)
		xenbus_lost(b->xb);
}
