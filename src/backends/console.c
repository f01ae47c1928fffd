/* PV console backend: drains the guest's output ring to the log file,
 * stdout and the pty, and feeds input from stdin or the pty into the
 * guest's input ring. */
#include "backends/console.h"

#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>
#include <xen/io/console.h>

#include "common/log.h"
#include "domain/boot/layout.h"
#include "domain/domain.h"
#include "domain/loop.h"

_Static_assert(sizeof(struct xencons_interface) == 1024 + 2048 + 16,
	       "xencons_interface");

struct console_backend {
	struct domain *dom;
	struct xencons_interface *ring;
	uint32_t port;
	int kick_fd;   /* eventfd the guest's sends signal */
	int log_fd;    /* -1 if none */
	int in_fd;     /* stdin or pty master, -1 if none */
	int out_fd;    /* stdout, -1 if none */
	int pty_fd;    /* pty master, -1 if none */
	int pty_slave; /* held open so the master never sees a hang-up */
	char pty_path[64];
	pthread_mutex_t out_lock;
	bool ring_broken; /* logged once when the guest corrupts indices */
};

static void console_emit(struct console_backend *c, const void *buf,
			 size_t len)
{
	pthread_mutex_lock(&c->out_lock);
	if (c->log_fd >= 0 && write(c->log_fd, buf, len) < 0)
		log_warn("console log");
	if (c->out_fd >= 0 && write(c->out_fd, buf, len) < 0 && errno != EAGAIN)
		c->out_fd = -1; /* reader went away: stop writing there */
	/* A pty nobody reads fills up: drop rather than stall the guest. */
	if (c->pty_fd >= 0 && write(c->pty_fd, buf, len) < 0 &&
	    errno != EAGAIN && errno != EIO)
		log_warn("console pty");
	pthread_mutex_unlock(&c->out_lock);
}

void console_debug_write(struct domain *d, const void *buf, size_t len)
{
	if (d->console)
		console_emit(d->console, buf, len);
}

const char *console_pty_path(struct domain *d)
{
	return d->console && d->console->pty_fd >= 0 ? d->console->pty_path
						     : NULL;
}

/* Guest -> host.  The guest owns out_prod; we own out_cons.  A producer
 * index more than a ring ahead of the consumer is corrupt: skip it all. */
static void console_drain(struct console_backend *c)
{
	struct xencons_interface *r = c->ring;
	XENCONS_RING_IDX cons, prod;
	char buf[sizeof(r->out)];
	size_t n = 0;

	cons = __atomic_load_n(&r->out_cons, __ATOMIC_RELAXED);
	prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE);
	if (prod - cons > sizeof(r->out)) {
		if (!c->ring_broken)
			log_warnx("domain %s: console ring indices corrupt "
				  "(prod %u cons %u): output dropped",
				  c->dom->cfg->name, prod, cons);
		c->ring_broken = true;
		__atomic_store_n(&r->out_cons, prod, __ATOMIC_RELEASE);
		return;
	}
	while (cons != prod)
		buf[n++] = r->out[MASK_XENCONS_IDX(cons++, r->out)];
	__atomic_store_n(&r->out_cons, cons, __ATOMIC_RELEASE);
	if (n) {
		console_emit(c, buf, n);
		evtchn_notify_guest(c->dom, c->port);
	}
}

static void console_on_kick(int fd, void *arg)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("console eventfd");
	console_drain(arg);
}

/* Host -> guest.  We own in_prod; the guest owns in_cons. */
static void console_on_input(int fd, void *arg)
{
	struct console_backend *c = arg;
	struct xencons_interface *r = c->ring;
	XENCONS_RING_IDX cons, prod;
	char buf[sizeof(r->in)];
	size_t space;
	ssize_t n;

	cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(&r->in_prod, __ATOMIC_RELAXED);
	if (prod - cons > sizeof(r->in))
		return; /* corrupt: leave input pending until it recovers */
	space = sizeof(r->in) - (prod - cons);
	if (!space)
		return;
	n = read(fd, buf, space);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			loop_del(fd); /* input closed */
			if (fd == c->in_fd)
				c->in_fd = -1;
		}
		return;
	}
	for (ssize_t i = 0; i < n; i++)
		r->in[MASK_XENCONS_IDX(prod++, r->in)] = buf[i];
	__atomic_store_n(&r->in_prod, prod, __ATOMIC_RELEASE);
	evtchn_notify_guest(c->dom, c->port);
}

/* With no slave open, a pty master reads EIO and polls as hung up, and
 * users come and go (kxl console): so we keep one slave fd open ourselves,
 * as xenconsoled does. */
static int console_open_pty(struct console_backend *c)
{
	struct termios t;

	if (openpty(&c->pty_fd, &c->pty_slave, c->pty_path, NULL, NULL) < 0)
		return -errno;
	/* Raw: the guest's tty does the line discipline. */
	if (tcgetattr(c->pty_slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(c->pty_slave, TCSANOW, &t);
	}
	fcntl(c->pty_slave, F_SETFD, FD_CLOEXEC);
	fcntl(c->pty_fd, F_SETFL, fcntl(c->pty_fd, F_GETFL) | O_NONBLOCK);
	fcntl(c->pty_fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

int console_backend_create(struct domain *d)
{
	const struct domain_config *cfg = d->cfg;
	struct console_backend *c = calloc(1, sizeof(*c));
	int port, ret;

	if (!c)
		return -ENOMEM;
	c->dom = d;
	c->log_fd = c->in_fd = c->out_fd = c->pty_fd = c->pty_slave = -1;
	pthread_mutex_init(&c->out_lock, NULL);
	d->console = c;
	c->ring = gmem_ptr(&d->mem, GUEST_CONSOLE_GPA, sizeof(*c->ring));
	if (!c->ring)
		return -EFAULT;
	memset(c->ring, 0, GUEST_PAGE_SIZE);
	c->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->kick_fd < 0)
		return -errno;
	port = evtchn_alloc_backend(d, c->kick_fd);
	if (port < 0)
		return port;
	c->port = (uint32_t)port;
	d->hvm_params[HVM_PARAM_CONSOLE_PFN] = GUEST_CONSOLE_GPA >> 12;
	d->hvm_params[HVM_PARAM_CONSOLE_EVTCHN] = c->port;

	if (cfg->console_log) {
		c->log_fd = open(cfg->console_log,
				 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (c->log_fd < 0) {
			log_warn("console log %s", cfg->console_log);
			return -errno;
		}
	}
	if (cfg->console_stdio) {
		c->out_fd = STDOUT_FILENO;
		c->in_fd = STDIN_FILENO;
	}
	if (cfg->console_pty) {
		ret = console_open_pty(c);
		if (ret) {
			log_warnx("console pty: %s", strerror(-ret));
			return ret;
		}
	}
	if ((ret = loop_add(c->kick_fd, console_on_kick, c)))
		return ret;
	if (c->in_fd >= 0 && loop_add(c->in_fd, console_on_input, c) < 0)
		c->in_fd = -1; /* e.g. /dev/null cannot be polled: no input */
	if (c->pty_fd >= 0 && (ret = loop_add(c->pty_fd, console_on_input, c)))
		return ret;
	return 0;
}

void console_backend_destroy(struct domain *d)
{
	struct console_backend *c = d->console;

	if (!c)
		return;
	if (c->ring)
		console_drain(c); /* whatever the guest said last */
	if (c->kick_fd >= 0) {
		loop_del(c->kick_fd);
		close(c->kick_fd);
	}
	if (c->in_fd >= 0)
		loop_del(c->in_fd);
	if (c->pty_fd >= 0) {
		loop_del(c->pty_fd);
		close(c->pty_fd);
	}
	if (c->pty_slave >= 0)
		close(c->pty_slave);
	if (c->log_fd >= 0)
		close(c->log_fd);
	d->console = NULL;
	free(c);
}
