/* Virtual block devices: xenbus lifecycle and the glue between the ring
 * (blk_ring.c), the storage (blk_storage*.c) and the event loop. */
#include "backends/vbd.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <xen/io/protocols.h>

#include "backends/blk_ring.h"
#include "backends/blk_storage.h"
#include "common/log.h"
#include "domain/loop.h"

/* What we offer a frontend; Linux blkback's figures. */
#define VBD_MAX_QUEUES 4
#define VBD_MAX_RING_ORDER 4 /* 16 pages */
#define VBD_MAX_INDIRECT 256
#define VBD_PERSISTENT_GRANTS 1056
#define VBD_DRAIN_MS 30000 /* longest wait for I/O in flight at close */

struct vbd_dev;

struct vbd_queue {
	struct vbd_dev *dev;
	unsigned idx;
	struct blk_ring *ring;
	void *sring;
	uint32_t refs[BE_MAX_RING_PAGES];
	unsigned nr_pages;
	uint32_t port;
	int kick_fd; /* eventfd the guest's sends signal; -1 when down */
	bool bound;
};

struct vbd_dev {
	struct vbd_backend *vb;
	struct vbd_dev *next;
	uint32_t devid;
	char be[128]; /* /local/domain/0/backend/vbd/<domid>/<devid> */
	char fe[128]; /* /local/domain/<domid>/device/vbd/<devid> */
	enum xenbus_state state; /* ours, as last written */
	int fe_watch;
	struct blk_storage *st;
	int st_fd;
	bool readonly, cdrom;
	char params[512];
	struct vbd_queue q[VBD_MAX_QUEUES];
	unsigned nr_queues; /* connected queues, 0 when not connected */
	bool broken;	    /* the frontend corrupted a ring */
	struct vbd_stats done; /* rings of earlier connections */
};

struct vbd_backend {
	struct xenbus *xb;
	struct be_guest g;
	char dir[64]; /* /local/domain/0/backend/vbd/<domid> */
	int watch;
	struct vbd_dev *devs;
};

static void vbd_disconnect(struct vbd_dev *v);

/* ---- data path ---------------------------------------------------- */

/* Runs the ring until it has nothing more to take now; notifies the
 * frontend when the ring asks for it. */
static void vbd_queue_kick(struct vbd_queue *q)
{
	struct vbd_dev *v = q->dev;
	unsigned flags, rounds = 0;
	bool notify = false;
	int ret;

	if (!q->ring)
		return;
	do {
		flags = 0;
		ret = blk_ring_kick(q->ring, &flags);
		notify |= flags & BLK_RING_NOTIFY;
	} while (!ret && (flags & BLK_RING_MORE) && ++rounds < 64);
	if (notify)
		v->vb->g.notify(v->vb->g.opaque, q->port);
	if (!ret && (flags & BLK_RING_MORE)) {
		/* Let the rest of the loop run; come back at once. */
		uint64_t one = 1;

		if (write(q->kick_fd, &one, sizeof(one)) < 0)
			log_warn("vbd %u: rescheduling", v->devid);
	}
	if (ret == -EIO && !v->broken) {
		v->broken = true;
		log_warnx("domain %u vbd %u: the frontend corrupted ring %u; "
			  "closing the device",
			  v->vb->g.domid, v->devid, q->idx);
		xenbus_switch_state(v->vb->xb, v->be, XenbusStateClosing);
		v->state = XenbusStateClosing;
	}
}

static void vbd_on_kick(int fd, void *arg)
{
	struct vbd_queue *q = arg;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("vbd kick eventfd");
	vbd_queue_kick(q);
}

static void vbd_on_storage(int fd, void *arg)
{
	struct vbd_dev *v = arg;

	(void)fd;
	if (blk_storage_complete(v->st))
		for (unsigned i = 0; i < v->nr_queues; i++)
			vbd_queue_kick(&v->q[i]);
}

/* Grant interface of the ring, over the guest's grant table. */
static int vbd_grant_map(void *opaque, uint16_t domid, grant_ref_t ref,
			 bool writable, void **page)
{
	struct vbd_backend *vb = opaque;
	int err = 0;
	void *p = vb->g.map_grant(vb->g.opaque, ref, writable, &err);

	(void)domid;
	if (!p)
		return err ? err : -EINVAL;
	*page = p;
	return 0;
}

static void vbd_grant_unmap(void *opaque, uint16_t domid, grant_ref_t ref,
			    bool writable, void *page)
{
	struct vbd_backend *vb = opaque;

	(void)domid;
	(void)page;
	vb->g.unmap_grant(vb->g.opaque, ref, writable);
}

static const struct blk_grant_ops vbd_grant_ops = {
	.map = vbd_grant_map,
	.unmap = vbd_grant_unmap,
};

/* ---- connection --------------------------------------------------- */

/* Reads queue q's ring references and event channel from the frontend
 * (flat keys for one queue, queue-N/ for several).  0 or -errno. */
static int vbd_read_queue(struct vbd_dev *v, struct vbd_queue *q,
			  const char *dir)
{
	struct xenbus *xb = v->vb->xb;
	unsigned long long order, n;

	/* ring-page-order is the device's, the references the queue's:
	 * "ring-ref" for one page, "ring-ref<N>" for several. */
	order = xenbus_read_ull(xb, 0, "%s/ring-page-order", v->fe);
	if (order > VBD_MAX_RING_ORDER) {
		log_warnx("domain %u vbd %u: ring-page-order %llu refused",
			  v->vb->g.domid, v->devid, order);
		return -EINVAL;
	}
	q->nr_pages = 1u << order;
	for (unsigned i = 0; i < q->nr_pages; i++) {
		if (order == 0)
			n = xenbus_read_ull(xb, ~0ull, "%s/ring-ref", dir);
		else
			n = xenbus_read_ull(xb, ~0ull, "%s/ring-ref%u", dir, i);
		if (n > UINT32_MAX) {
			log_warnx("domain %u vbd %u: no valid ring-ref in %s",
				  v->vb->g.domid, v->devid, dir);
			return -EINVAL;
		}
		q->refs[i] = (uint32_t)n;
	}
	n = xenbus_read_ull(xb, ~0ull, "%s/event-channel", dir);
	if (n == 0 || n > UINT32_MAX) {
		log_warnx("domain %u vbd %u: no valid event-channel in %s",
			  v->vb->g.domid, v->devid, dir);
		return -EINVAL;
	}
	q->port = (uint32_t)n;
	return 0;
}

static int vbd_queue_up(struct vbd_dev *v, struct vbd_queue *q,
			bool persistent)
{
	struct vbd_backend *vb = v->vb;
	struct blk_ring_config cfg = {
		.nr_ring_pages = q->nr_pages,
		.domid = vb->g.domid,
		.devid = v->devid,
		.max_indirect_segments = VBD_MAX_INDIRECT,
		.max_persistent_grants = persistent ? VBD_PERSISTENT_GRANTS : 0,
		.grant = &vbd_grant_ops,
		.grant_opaque = vb,
		.storage = blk_storage_get_ops(v->st),
		.storage_opaque = v->st,
	};
	int err = 0, ret;

	q->sring = vb->g.map_ring(vb->g.opaque, q->refs, q->nr_pages, &err);
	if (!q->sring) {
		log_warnx("domain %u vbd %u: cannot map ring %u (grant %u): %s",
			  vb->g.domid, v->devid, q->idx, q->refs[0],
			  strerror(-err));
		return err ? err : -EINVAL;
	}
	cfg.sring = q->sring;
	ret = blk_ring_create(&cfg, &q->ring);
	if (ret)
		return ret;
	q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick_fd < 0)
		return -errno;
	ret = vb->g.bind_evtchn(vb->g.opaque, q->port, q->kick_fd);
	if (ret) {
		log_warnx("domain %u vbd %u: cannot bind event channel %u: %s",
			  vb->g.domid, v->devid, q->port, strerror(-ret));
		return ret;
	}
	q->bound = true;
	return loop_add(q->kick_fd, vbd_on_kick, q);
}

static void vbd_stats_add(struct vbd_stats *to, const struct blk_ring_stats *st)
{
	to->rd_req += st->rd_req;
	to->wr_req += st->wr_req;
	to->oo_req += st->oo_req;
	to->rd_sect += st->rd_sect;
	to->wr_sect += st->wr_sect;
}

static void vbd_queue_down(struct vbd_dev *v, struct vbd_queue *q)
{
	struct vbd_backend *vb = v->vb;

	if (q->kick_fd >= 0) {
		loop_del(q->kick_fd);
		if (q->bound)
			vb->g.unbind_evtchn(vb->g.opaque, q->port, q->kick_fd);
		close(q->kick_fd);
	}
	if (q->ring) {
		struct blk_ring_stats st;

		blk_ring_get_stats(q->ring, &st);
		vbd_stats_add(&v->done, &st);
	}
	blk_ring_destroy(q->ring);
	if (q->sring)
		vb->g.unmap_ring(vb->g.opaque, q->sring, q->refs, q->nr_pages);
	memset(q, 0, sizeof(*q));
	q->kick_fd = -1;
}

/* The frontend is Initialised: map its rings and say Connected. */
static int vbd_connect(struct vbd_dev *v)
{
	struct vbd_backend *vb = v->vb;
	struct xenbus *xb = vb->xb;
	struct blk_storage_info info;
	unsigned long long nq;
	char *proto, dir[160];
	bool persistent;
	int ret = 0;

	proto = xenbus_read(xb, XBT_NULL, "%s/protocol", v->fe);
	if (proto && strcmp(proto, XEN_IO_PROTO_ABI_X86_64)) {
		log_warnx("domain %u vbd %u: ring protocol '%s' not supported "
			  "(64-bit guests only)",
			  vb->g.domid, v->devid, proto);
		free(proto);
		return -EPROTONOSUPPORT;
	}
	free(proto);
	nq = xenbus_read_ull(xb, 1, "%s/multi-queue-num-queues", v->fe);
	if (nq < 1 || nq > VBD_MAX_QUEUES) {
		log_warnx("domain %u vbd %u: multi-queue-num-queues %llu "
			  "refused",
			  vb->g.domid, v->devid, nq);
		return -EINVAL;
	}
	persistent = xenbus_read_ull(xb, 0, "%s/feature-persistent", v->fe) == 1;
	for (unsigned i = 0; i < nq && !ret; i++) {
		struct vbd_queue *q = &v->q[i];

		q->dev = v;
		q->idx = i;
		q->kick_fd = -1;
		if (nq == 1)
			snprintf(dir, sizeof(dir), "%s", v->fe);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", v->fe, i);
		ret = vbd_read_queue(v, q, dir);
		v->nr_queues = i + 1;
		if (!ret)
			ret = vbd_queue_up(v, q, persistent);
	}
	if (ret) {
		vbd_disconnect(v);
		return ret;
	}
	blk_storage_get_ops(v->st)->get_info(v->st, &info);
	xenbus_printf(xb, XBT_NULL, strcat(strcpy(dir, v->be), "/sectors"),
		      "%llu", (unsigned long long)info.nr_sectors);
	xenbus_printf(xb, XBT_NULL, strcat(strcpy(dir, v->be), "/info"), "%u",
		      (v->cdrom ? VDISK_CDROM : 0) |
			  (v->readonly ? VDISK_READONLY : 0));
	xenbus_printf(xb, XBT_NULL, strcat(strcpy(dir, v->be), "/sector-size"),
		      "%u", info.sector_size);
	xenbus_printf(xb, XBT_NULL,
		      strcat(strcpy(dir, v->be), "/physical-sector-size"), "%u",
		      info.sector_size > 4096 ? info.sector_size : 4096);
	xenbus_switch_state(xb, v->be, XenbusStateConnected);
	v->state = XenbusStateConnected;
	log_info("domain %u vbd %u: connected (%s, %llu sectors, %u queue%s, "
		 "%u ring page%s%s)",
		 vb->g.domid, v->devid, v->params,
		 (unsigned long long)info.nr_sectors, v->nr_queues,
		 v->nr_queues == 1 ? "" : "s", v->q[0].nr_pages,
		 v->q[0].nr_pages == 1 ? "" : "s",
		 persistent ? ", persistent grants" : "");
	return 0;
}

/* Waits for the storage to finish what the rings handed it, then releases
 * the rings (their grants) and the event channels. */
static void vbd_disconnect(struct vbd_dev *v)
{
	unsigned waited = 0;

	if (!v->nr_queues)
		return;
	while (v->st && blk_storage_inflight(v->st) && waited < VBD_DRAIN_MS) {
		struct pollfd p = {.fd = v->st_fd, .events = POLLIN};

		poll(&p, 1, 100);
		waited += 100;
		blk_storage_complete(v->st);
	}
	if (v->st && blk_storage_inflight(v->st))
		log_warnx("domain %u vbd %u: storage still busy after %u s",
			  v->vb->g.domid, v->devid, VBD_DRAIN_MS / 1000);
	/* Push the last responses before the ring goes. */
	for (unsigned i = 0; i < v->nr_queues; i++) {
		unsigned flags = 0;

		if (v->q[i].ring)
			blk_ring_kick(v->q[i].ring, &flags);
	}
	for (unsigned i = 0; i < v->nr_queues; i++)
		vbd_queue_down(v, &v->q[i]);
	v->nr_queues = 0;
	v->broken = false;
}

/* ---- lifecycle ------------------------------------------------------ */

static void vbd_write_features(struct vbd_dev *v)
{
	struct xenbus *xb = v->vb->xb;
	const struct blk_storage_ops *ops = blk_storage_get_ops(v->st);
	struct blk_storage_info info;
	char p[192];
	unsigned nq = v->vb->g.nr_vcpus < VBD_MAX_QUEUES ? v->vb->g.nr_vcpus
							 : VBD_MAX_QUEUES;
	bool discard = ops->discard && !v->readonly &&
		       xenbus_read_ull(xb, 1, "%s/discard-enable", v->be);

	ops->get_info(v->st, &info);
#define KEY(k) (snprintf(p, sizeof(p), "%s/%s", v->be, k), p)
	xenbus_printf(xb, XBT_NULL, KEY("feature-flush-cache"), "%d",
		      ops->flush && !v->readonly);
	xenbus_printf(xb, XBT_NULL, KEY("feature-barrier"), "0");
	xenbus_printf(xb, XBT_NULL, KEY("feature-discard"), "%d", discard);
	if (discard) {
		xenbus_printf(xb, XBT_NULL, KEY("discard-granularity"), "%u",
			      4096u);
		xenbus_printf(xb, XBT_NULL, KEY("discard-alignment"), "0");
		xenbus_printf(xb, XBT_NULL, KEY("discard-secure"), "%d",
			      info.discard_secure);
	}
	xenbus_printf(xb, XBT_NULL, KEY("feature-persistent"), "1");
	xenbus_printf(xb, XBT_NULL, KEY("feature-max-indirect-segments"), "%u",
		      VBD_MAX_INDIRECT);
	xenbus_printf(xb, XBT_NULL, KEY("multi-queue-max-queues"), "%u",
		      nq ? nq : 1);
	xenbus_printf(xb, XBT_NULL, KEY("max-ring-page-order"), "%u",
		      VBD_MAX_RING_ORDER);
	xenbus_printf(xb, XBT_NULL, KEY("sectors"), "%llu",
		      (unsigned long long)info.nr_sectors);
	xenbus_printf(xb, XBT_NULL, KEY("sector-size"), "%u", info.sector_size);
	xenbus_printf(xb, XBT_NULL, KEY("info"), "%u",
		      (v->cdrom ? VDISK_CDROM : 0) |
			  (v->readonly ? VDISK_READONLY : 0));
	xenbus_printf(xb, XBT_NULL, KEY("hotplug-status"), "connected");
#undef KEY
}

static void vbd_dev_free(struct vbd_dev *v)
{
	struct vbd_dev **pp;

	vbd_disconnect(v);
	if (v->fe_watch >= 0)
		xenbus_unwatch(v->vb->xb, v->fe_watch);
	if (v->st) {
		loop_del(v->st_fd);
		blk_storage_close(v->st);
	}
	for (pp = &v->vb->devs; *pp; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	free(v);
}

/* The frontend changed state: follow it as blkback does. */
static void vbd_frontend_changed(struct xenbus *xb, const char *path,
				 void *arg)
{
	struct vbd_dev *v = arg;
	enum xenbus_state fs = xenbus_read_state(xb, v->fe);

	(void)path;
	log_debug("domain %u vbd %u: frontend %s, backend %s", v->vb->g.domid,
		  v->devid, xenbus_state_name(fs), xenbus_state_name(v->state));
	switch (fs) {
	case XenbusStateInitialising:
		/* A frontend that comes back after closing (module reload,
		 * kexec) finds us waiting again, if we are still online. */
		if (v->state == XenbusStateClosed &&
		    xenbus_read_ull(xb, 0, "%s/online", v->be) == 1) {
			xenbus_switch_state(xb, v->be, XenbusStateInitWait);
			v->state = XenbusStateInitWait;
		}
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (v->state != XenbusStateInitWait || v->nr_queues)
			break;
		if (vbd_connect(v)) {
			xenbus_switch_state(xb, v->be, XenbusStateClosing);
			v->state = XenbusStateClosing;
		}
		break;
	case XenbusStateClosing:
		vbd_disconnect(v);
		xenbus_switch_state(xb, v->be, XenbusStateClosing);
		v->state = XenbusStateClosing;
		break;
	case XenbusStateClosed:
	case XenbusStateUnknown: /* the frontend directory is gone */
		vbd_disconnect(v);
		if (v->state != XenbusStateClosed) {
			xenbus_switch_state(xb, v->be, XenbusStateClosed);
			v->state = XenbusStateClosed;
		}
		break;
	default:
		break;
	}
}

static int vbd_dev_open(struct vbd_backend *vb, uint32_t devid)
{
	struct xenbus *xb = vb->xb;
	struct vbd_dev *v = calloc(1, sizeof(*v));
	struct blk_storage_params sp = {0};
	char *params = NULL, *mode = NULL, *fmt = NULL, *dtype = NULL,
	     *fe = NULL;
	char path[192], err[512];
	int ret = -EINVAL;

	if (!v)
		return -ENOMEM;
	v->vb = vb;
	v->devid = devid;
	v->fe_watch = -1;
	v->st_fd = -1;
	for (unsigned i = 0; i < VBD_MAX_QUEUES; i++)
		v->q[i].kick_fd = -1;
	snprintf(v->be, sizeof(v->be), "%s/%u", vb->dir, devid);
	snprintf(v->fe, sizeof(v->fe), "/local/domain/%u/device/vbd/%u",
		 vb->g.domid, devid);
	params = xenbus_read(xb, XBT_NULL, "%s/params", v->be);
	mode = xenbus_read(xb, XBT_NULL, "%s/mode", v->be);
	fmt = xenbus_read(xb, XBT_NULL, "%s/format", v->be);
	dtype = xenbus_read(xb, XBT_NULL, "%s/device-type", v->be);
	fe = xenbus_read(xb, XBT_NULL, "%s/frontend", v->be);
	/* The frontend path is the toolstack's to write, but a backend
	 * directory naming another domain's device must not be served. */
	if (!params || !mode || !fe || strcmp(fe, v->fe)) {
		log_warnx("domain %u vbd %u: incomplete or foreign backend "
			  "directory %s: ignored",
			  vb->g.domid, devid, v->be);
		goto out;
	}
	snprintf(v->params, sizeof(v->params), "%s", params);
	v->cdrom = dtype && !strcmp(dtype, "cdrom");
	v->readonly = !strchr(mode, 'w') || v->cdrom;
	sp.path = v->params;
	sp.readonly = v->readonly;
	sp.format = fmt && !strcmp(fmt, "qcow2") ? BLK_FMT_QCOW2 : BLK_FMT_RAW;
	ret = blk_storage_open(&sp, &v->st, err, sizeof(err));
	if (ret) {
		log_warnx("domain %u vbd %u: %s", vb->g.domid, devid, err);
		snprintf(path, sizeof(path), "%s/hotplug-error", v->be);
		xenbus_printf(xb, XBT_NULL, path, "%s", err);
		xenbus_switch_state(xb, v->be, XenbusStateClosed);
		goto out;
	}
	v->st_fd = blk_storage_event_fd(v->st);
	ret = loop_add(v->st_fd, vbd_on_storage, v);
	if (ret)
		goto out;
	vbd_write_features(v);
	v->next = vb->devs;
	vb->devs = v;
	xenbus_switch_state(xb, v->be, XenbusStateInitWait);
	v->state = XenbusStateInitWait;
	snprintf(path, sizeof(path), "%s/state", v->fe);
	v->fe_watch = xenbus_watch(xb, path, vbd_frontend_changed, v);
	if (v->fe_watch < 0)
		log_warnx("domain %u vbd %u: cannot watch %s", vb->g.domid,
			  devid, path);
	log_info("domain %u vbd %u: %s (%s, %s)", vb->g.domid, devid, v->params,
		 sp.format == BLK_FMT_QCOW2 ? "qcow2" : "raw",
		 v->readonly ? "read-only" : "read-write");
	v = NULL;
	ret = 0;
out:
	if (v) {
		if (v->st) {
			if (v->st_fd >= 0)
				loop_del(v->st_fd);
			blk_storage_close(v->st);
		}
		free(v);
	}
	free(params);
	free(mode);
	free(fmt);
	free(dtype);
	free(fe);
	return ret;
}

static struct vbd_dev *vbd_find(struct vbd_backend *vb, uint32_t devid)
{
	for (struct vbd_dev *v = vb->devs; v; v = v->next)
		if (v->devid == devid)
			return v;
	return NULL;
}

/* Something under backend/vbd/<domid>/<devid> changed. */
static void vbd_dev_changed(struct vbd_backend *vb, uint32_t devid)
{
	struct xenbus *xb = vb->xb;
	struct vbd_dev *v = vbd_find(vb, devid);
	char dir[96];
	enum xenbus_state s;
	unsigned long long online;

	snprintf(dir, sizeof(dir), "%s/%u", vb->dir, devid);
	s = xenbus_read_state(xb, dir);
	online = xenbus_read_ull(xb, 1, "%s/online", dir);
	if (!v) {
		/* New device: the toolstack wrote it Initialising. */
		if (s == XenbusStateInitialising && online)
			vbd_dev_open(vb, devid);
		return;
	}
	if (s == XenbusStateUnknown) { /* directory removed */
		log_info("domain %u vbd %u: removed", vb->g.domid, devid);
		vbd_dev_free(v);
		return;
	}
	/* Detach: the toolstack set online = 0 and state = Closing; the
	 * frontend's Closed will end it. */
	if (!online && s == XenbusStateClosing && v->state != XenbusStateClosing &&
	    v->state != XenbusStateClosed) {
		v->state = XenbusStateClosing;
		if (xenbus_read_state(xb, v->fe) == XenbusStateClosed ||
		    xenbus_read_state(xb, v->fe) == XenbusStateUnknown ||
		    xenbus_read_state(xb, v->fe) == XenbusStateInitialising)
			vbd_frontend_changed(xb, NULL, v);
	}
}

static void vbd_dir_changed(struct xenbus *xb, const char *path, void *arg)
{
	struct vbd_backend *vb = arg;
	size_t n = strlen(vb->dir);
	char **ents;
	unsigned num = 0;

	if (!strncmp(path, vb->dir, n) && path[n] == '/') {
		char *end;
		unsigned long id = strtoul(path + n + 1, &end, 10);
		const char *key = *end == '/' ? end + 1 : "";

		/* Only the keys that drive the lifecycle; our own writes of
		 * the other keys fire this watch too. */
		if (end != path + n + 1 &&
		    (!*key || !strcmp(key, "state") || !strcmp(key, "online")))
			vbd_dev_changed(vb, (uint32_t)id);
		return;
	}
	/* The directory itself (initial event, created or removed): scan. */
	ents = xenbus_handle(xb) ? xs_directory(xenbus_handle(xb), XBT_NULL,
						 vb->dir, &num)
				 : NULL;
	for (unsigned i = 0; i < num; i++) {
		char *end;
		unsigned long id = strtoul(ents[i], &end, 10);

		if (!*end && end != ents[i])
			vbd_dev_changed(vb, (uint32_t)id);
	}
	free(ents);
	/* Devices whose directory went while we were not looking. */
	for (struct vbd_dev *v = vb->devs, *nx; v; v = nx) {
		nx = v->next;
		if (xenbus_read_state(xb, v->be) == XenbusStateUnknown)
			vbd_dev_changed(vb, v->devid);
	}
}

int vbd_backend_start(struct xenbus *xb, const struct be_guest *g,
		      struct vbd_backend **out)
{
	struct vbd_backend *vb = calloc(1, sizeof(*vb));

	if (!vb)
		return -ENOMEM;
	vb->xb = xb;
	vb->g = *g;
	vb->watch = -1;
	snprintf(vb->dir, sizeof(vb->dir), "/local/domain/0/backend/vbd/%u",
		 g->domid);
	/* Open what is there now, so that the caller knows before the guest
	 * runs; the watch's first event finds these devices known. */
	vbd_dir_changed(xb, vb->dir, vb);
	vb->watch = xenbus_watch(xb, vb->dir, vbd_dir_changed, vb);
	if (vb->watch < 0) {
		int ret = vb->watch;

		vbd_backend_stop(vb);
		return ret;
	}
	*out = vb;
	return 0;
}

unsigned vbd_backend_count(const struct vbd_backend *vb)
{
	unsigned n = 0;

	for (const struct vbd_dev *v = vb ? vb->devs : NULL; v; v = v->next)
		n++;
	return n;
}

unsigned vbd_backend_stats(const struct vbd_backend *vb, struct vbd_stats *out,
			   unsigned max)
{
	unsigned n = 0;

	for (const struct vbd_dev *v = vb ? vb->devs : NULL; v && n < max;
	     v = v->next, n++) {
		out[n] = v->done;
		out[n].devid = v->devid;
		for (unsigned i = 0; i < v->nr_queues; i++) {
			struct blk_ring_stats st;

			if (!v->q[i].ring)
				continue;
			blk_ring_get_stats(v->q[i].ring, &st);
			vbd_stats_add(&out[n], &st);
		}
	}
	return n;
}

void vbd_backend_stop(struct vbd_backend *vb)
{
	if (!vb)
		return;
	if (vb->watch >= 0)
		xenbus_unwatch(vb->xb, vb->watch);
	while (vb->devs)
		vbd_dev_free(vb->devs);
	free(vb);
}
