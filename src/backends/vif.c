/* Virtual network interfaces: xenbus lifecycle, the TAP device, the
 * hot-plug script, and the glue between the ring (net_ring.c) and the
 * event loop. */
#include "backends/vif.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <libgen.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/net_ring.h"
#include "common/log.h"
#include "domain/loop.h"

extern char **environ;

#define VIF_RX_BUF_SIZE (NET_RING_TX_BUF_SIZE + 256)
#define VIF_RX_BATCH 64 /* TAP packets taken per readable event */
#define VIF_SCRIPT_TIMEOUT_MS 30000
/* Queues offered (multi-queue-max-queues): one per guest vCPU, at most
 * this many.  Linux netback offers the host's CPU count because each of
 * its queues has kernel threads of its own; here every queue of a vif is
 * served by the one event loop of the domain process, so more queues only
 * help the guest (per-vCPU tx locks and interrupts), and four is plenty
 * for that. */
#define VIF_MAX_QUEUES 4

struct vif_dev;

/* One queue: its pair of rings, its event channel(s), and its TAP queue
 * (a file descriptor of the multi-queue TAP: the kernel spreads the
 * host's packets over the queues by flow, and each queue's reader puts
 * them on that queue's rx ring). */
struct vif_queue {
	struct vif_dev *v;
	unsigned idx;
	int tap_fd; /* queue 0's is opened with the device and kept */
	bool tap_polled;
	struct net_ring *ring;
	void *tx_sring, *rx_sring;
	uint32_t tx_ref, rx_ref;
	uint32_t tx_port, rx_port; /* equal when not split */
	int tx_fd, rx_fd;	   /* eventfds; rx_fd -1 when not split */
	bool tx_bound, rx_bound;
	uint8_t *rx_buf;
	size_t rx_len; /* a packet kept after -EAGAIN; 0: none */
};

struct vif_dev {
	struct vif_backend *vb;
	struct vif_dev *next;
	uint32_t devid;
	char be[128]; /* /local/domain/0/backend/vif/<domid>/<devid> */
	char fe[128]; /* /local/domain/<domid>/device/vif/<devid> */
	char ifname[IFNAMSIZ];
	char script[PATH_MAX];
	enum xenbus_state state; /* ours, as last written */
	int fe_watch;
	bool script_online;  /* the script ran "online" */
	unsigned max_queues; /* offered */
	unsigned nr_queues;  /* connected; 0 when not */
	struct vif_queue q[VIF_MAX_QUEUES];
	int timer_fd; /* credit timer, shared by the queues */
	bool broken;
	struct net_credit credit; /* shared by the queues */
	bool has_credit;
	void *tx_buf;	       /* shared by the queues (one thread) */
	struct vif_stats done; /* rings of earlier connections */
};

struct vif_backend {
	struct xenbus *xb;
	struct be_guest g;
	char dir[64]; /* /local/domain/0/backend/vif/<domid> */
	int watch;
	struct vif_dev *devs;
};

static void vif_disconnect(struct vif_dev *v);

static uint64_t vif_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- hot-plug script ---------------------------------------------- */

/* Where the scripts are: $KXEN_SCRIPT_DIR; else scripts/hotplug of the
 * repository the binary was built in (<repo>/build/bin/kxen-domain);
 * else /etc/xen/scripts. */
static void vif_script_dir(char *out, size_t len)
{
	const char *env = getenv("KXEN_SCRIPT_DIR");
	char self[PATH_MAX], probe[PATH_MAX + 64];
	ssize_t n;
	struct stat st;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(probe, sizeof(probe), "%s/../../scripts/hotplug",
			 dirname(self));
		if (stat(probe, &st) == 0 && S_ISDIR(st.st_mode) &&
		    snprintf(out, len, "%s", probe) < (int)len)
			return;
	}
	snprintf(out, len, "/etc/xen/scripts");
}

/* Runs the device's script with Xen's conventions: argument `cmd`
 * (online, offline, add, remove), environment XENBUS_PATH (the backend
 * directory) and vif (the interface).  Waits for it (bounded): the bridge
 * must hold the interface before the guest is told it is connected.
 * 0, or -errno / -EIO when it fails. */
static int vif_run_script(struct vif_dev *v, const char *cmd)
{
	char ev_path[192], ev_vif[64], ev_cmd[32];
	char *argv[] = {v->script, (char *)cmd, NULL};
	char **envp;
	size_t n = 0, i = 0;
	posix_spawnattr_t attr;
	sigset_t none;
	pid_t pid;
	int status, ret, waited = 0;

	if (!v->script[0])
		return 0;
	while (environ[n])
		n++;
	envp = calloc(n + 4, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	snprintf(ev_path, sizeof(ev_path), "XENBUS_PATH=%s", v->be);
	snprintf(ev_vif, sizeof(ev_vif), "vif=%s", v->ifname);
	snprintf(ev_cmd, sizeof(ev_cmd), "command=%s", cmd);
	for (size_t k = 0; k < n; k++)
		if (strncmp(environ[k], "XENBUS_PATH=", 12) &&
		    strncmp(environ[k], "vif=", 4) &&
		    strncmp(environ[k], "command=", 8))
			envp[i++] = environ[k];
	envp[i++] = ev_path;
	envp[i++] = ev_vif;
	envp[i++] = ev_cmd;
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	ret = posix_spawn(&pid, v->script, NULL, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	free(envp);
	if (ret) {
		log_warnx("domain %u vif %u: cannot run %s: %s", v->vb->g.domid,
			  v->devid, v->script, strerror(ret));
		return -ret;
	}
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (waited >= VIF_SCRIPT_TIMEOUT_MS) {
			log_warnx("domain %u vif %u: %s %s still running "
				  "after %d s: killed",
				  v->vb->g.domid, v->devid, v->script, cmd,
				  VIF_SCRIPT_TIMEOUT_MS / 1000);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
		usleep(10000);
		waited += 10;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		log_warnx("domain %u vif %u: %s %s failed (status %d)",
			  v->vb->g.domid, v->devid, v->script, cmd, status);
		return -EIO;
	}
	log_debug("domain %u vif %u: %s %s done", v->vb->g.domid, v->devid,
		  v->script, cmd);
	return 0;
}

/* ---- TAP ------------------------------------------------------------ */

/* Opens one queue of the TAP (the first creates the interface, the others
 * attach to it): always IFF_MULTI_QUEUE, so that a frontend asking for
 * more queues later can have them. */
static int vif_tap_open(struct vif_dev *v, struct vif_queue *q)
{
	struct ifreq ifr;
	int fd, hdr = (int)NET_VNET_HDR_LEN;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", v->ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    (q->idx == 0 && ioctl(fd, TUNSETOFFLOAD, 0) < 0)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	q->tap_fd = fd;
	return 0;
}

/* The offloads the TAP may hand us: what the frontend takes on its rx
 * ring (net_ring completes partial checksums for a frontend that wants
 * none, but then cannot give it GSO frames). */
static int vif_tap_offload(struct vif_dev *v, bool sg, bool tso4, bool tso6,
			   bool no_csum)
{
	unsigned long off = TUN_F_CSUM;

	if (sg && !no_csum) {
		if (tso4)
			off |= TUN_F_TSO4;
		if (tso6)
			off |= TUN_F_TSO6;
	}
	if (ioctl(v->q[0].tap_fd, TUNSETOFFLOAD, off) < 0)
		return -errno;
	return 0;
}

/* ---- data path ---------------------------------------------------- */

static void vif_broken(struct vif_dev *v)
{
	if (v->broken)
		return;
	v->broken = true;
	log_warnx("domain %u vif %u: the frontend corrupted a ring; closing "
		  "the device",
		  v->vb->g.domid, v->devid);
	xenbus_switch_state(v->vb->xb, v->be, XenbusStateClosing);
	v->state = XenbusStateClosing;
}

/* A guest packet goes out through the TAP queue of the ring it came on. */
static int vif_deliver(void *opaque, const void *pkt, size_t len)
{
	struct vif_queue *q = opaque;
	ssize_t n = write(q->tap_fd, pkt, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static const struct net_host_ops vif_host_ops = {
    .deliver = vif_deliver,
};

static int vif_grant_map(void *opaque, uint16_t domid, grant_ref_t ref,
			 bool writable, void **page)
{
	struct vif_backend *vb = opaque;
	int err = 0;
	void *p = vb->g.map_grant(vb->g.opaque, ref, writable, &err);

	(void)domid;
	if (!p)
		return err ? err : -EINVAL;
	*page = p;
	return 0;
}

static void vif_grant_unmap(void *opaque, uint16_t domid, grant_ref_t ref,
			    bool writable, void *page)
{
	struct vif_backend *vb = opaque;

	(void)domid;
	(void)page;
	vb->g.unmap_grant(vb->g.opaque, ref, writable);
}

static const struct net_grant_ops vif_grant_ops = {
    .map = vif_grant_map,
    .unmap = vif_grant_unmap,
};

static void vif_on_tap(int fd, void *arg);

static void vif_tap_poll(struct vif_queue *q, bool on)
{
	if (on == q->tap_polled || q->tap_fd < 0)
		return;
	if (on) {
		if (loop_add(q->tap_fd, vif_on_tap, q) == 0)
			q->tap_polled = true;
	} else {
		loop_del(q->tap_fd);
		q->tap_polled = false;
	}
}

/* Guest -> host on one queue, until its ring has nothing to take now. */
static void vif_tx(struct vif_queue *q)
{
	struct vif_dev *v = q->v;
	unsigned flags, rounds = 0;
	uint64_t retry_at = 0;
	bool notify = false;
	int ret;

	if (!q->ring || v->broken)
		return;
	do {
		flags = 0;
		ret = net_ring_tx(q->ring, vif_now_us(), &flags, &retry_at);
		notify |= flags & NET_RING_NOTIFY;
	} while (!ret && (flags & NET_RING_MORE) && ++rounds < 16);
	if (notify)
		v->vb->g.notify(v->vb->g.opaque, q->tx_port);
	if (ret == -EIO) {
		vif_broken(v);
		return;
	}
	if (flags & NET_RING_MORE) {
		uint64_t one = 1;

		if (write(q->tx_fd, &one, sizeof(one)) < 0)
			log_warn("vif %u: rescheduling", v->devid);
	} else if ((flags & NET_RING_CREDIT) && v->timer_fd >= 0) {
		uint64_t now = vif_now_us(),
			 wait = retry_at > now ? retry_at - now : 1;
		struct itimerspec its = {
		    .it_value = {.tv_sec = (time_t)(wait / 1000000u),
				 .tv_nsec = (long)(wait % 1000000u) * 1000},
		};

		timerfd_settime(v->timer_fd, 0, &its, NULL);
	}
}

/* Host -> guest on one queue: the packet kept from last time, then what
 * its TAP queue has, until the guest runs out of buffers on this queue
 * (the TAP queue is then left unread until the rx event) or the TAP queue
 * is empty. */
static void vif_rx(struct vif_queue *q)
{
	struct vif_dev *v = q->v;
	bool notify = false;
	unsigned flags;
	int ret = 0;

	if (!q->ring || v->broken)
		return;
	for (unsigned i = 0; i < VIF_RX_BATCH; i++) {
		if (!q->rx_len) {
			ssize_t n = read(q->tap_fd, q->rx_buf, VIF_RX_BUF_SIZE);

			if (n <= 0)
				break;
			q->rx_len = (size_t)n;
		}
		flags = 0;
		ret = net_ring_rx(q->ring, q->rx_buf, q->rx_len, &flags);
		notify |= flags & NET_RING_NOTIFY;
		if (ret == -EAGAIN)
			break;
		q->rx_len = 0;
		if (ret == -EIO)
			break;
	}
	if (notify)
		v->vb->g.notify(v->vb->g.opaque, q->rx_port);
	if (ret == -EIO) {
		vif_broken(v);
		vif_tap_poll(q, false);
		return;
	}
	vif_tap_poll(q, q->rx_len == 0);
}

static void vif_on_tap(int fd, void *arg)
{
	(void)fd;
	vif_rx(arg);
}

static void vif_drain_eventfd(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("vif eventfd");
}

/* The tx channel (the only one when not split): both directions. */
static void vif_on_tx_event(int fd, void *arg)
{
	struct vif_queue *q = arg;

	vif_drain_eventfd(fd);
	vif_tx(q);
	if (q->rx_fd < 0 && q->rx_len)
		vif_rx(q);
}

static void vif_on_rx_event(int fd, void *arg)
{
	struct vif_queue *q = arg;

	vif_drain_eventfd(fd);
	if (q->rx_len)
		vif_rx(q);
}

/* The credit is the vif's, shared by its queues: each gets its turn. */
static void vif_on_timer(int fd, void *arg)
{
	struct vif_dev *v = arg;

	vif_drain_eventfd(fd);
	for (unsigned i = 0; i < v->nr_queues; i++)
		vif_tx(&v->q[i]);
}

/* ---- connection --------------------------------------------------- */

/* dir/key as an unsigned 32-bit number; -ENOENT when absent or not one. */
static int vif_read_u32(struct vif_dev *v, const char *dir, const char *key,
			uint32_t *out)
{
	unsigned long long n =
	    xenbus_read_ull(v->vb->xb, ~0ull, "%s/%s", dir, key);

	if (n > UINT32_MAX)
		return -ENOENT;
	*out = (uint32_t)n;
	return 0;
}

static int vif_bind(struct vif_queue *q, uint32_t port, int *fd, bool *bound,
		    loop_cb cb)
{
	struct vif_dev *v = q->v;
	struct vif_backend *vb = v->vb;
	int ret;

	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*fd < 0)
		return -errno;
	ret = vb->g.bind_evtchn(vb->g.opaque, port, *fd);
	if (ret) {
		log_warnx(
		    "domain %u vif %u queue %u: cannot bind event channel "
		    "%u: %s",
		    vb->g.domid, v->devid, q->idx, port, strerror(-ret));
		return ret;
	}
	*bound = true;
	return loop_add(*fd, cb, q);
}

/* The frontend's keys of queue q: in its directory itself for one queue,
 * in queue-<n>/ for several (netif.h's multi-queue rule).  Ring refs,
 * event-channel or event-channel-tx + -rx (feature-split-event-channels).
 * *split says which. */
static int vif_queue_keys(struct vif_dev *v, struct vif_queue *q, unsigned nr,
			  bool *split)
{
	struct vif_backend *vb = v->vb;
	char dir[160];

	if (nr == 1)
		snprintf(dir, sizeof(dir), "%s", v->fe);
	else
		snprintf(dir, sizeof(dir), "%s/queue-%u", v->fe, q->idx);
	if (vif_read_u32(v, dir, "tx-ring-ref", &q->tx_ref) ||
	    vif_read_u32(v, dir, "rx-ring-ref", &q->rx_ref)) {
		log_warnx("domain %u vif %u queue %u: no valid "
			  "tx-ring-ref/rx-ring-ref in %s",
			  vb->g.domid, v->devid, q->idx, dir);
		return -EINVAL;
	}
	*split = !vif_read_u32(v, dir, "event-channel-tx", &q->tx_port);
	if (*split ? vif_read_u32(v, dir, "event-channel-rx", &q->rx_port)
		   : vif_read_u32(v, dir, "event-channel", &q->tx_port)) {
		log_warnx("domain %u vif %u queue %u: no valid event channel "
			  "in %s",
			  vb->g.domid, v->devid, q->idx, dir);
		return -EINVAL;
	}
	if (!*split)
		q->rx_port = q->tx_port;
	return 0;
}

/* Maps queue q's rings, makes its net_ring from cfg (the queue's own
 * fields filled here), opens its TAP queue and binds its channel(s). */
static int vif_queue_connect(struct vif_dev *v, struct vif_queue *q,
			     struct net_ring_config *cfg, bool split)
{
	struct vif_backend *vb = v->vb;
	int err = 0, ret;

	q->tx_sring = vb->g.map_ring(vb->g.opaque, &q->tx_ref, 1, &err);
	if (q->tx_sring)
		q->rx_sring = vb->g.map_ring(vb->g.opaque, &q->rx_ref, 1, &err);
	if (!q->tx_sring || !q->rx_sring) {
		log_warnx("domain %u vif %u queue %u: cannot map rings (grants "
			  "%u, %u): %s",
			  vb->g.domid, v->devid, q->idx, q->tx_ref, q->rx_ref,
			  strerror(err ? -err : EINVAL));
		return err ? err : -EINVAL;
	}
	if (q->tap_fd < 0) {
		ret = vif_tap_open(v, q);
		if (ret) {
			log_warnx("domain %u vif %u queue %u: cannot attach a "
				  "queue to TAP %s: %s",
				  vb->g.domid, v->devid, q->idx, v->ifname,
				  strerror(-ret));
			return ret;
		}
	}
	if (!q->rx_buf) {
		q->rx_buf = malloc(VIF_RX_BUF_SIZE);
		if (!q->rx_buf)
			return -ENOMEM;
	}
	cfg->tx_sring = q->tx_sring;
	cfg->rx_sring = q->rx_sring;
	cfg->queue = q->idx;
	cfg->host_opaque = q;
	ret = net_ring_create(cfg, &q->ring);
	if (ret)
		return ret;
	ret = vif_bind(q, q->tx_port, &q->tx_fd, &q->tx_bound, vif_on_tx_event);
	if (!ret && split)
		ret = vif_bind(q, q->rx_port, &q->rx_fd, &q->rx_bound,
			       vif_on_rx_event);
	return ret;
}

/* The frontend is Connected: map its rings and say Connected. */
static int vif_connect(struct vif_dev *v)
{
	struct vif_backend *vb = v->vb;
	struct xenbus *xb = vb->xb;
	struct net_ring_config cfg = {0};
	unsigned long long nq;
	char *rate;
	int ret;
	bool split = false, qsplit;

#define FE_FLAG(k, def) (xenbus_read_ull(xb, def, "%s/" k, v->fe) == 1)
	if (!FE_FLAG("request-rx-copy", 0)) {
		log_warnx("domain %u vif %u: the frontend does not ask for "
			  "request-rx-copy (flipping is not supported)",
			  vb->g.domid, v->devid);
		return -EPROTONOSUPPORT;
	}
	nq = xenbus_read_ull(xb, 1, "%s/multi-queue-num-queues", v->fe);
	if (nq < 1 || nq > v->max_queues) {
		log_warnx("domain %u vif %u: multi-queue-num-queues %llu "
			  "refused (1 to %u offered)",
			  vb->g.domid, v->devid, nq, v->max_queues);
		return -EINVAL;
	}
	for (unsigned i = 0; i < nq; i++) {
		if (vif_queue_keys(v, &v->q[i], (unsigned)nq, &qsplit))
			return -EINVAL;
		split |= qsplit;
	}
	cfg.rx_sg = FE_FLAG("feature-sg", 0);
	cfg.rx_gso_tcpv4 = FE_FLAG("feature-gso-tcpv4", 0);
	cfg.rx_gso_tcpv6 = FE_FLAG("feature-gso-tcpv6", 0);
	cfg.rx_no_csum = FE_FLAG("feature-no-csum-offload", 0);
#undef FE_FLAG

	v->has_credit = false;
	rate = xenbus_read(xb, XBT_NULL, "%s/rate", v->be);
	if (rate) {
		unsigned long long bytes, usec;

		if (sscanf(rate, "%llu,%llu", &bytes, &usec) == 2 && bytes &&
		    !net_credit_init(&v->credit, bytes, usec, vif_now_us()))
			v->has_credit = true;
		else
			log_warnx("domain %u vif %u: rate '%s' ignored",
				  vb->g.domid, v->devid, rate);
		free(rate);
	}
	cfg.domid = vb->g.domid;
	cfg.devid = v->devid;
	cfg.credit = v->has_credit ? &v->credit : NULL;
	cfg.tx_buf = v->tx_buf;
	cfg.tx_buf_size = NET_RING_TX_BUF_SIZE;
	cfg.grant = &vif_grant_ops;
	cfg.grant_opaque = vb;
	cfg.host = &vif_host_ops;
	v->nr_queues = (unsigned)nq;
	for (unsigned i = 0; i < nq; i++) {
		ret = vif_queue_connect(v, &v->q[i], &cfg,
					v->q[i].tx_port != v->q[i].rx_port);
		if (ret)
			goto fail;
	}
	ret = vif_tap_offload(v, cfg.rx_sg, cfg.rx_gso_tcpv4, cfg.rx_gso_tcpv6,
			      cfg.rx_no_csum);
	if (ret)
		log_warnx("domain %u vif %u: TUNSETOFFLOAD: %s", vb->g.domid,
			  v->devid, strerror(-ret));
	if (v->has_credit) {
		v->timer_fd =
		    timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (v->timer_fd >= 0 &&
		    loop_add(v->timer_fd, vif_on_timer, v)) {
			close(v->timer_fd);
			v->timer_fd = -1;
		}
	}
	v->broken = false;
	for (unsigned i = 0; i < nq; i++)
		vif_tap_poll(&v->q[i], true);
	xenbus_switch_state(xb, v->be, XenbusStateConnected);
	v->state = XenbusStateConnected;
	log_info("domain %u vif %u: connected (%s%s%s%s%s, %llu queue%s, %s "
		 "event channel%s)",
		 vb->g.domid, v->devid, v->ifname, cfg.rx_sg ? ", sg" : "",
		 cfg.rx_gso_tcpv4 ? ", gso-tcpv4" : "",
		 cfg.rx_gso_tcpv6 ? ", gso-tcpv6" : "",
		 cfg.rx_no_csum ? ", no-csum" : "", nq, nq == 1 ? "" : "s",
		 split ? "split" : "one", split ? "s" : "");
	/* Whatever the frontend queued before we listened. */
	for (unsigned i = 0; i < nq; i++)
		vif_tx(&v->q[i]);
	return 0;

fail:
	vif_disconnect(v);
	return ret;
}

static void vif_unbind(struct vif_dev *v, uint32_t port, int *fd, bool *bound)
{
	if (*fd < 0)
		return;
	loop_del(*fd);
	if (*bound)
		v->vb->g.unbind_evtchn(v->vb->g.opaque, port, *fd);
	close(*fd);
	*fd = -1;
	*bound = false;
}

static void vif_stats_add(struct vif_stats *to, const struct net_ring_stats *st)
{
	to->tx_packets += st->tx_packets;
	to->tx_bytes += st->tx_bytes;
	to->rx_packets += st->rx_packets;
	to->rx_bytes += st->rx_bytes;
}

/* Releases one queue's rings (their grants) and channels; its TAP queue
 * is detached, except queue 0's, which holds the interface. */
static void vif_queue_disconnect(struct vif_dev *v, struct vif_queue *q,
				 struct net_ring_stats *sum)
{
	struct vif_backend *vb = v->vb;

	vif_tap_poll(q, false);
	vif_unbind(v, q->tx_port, &q->tx_fd, &q->tx_bound);
	vif_unbind(v, q->rx_port, &q->rx_fd, &q->rx_bound);
	if (q->ring) {
		struct net_ring_stats st;

		net_ring_get_stats(q->ring, &st);
		sum->tx_packets += st.tx_packets;
		sum->tx_bytes += st.tx_bytes;
		sum->tx_dropped += st.tx_dropped;
		sum->rx_packets += st.rx_packets;
		sum->rx_bytes += st.rx_bytes;
		sum->rx_dropped += st.rx_dropped;
	}
	net_ring_destroy(q->ring);
	q->ring = NULL;
	if (q->tx_sring)
		vb->g.unmap_ring(vb->g.opaque, q->tx_sring, &q->tx_ref, 1);
	if (q->rx_sring)
		vb->g.unmap_ring(vb->g.opaque, q->rx_sring, &q->rx_ref, 1);
	q->tx_sring = q->rx_sring = NULL;
	q->rx_len = 0;
	if (q->idx > 0) {
		if (q->tap_fd >= 0)
			close(q->tap_fd);
		q->tap_fd = -1;
		free(q->rx_buf);
		q->rx_buf = NULL;
	}
}

/* Releases the rings (their grants) and the event channels; the TAP stays
 * (for a frontend that comes back) but is not read meanwhile. */
static void vif_disconnect(struct vif_dev *v)
{
	struct vif_backend *vb = v->vb;
	struct net_ring_stats sum;
	bool had = false;

	memset(&sum, 0, sizeof(sum));
	for (unsigned i = 0; i < VIF_MAX_QUEUES; i++) {
		had |= v->q[i].ring != NULL;
		vif_queue_disconnect(v, &v->q[i], &sum);
	}
	if (v->timer_fd >= 0) {
		loop_del(v->timer_fd);
		close(v->timer_fd);
		v->timer_fd = -1;
	}
	if (had)
		log_info("domain %u vif %u: disconnected (tx %llu packets, "
			 "%llu dropped; rx %llu packets, %llu dropped)",
			 vb->g.domid, v->devid,
			 (unsigned long long)sum.tx_packets,
			 (unsigned long long)sum.tx_dropped,
			 (unsigned long long)sum.rx_packets,
			 (unsigned long long)sum.rx_dropped);
	vif_stats_add(&v->done, &sum);
	v->nr_queues = 0;
	v->broken = false;
}

/* ---- lifecycle ------------------------------------------------------ */

static void vif_write_features(struct vif_dev *v)
{
	struct xenbus *xb = v->vb->xb;
	char p[192];

#define KEY(k) (snprintf(p, sizeof(p), "%s/%s", v->be, k), p)
	xenbus_printf(xb, XBT_NULL, KEY("feature-rx-copy"), "1");
	xenbus_printf(xb, XBT_NULL, KEY("feature-rx-flip"), "0");
	xenbus_printf(xb, XBT_NULL, KEY("feature-sg"), "1");
	xenbus_printf(xb, XBT_NULL, KEY("feature-gso-tcpv4"), "1");
	xenbus_printf(xb, XBT_NULL, KEY("feature-gso-tcpv6"), "1");
	xenbus_printf(xb, XBT_NULL, KEY("feature-ipv6-csum-offload"), "1");
	xenbus_printf(xb, XBT_NULL, KEY("feature-split-event-channels"), "1");
	xenbus_printf(xb, XBT_NULL, KEY("multi-queue-max-queues"), "%u",
		      v->max_queues);
#undef KEY
}

static void vif_dev_free(struct vif_dev *v)
{
	struct vif_dev **pp;

	vif_disconnect(v);
	if (v->fe_watch >= 0)
		xenbus_unwatch(v->vb->xb, v->fe_watch);
	if (v->script_online)
		vif_run_script(v, "offline");
	if (v->q[0].tap_fd >= 0)
		close(v->q[0].tap_fd);
	for (pp = &v->vb->devs; *pp; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	free(v->tx_buf);
	free(v->q[0].rx_buf);
	free(v);
}

/* The frontend changed state: follow it as netback does. */
static void vif_frontend_changed(struct xenbus *xb, const char *path, void *arg)
{
	struct vif_dev *v = arg;
	enum xenbus_state fs = xenbus_read_state(xb, v->fe);

	(void)path;
	log_debug("domain %u vif %u: frontend %s, backend %s", v->vb->g.domid,
		  v->devid, xenbus_state_name(fs), xenbus_state_name(v->state));
	switch (fs) {
	case XenbusStateInitialising:
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
		if (vif_connect(v)) {
			xenbus_switch_state(xb, v->be, XenbusStateClosing);
			v->state = XenbusStateClosing;
		}
		break;
	case XenbusStateClosing:
		vif_disconnect(v);
		xenbus_switch_state(xb, v->be, XenbusStateClosing);
		v->state = XenbusStateClosing;
		break;
	case XenbusStateClosed:
	case XenbusStateUnknown:
		vif_disconnect(v);
		if (v->state != XenbusStateClosed) {
			xenbus_switch_state(xb, v->be, XenbusStateClosed);
			v->state = XenbusStateClosed;
		}
		break;
	default:
		break;
	}
}

static int vif_dev_open(struct vif_backend *vb, uint32_t devid)
{
	struct xenbus *xb = vb->xb;
	struct vif_dev *v = calloc(1, sizeof(*v));
	char *fe = NULL, *name = NULL, *script = NULL, dir[PATH_MAX];
	char path[192];
	int ret = -EINVAL;

	if (!v)
		return -ENOMEM;
	v->vb = vb;
	v->devid = devid;
	v->fe_watch = -1;
	v->timer_fd = -1;
	for (unsigned i = 0; i < VIF_MAX_QUEUES; i++) {
		v->q[i].v = v;
		v->q[i].idx = i;
		v->q[i].tap_fd = v->q[i].tx_fd = v->q[i].rx_fd = -1;
	}
	v->max_queues = vb->g.nr_vcpus < 1		  ? 1
			: vb->g.nr_vcpus > VIF_MAX_QUEUES ? VIF_MAX_QUEUES
							  : vb->g.nr_vcpus;
	snprintf(v->be, sizeof(v->be), "%s/%u", vb->dir, devid);
	snprintf(v->fe, sizeof(v->fe), "/local/domain/%u/device/vif/%u",
		 vb->g.domid, devid);
	fe = xenbus_read(xb, XBT_NULL, "%s/frontend", v->be);
	if (!fe || strcmp(fe, v->fe)) {
		log_warnx("domain %u vif %u: incomplete or foreign backend "
			  "directory %s: ignored",
			  vb->g.domid, devid, v->be);
		goto out;
	}
	name = xenbus_read(xb, XBT_NULL, "%s/vifname", v->be);
	if (name && *name && strlen(name) < IFNAMSIZ && !strchr(name, '/'))
		snprintf(v->ifname, sizeof(v->ifname), "%s", name);
	else
		snprintf(v->ifname, sizeof(v->ifname), "vif%u.%u", vb->g.domid,
			 devid);
	script = xenbus_read(xb, XBT_NULL, "%s/script", v->be);
	if (script && script[0] == '/') {
		snprintf(v->script, sizeof(v->script), "%s", script);
	} else {
		vif_script_dir(dir, sizeof(dir));
		if (snprintf(v->script, sizeof(v->script), "%s/%s", dir,
			     script && *script ? script : "vif-bridge") >=
		    (int)sizeof(v->script))
			v->script[0] = '\0';
	}
	v->tx_buf = malloc(NET_RING_TX_BUF_SIZE);
	v->q[0].rx_buf = malloc(VIF_RX_BUF_SIZE);
	if (!v->tx_buf || !v->q[0].rx_buf) {
		ret = -ENOMEM;
		goto out;
	}
	ret = vif_tap_open(v, &v->q[0]);
	if (ret) {
		log_warnx("domain %u vif %u: cannot open TAP %s: %s",
			  vb->g.domid, devid, v->ifname, strerror(-ret));
		snprintf(path, sizeof(path), "%s/hotplug-error", v->be);
		xenbus_printf(xb, XBT_NULL, path, "cannot open TAP %s: %s",
			      v->ifname, strerror(-ret));
		xenbus_switch_state(xb, v->be, XenbusStateClosed);
		goto out;
	}
	ret = vif_run_script(v, "online");
	if (ret) {
		snprintf(path, sizeof(path), "%s/hotplug-error", v->be);
		xenbus_printf(xb, XBT_NULL, path, "%s online failed",
			      v->script);
		xenbus_switch_state(xb, v->be, XenbusStateClosed);
		goto out;
	}
	v->script_online = true;
	vif_write_features(v);
	v->next = vb->devs;
	vb->devs = v;
	xenbus_switch_state(xb, v->be, XenbusStateInitWait);
	v->state = XenbusStateInitWait;
	snprintf(path, sizeof(path), "%s/state", v->fe);
	v->fe_watch = xenbus_watch(xb, path, vif_frontend_changed, v);
	if (v->fe_watch < 0)
		log_warnx("domain %u vif %u: cannot watch %s", vb->g.domid,
			  devid, path);
	log_info("domain %u vif %u: %s (script %s)", vb->g.domid, devid,
		 v->ifname, v->script);
	v = NULL;
	ret = 0;
out:
	if (v) {
		if (v->q[0].tap_fd >= 0)
			close(v->q[0].tap_fd);
		free(v->tx_buf);
		free(v->q[0].rx_buf);
		free(v);
	}
	free(fe);
	free(name);
	free(script);
	return ret;
}

static struct vif_dev *vif_find(struct vif_backend *vb, uint32_t devid)
{
	for (struct vif_dev *v = vb->devs; v; v = v->next)
		if (v->devid == devid)
			return v;
	return NULL;
}

/* Something under backend/vif/<domid>/<devid> changed. */
static void vif_dev_changed(struct vif_backend *vb, uint32_t devid)
{
	struct xenbus *xb = vb->xb;
	struct vif_dev *v = vif_find(vb, devid);
	char dir[96];
	enum xenbus_state s, fs;
	unsigned long long online;

	snprintf(dir, sizeof(dir), "%s/%u", vb->dir, devid);
	s = xenbus_read_state(xb, dir);
	online = xenbus_read_ull(xb, 1, "%s/online", dir);
	if (!v) {
		if (s == XenbusStateInitialising && online)
			vif_dev_open(vb, devid);
		return;
	}
	if (s == XenbusStateUnknown) {
		log_info("domain %u vif %u: removed", vb->g.domid, devid);
		vif_dev_free(v);
		return;
	}
	if (!online && s == XenbusStateClosing &&
	    v->state != XenbusStateClosing && v->state != XenbusStateClosed) {
		v->state = XenbusStateClosing;
		fs = xenbus_read_state(xb, v->fe);
		if (fs == XenbusStateClosed || fs == XenbusStateUnknown ||
		    fs == XenbusStateInitialising)
			vif_frontend_changed(xb, NULL, v);
	}
}

static void vif_dir_changed(struct xenbus *xb, const char *path, void *arg)
{
	struct vif_backend *vb = arg;
	size_t n = strlen(vb->dir);
	char **ents;
	unsigned num = 0;

	if (!strncmp(path, vb->dir, n) && path[n] == '/') {
		char *end;
		unsigned long id = strtoul(path + n + 1, &end, 10);
		const char *key = *end == '/' ? end + 1 : "";

		if (end != path + n + 1 &&
		    (!*key || !strcmp(key, "state") || !strcmp(key, "online")))
			vif_dev_changed(vb, (uint32_t)id);
		return;
	}
	ents = xenbus_handle(xb)
		   ? xs_directory(xenbus_handle(xb), XBT_NULL, vb->dir, &num)
		   : NULL;
	for (unsigned i = 0; i < num; i++) {
		char *end;
		unsigned long id = strtoul(ents[i], &end, 10);

		if (!*end && end != ents[i])
			vif_dev_changed(vb, (uint32_t)id);
	}
	free(ents);
	for (struct vif_dev *v = vb->devs, *nx; v; v = nx) {
		nx = v->next;
		if (xenbus_read_state(xb, v->be) == XenbusStateUnknown)
			vif_dev_changed(vb, v->devid);
	}
}

int vif_backend_start(struct xenbus *xb, const struct be_guest *g,
		      struct vif_backend **out)
{
	struct vif_backend *vb = calloc(1, sizeof(*vb));

	if (!vb)
		return -ENOMEM;
	vb->xb = xb;
	vb->g = *g;
	snprintf(vb->dir, sizeof(vb->dir), "/local/domain/0/backend/vif/%u",
		 g->domid);
	vb->watch = xenbus_watch(xb, vb->dir, vif_dir_changed, vb);
	if (vb->watch < 0) {
		int ret = vb->watch;

		free(vb);
		return ret;
	}
	*out = vb;
	return 0;
}

unsigned vif_backend_stats(const struct vif_backend *vb, struct vif_stats *out,
			   unsigned max)
{
	unsigned n = 0;

	for (const struct vif_dev *v = vb ? vb->devs : NULL; v && n < max;
	     v = v->next, n++) {
		out[n] = v->done;
		out[n].devid = v->devid;
		for (unsigned i = 0; i < VIF_MAX_QUEUES; i++) {
			struct net_ring_stats st;

			if (!v->q[i].ring)
				continue;
			net_ring_get_stats(v->q[i].ring, &st);
			vif_stats_add(&out[n], &st);
		}
	}
	return n;
}

void vif_backend_stop(struct vif_backend *vb)
{
	if (!vb)
		return;
	xenbus_unwatch(vb->xb, vb->watch);
	while (vb->devs)
		vif_dev_free(vb->devs);
	free(vb);
}
