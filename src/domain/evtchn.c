/* 2-level event channels: the port table and EVTCHNOP_*.
 *
 * Xen's rules, in short: port 0 is never used; a port is FREE, UNBOUND
 * (waiting for a remote domain to bind), INTERDOMAIN, VIRQ or IPI.  A
 * per-vCPU VIRQ (timer, debug, ...) is bound once per vCPU; a global VIRQ
 * once per domain, to vCPU 0 until EVTCHNOP_bind_vcpu moves it.  Sending
 * on an UNBOUND port is silently dropped; on a VIRQ port it is an error.
 * The mask and pending bits live in shared_info and belong to the guest
 * and KVM; this table only says where each port goes. */
#include "domain/evtchn.h"

#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <xen/xen.h>

#include "common/log.h"
#include "domain/domain.h"
#include "domain/timer.h"

_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "alloc_unbound");
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "bind_virq");
_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "bind_ipi");
_Static_assert(sizeof(struct evtchn_bind_vcpu) == 8, "bind_vcpu");
_Static_assert(sizeof(struct evtchn_send) == 4, "send");
_Static_assert(sizeof(struct evtchn_close) == 4, "close");
_Static_assert(sizeof(struct evtchn_unmask) == 4, "unmask");
_Static_assert(sizeof(struct evtchn_status) == 24, "status");
_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12,
	       "bind_interdomain");

/* VIRQs Xen binds per vCPU (the rest are global). */
static bool virq_is_per_vcpu(unsigned virq)
{
	return virq == VIRQ_TIMER || virq == VIRQ_DEBUG ||
	       virq == VIRQ_XENOPROF || virq == VIRQ_XENPMU;
}

int evtchn_init(struct domain *d)
{
	struct evtchn_table *t = &d->evtchn;

	memset(t->port, 0, sizeof(t->port));
	for (unsigned i = 0; i < EVTCHN_NR_PORTS; i++)
		t->port[i].backend_fd = -1;
	t->virq_port = calloc(d->nr_vcpus, sizeof(*t->virq_port));
	return t->virq_port ? 0 : -ENOMEM;
}

void evtchn_fini(struct domain *d)
{
	free(d->evtchn.virq_port);
	d->evtchn.virq_port = NULL;
}

/* Caller holds d->lock. */
static int evtchn_alloc(struct domain *d)
{
	for (unsigned p = 1; p < EVTCHN_NR_PORTS; p++) {
		if (d->evtchn.port[p].state == EVTCHN_FREE) {
			struct evtchn_port *e = &d->evtchn.port[p];

			memset(e, 0, sizeof(*e));
			e->backend_fd = -1;
			return (int)p;
		}
	}
	return -ENOSPC;
}

static bool port_valid(uint32_t port)
{
	return port > 0 && port < EVTCHN_NR_PORTS;
}

/* Lets KVM handle EVTCHNOP_send on `port` without leaving the kernel:
 * IPIs loop back to the guest, backend ports signal an eventfd. */
static void evtchn_kernel_assign(struct domain *d, uint32_t port)
{
	struct evtchn_port *e = &d->evtchn.port[port];
	struct kvm_xen_hvm_attr a = {.type = KVM_XEN_ATTR_TYPE_EVTCHN};

	a.u.evtchn.send_port = port;
	if (e->state == EVTCHN_IPI) {
		a.u.evtchn.type = EVTCHNSTAT_ipi;
		a.u.evtchn.deliver.port.port = port;
		a.u.evtchn.deliver.port.vcpu = e->vcpu;
		a.u.evtchn.deliver.port.priority =
			KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL;
	} else {
		a.u.evtchn.type = EVTCHNSTAT_interdomain;
		a.u.evtchn.deliver.eventfd.port = 0;
		a.u.evtchn.deliver.eventfd.fd = e->backend_fd;
	}
	if (e->in_kernel)
		a.u.evtchn.flags = KVM_XEN_EVTCHN_UPDATE;
	if (ioctl(d->vm_fd, KVM_XEN_HVM_SET_ATTR, &a) < 0) {
		/* Still correct, only slower: sends come to user space. */
		log_warn("KVM_XEN_ATTR_TYPE_EVTCHN port %u", port);
		return;
	}
	e->in_kernel = 1;
}

static void evtchn_kernel_deassign(struct domain *d, uint32_t port)
{
	struct evtchn_port *e = &d->evtchn.port[port];
	struct kvm_xen_hvm_attr a = {.type = KVM_XEN_ATTR_TYPE_EVTCHN};

	if (!e->in_kernel)
		return;
	a.u.evtchn.send_port = port;
	a.u.evtchn.flags = KVM_XEN_EVTCHN_DEASSIGN;
	if (ioctl(d->vm_fd, KVM_XEN_HVM_SET_ATTR, &a) < 0)
		log_warn("KVM_XEN_EVTCHN_DEASSIGN port %u", port);
	e->in_kernel = 0;
}

static int evtchn_deliver(struct domain *d, uint32_t port, uint32_t vcpu)
{
	struct kvm_irq_routing_xen_evtchn ev = {
		.port = port,
		.vcpu = vcpu,
		.priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL,
	};

	if (ioctl(d->vm_fd, KVM_XEN_HVM_EVTCHN_SEND, &ev) < 0)
		return -errno;
	return 0;
}

int evtchn_notify_guest(struct domain *d, uint32_t port)
{
	uint32_t vcpu;

	if (!port_valid(port))
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	vcpu = d->evtchn.port[port].vcpu;
	pthread_mutex_unlock(&d->lock);
	return evtchn_deliver(d, port, vcpu);
}

int evtchn_alloc_backend(struct domain *d, int eventfd)
{
	int port;

	pthread_mutex_lock(&d->lock);
	port = evtchn_alloc(d);
	if (port > 0) {
		struct evtchn_port *e = &d->evtchn.port[port];

		e->state = EVTCHN_INTERDOMAIN;
		e->remote_dom = 0;
		e->remote_port = (uint32_t)port;
		e->backend_fd = eventfd;
		evtchn_kernel_assign(d, (uint32_t)port);
	}
	pthread_mutex_unlock(&d->lock);
	return port;
}

int evtchn_bind_backend(struct domain *d, uint32_t port, int eventfd)
{
	struct evtchn_port *e;
	int ret = 0;

	if (!port_valid(port) || eventfd < 0)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	e = &d->evtchn.port[port];
	if (e->state != EVTCHN_UNBOUND || e->remote_dom != 0) {
		ret = -EINVAL;
	} else {
		e->state = EVTCHN_INTERDOMAIN;
		e->remote_port = port;
		e->backend_fd = eventfd;
		e->guest_owned = 1;
		evtchn_kernel_assign(d, port);
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

void evtchn_unbind_backend(struct domain *d, uint32_t port, int eventfd)
{
	struct evtchn_port *e;

	if (!port_valid(port))
		return;
	pthread_mutex_lock(&d->lock);
	e = &d->evtchn.port[port];
	if (e->state == EVTCHN_INTERDOMAIN && e->backend_fd == eventfd) {
		/* As in Xen: the guest's end waits for a new bind. */
		evtchn_kernel_deassign(d, port);
		e->state = EVTCHN_UNBOUND;
		e->backend_fd = -1;
		e->guest_owned = 0;
	}
	pthread_mutex_unlock(&d->lock);
}

/* GSIs we route to event channels start here, clear of the 24 an IOAPIC
 * would use (we have none, but keep the numbers unambiguous). */
#define EVTCHN_GSI_BASE 32

int evtchn_irqfd(struct domain *d, uint32_t port, int eventfd)
{
	struct evtchn_table *t = &d->evtchn;
	struct kvm_irq_routing *r;
	struct kvm_irqfd irqfd = {0};
	unsigned n;
	int ret = 0;

	if (!port_valid(port) || eventfd < 0)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	if (t->nr_routes == EVTCHN_MAX_IRQFDS) {
		pthread_mutex_unlock(&d->lock);
		return -ENOSPC;
	}
	t->route_port[t->nr_routes++] = port;
	n = t->nr_routes;
	/* KVM_SET_GSI_ROUTING replaces the whole table. */
	r = calloc(1, sizeof(*r) + n * sizeof(r->entries[0]));
	if (!r) {
		t->nr_routes--;
		pthread_mutex_unlock(&d->lock);
		return -ENOMEM;
	}
	r->nr = n;
	for (unsigned i = 0; i < n; i++) {
		r->entries[i].gsi = EVTCHN_GSI_BASE + i;
		r->entries[i].type = KVM_IRQ_ROUTING_XEN_EVTCHN;
		r->entries[i].u.xen_evtchn.port = t->route_port[i];
		r->entries[i].u.xen_evtchn.vcpu =
			t->port[t->route_port[i]].vcpu;
		r->entries[i].u.xen_evtchn.priority =
			KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL;
	}
	if (ioctl(d->vm_fd, KVM_SET_GSI_ROUTING, r) < 0) {
		ret = -errno;
		log_warn("KVM_SET_GSI_ROUTING for event channel %u", port);
		t->nr_routes--;
	}
	pthread_mutex_unlock(&d->lock);
	free(r);
	if (ret)
		return ret;
	irqfd.fd = (uint32_t)eventfd;
	irqfd.gsi = EVTCHN_GSI_BASE + n - 1;
	if (ioctl(d->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		log_warn("KVM_IRQFD for event channel %u", port);
		return -errno;
	}
	return 0;
}

void evtchn_send_virq(struct domain *d, unsigned virq, unsigned vcpu)
{
	uint32_t port = 0;

	if (virq >= NR_VIRQS || vcpu >= d->nr_vcpus)
		return;
	pthread_mutex_lock(&d->lock);
	port = d->evtchn.virq_port[virq_is_per_vcpu(virq) ? vcpu : 0][virq];
	pthread_mutex_unlock(&d->lock);
	if (port)
		evtchn_notify_guest(d, port);
}

static long evtchn_op_alloc_unbound(struct vcpu *v, uint64_t arg)
{
	struct domain *d = v->dom;
	struct evtchn_alloc_unbound a;
	int port;

	if (vcpu_copy_from_guest(v, arg, &a, sizeof(a)))
		return -EFAULT;
	if (a.dom != DOMID_SELF && a.dom != d->cfg->domid)
		return -EPERM;
	pthread_mutex_lock(&d->lock);
	port = evtchn_alloc(d);
	if (port > 0) {
		d->evtchn.port[port].state = EVTCHN_UNBOUND;
		d->evtchn.port[port].remote_dom =
			a.remote_dom == DOMID_SELF ? d->cfg->domid : a.remote_dom;
	}
	pthread_mutex_unlock(&d->lock);
	if (port < 0)
		return port;
	a.port = (evtchn_port_t)port;
	return vcpu_copy_to_guest(v, arg, &a, sizeof(a));
}

static long evtchn_op_bind_virq(struct vcpu *v, uint64_t arg)
{
	struct domain *d = v->dom;
	struct evtchn_bind_virq b;
	uint32_t *slot;
	int port;

	if (vcpu_copy_from_guest(v, arg, &b, sizeof(b)))
		return -EFAULT;
	if (b.virq >= NR_VIRQS || b.vcpu >= d->nr_vcpus)
		return -EINVAL;
	if (!virq_is_per_vcpu(b.virq) && b.vcpu != 0)
		return -EINVAL; /* global VIRQs bind on vCPU 0, then move */
	pthread_mutex_lock(&d->lock);
	slot = &d->evtchn.virq_port[b.vcpu][b.virq];
	if (*slot) {
		pthread_mutex_unlock(&d->lock);
		return -EEXIST;
	}
	port = evtchn_alloc(d);
	if (port > 0) {
		d->evtchn.port[port].state = EVTCHN_VIRQ;
		d->evtchn.port[port].virq = b.virq;
		d->evtchn.port[port].vcpu = b.vcpu;
		*slot = (uint32_t)port;
	}
	pthread_mutex_unlock(&d->lock);
	if (port < 0)
		return port;
	if (b.virq == VIRQ_TIMER)
		vcpu_timer_bind(d, b.vcpu, (uint32_t)port);
	b.port = (evtchn_port_t)port;
	return vcpu_copy_to_guest(v, arg, &b, sizeof(b));
}

/* EVTCHNOP_bind_interdomain: connects a new local port to a remote
 * domain's UNBOUND port that was allocated for us.  Only this domain's own
 * ports can be the remote end for now (a loopback channel, which Xen
 * allows too); other domains come with the multi-domain daemon. */
static long evtchn_op_bind_interdomain(struct vcpu *v, uint64_t arg)
{
	struct domain *d = v->dom;
	struct evtchn_bind_interdomain b;
	struct evtchn_port *r;
	uint32_t self = d->cfg->domid;
	int port;

	if (vcpu_copy_from_guest(v, arg, &b, sizeof(b)))
		return -EFAULT;
	if (b.remote_dom != DOMID_SELF && b.remote_dom != self)
		return -ESRCH;
	if (!port_valid(b.remote_port))
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	r = &d->evtchn.port[b.remote_port];
	if (r->state != EVTCHN_UNBOUND || r->remote_dom != self ||
	    r->backend_fd >= 0) {
		pthread_mutex_unlock(&d->lock);
		return -EINVAL;
	}
	port = evtchn_alloc(d);
	if (port > 0) {
		struct evtchn_port *l = &d->evtchn.port[port];

		l->state = EVTCHN_INTERDOMAIN;
		l->remote_dom = (uint16_t)self;
		l->remote_port = b.remote_port;
		l->vcpu = 0;
		r->state = EVTCHN_INTERDOMAIN;
		r->remote_port = (uint32_t)port;
	}
	pthread_mutex_unlock(&d->lock);
	if (port < 0)
		return port;
	b.local_port = (evtchn_port_t)port;
	return vcpu_copy_to_guest(v, arg, &b, sizeof(b));
}

static long evtchn_op_bind_ipi(struct vcpu *v, uint64_t arg)
{
	struct domain *d = v->dom;
	struct evtchn_bind_ipi b;
	int port;

	if (vcpu_copy_from_guest(v, arg, &b, sizeof(b)))
		return -EFAULT;
	if (b.vcpu >= d->nr_vcpus)
		return -ENOENT;
	pthread_mutex_lock(&d->lock);
	port = evtchn_alloc(d);
	if (port > 0) {
		d->evtchn.port[port].state = EVTCHN_IPI;
		d->evtchn.port[port].vcpu = b.vcpu;
		evtchn_kernel_assign(d, (uint32_t)port);
	}
	pthread_mutex_unlock(&d->lock);
	if (port < 0)
		return port;
	b.port = (evtchn_port_t)port;
	return vcpu_copy_to_guest(v, arg, &b, sizeof(b));
}

static long evtchn_op_bind_vcpu(struct vcpu *v, uint64_t arg)
{
	struct domain *d = v->dom;
	struct evtchn_bind_vcpu b;
	struct evtchn_port *e;
	long ret = 0;

	if (vcpu_copy_from_guest(v, arg, &b, sizeof(b)))
		return -EFAULT;
	if (!port_valid(b.port))
		return -EINVAL;
	if (b.vcpu >= d->nr_vcpus)
		return -ENOENT;
	pthread_mutex_lock(&d->lock);
	e = &d->evtchn.port[b.port];
	switch (e->state) {
	case EVTCHN_VIRQ:
		if (virq_is_per_vcpu(e->virq)) {
			ret = -EINVAL;
			break;
		}
		/* global VIRQs may move */
		__attribute__((fallthrough));
	case EVTCHN_UNBOUND:
	case EVTCHN_INTERDOMAIN:
		e->vcpu = b.vcpu;
		break;
	default:
		ret = -EINVAL;
		break;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static long evtchn_op_send(struct vcpu *v, uint64_t arg)
{
	struct domain *d = v->dom;
	struct evtchn_send s;
	struct evtchn_port e;
	uint64_t one = 1;

	if (vcpu_copy_from_guest(v, arg, &s, sizeof(s)))
		return -EFAULT;
	if (!port_valid(s.port))
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	e = d->evtchn.port[s.port];
	pthread_mutex_unlock(&d->lock);
	switch (e.state) {
	case EVTCHN_IPI:
		return evtchn_deliver(d, s.port, e.vcpu);
	case EVTCHN_INTERDOMAIN:
		if (e.backend_fd < 0) /* loopback: the peer is our own port */
			return evtchn_notify_guest(d, e.remote_port);
		if (write(e.backend_fd, &one, sizeof(one)) < 0 &&
		    errno != EAGAIN)
			log_warn("signalling backend of port %u", s.port);
		return 0;
	case EVTCHN_UNBOUND:
		return 0; /* silently dropped, as Xen does */
	default:
		return -EINVAL;
	}
}

static long evtchn_op_close(struct vcpu *v, uint64_t arg)
{
	struct domain *d = v->dom;
	struct evtchn_close c;
	struct evtchn_port *e;
	uint32_t timer_vcpu = UINT32_MAX;

	if (vcpu_copy_from_guest(v, arg, &c, sizeof(c)))
		return -EFAULT;
	if (!port_valid(c.port))
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	e = &d->evtchn.port[c.port];
	if (e->state == EVTCHN_FREE) {
		pthread_mutex_unlock(&d->lock);
		return -EINVAL;
	}
	if (e->backend_fd >= 0 && !e->guest_owned) {
		/* Ports we allocated for the console and the store are
		 * ours; the guest only disconnects. */
		pthread_mutex_unlock(&d->lock);
		log_warnx("guest closed backend port %u: refused", c.port);
		return -EPERM;
	}
	if (e->state == EVTCHN_INTERDOMAIN) {
		/* As in Xen, the other end goes back to waiting for a bind. */
		struct evtchn_port *peer = &d->evtchn.port[e->remote_port];

		if (port_valid(e->remote_port) &&
		    peer->state == EVTCHN_INTERDOMAIN &&
		    peer->remote_port == c.port)
			peer->state = EVTCHN_UNBOUND;
	}
	if (e->state == EVTCHN_VIRQ) {
		unsigned slot = virq_is_per_vcpu(e->virq) ? e->vcpu : 0;

		d->evtchn.virq_port[slot][e->virq] = 0;
		if (e->virq == VIRQ_TIMER)
			timer_vcpu = e->vcpu;
	}
	evtchn_kernel_deassign(d, c.port);
	memset(e, 0, sizeof(*e));
	e->backend_fd = -1;
	pthread_mutex_unlock(&d->lock);
	if (timer_vcpu != UINT32_MAX)
		vcpu_timer_bind(d, timer_vcpu, 0);
	return 0;
}

static long evtchn_op_status(struct vcpu *v, uint64_t arg)
{
	struct domain *d = v->dom;
	struct evtchn_status s;
	struct evtchn_port *e;

	if (vcpu_copy_from_guest(v, arg, &s, sizeof(s)))
		return -EFAULT;
	if (s.dom != DOMID_SELF && s.dom != d->cfg->domid)
		return -EPERM;
	if (!port_valid(s.port))
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	e = &d->evtchn.port[s.port];
	s.status = e->state;
	s.vcpu = e->vcpu;
	memset(&s.u, 0, sizeof(s.u));
	switch (e->state) {
	case EVTCHN_UNBOUND:
		s.u.unbound.dom = e->remote_dom;
		break;
	case EVTCHN_INTERDOMAIN:
		s.u.interdomain.dom = e->remote_dom;
		s.u.interdomain.port = e->remote_port;
		break;
	case EVTCHN_VIRQ:
		s.u.virq = e->virq;
		break;
	}
	pthread_mutex_unlock(&d->lock);
	return vcpu_copy_to_guest(v, arg, &s, sizeof(s));
}

/* EVTCHNOP_unmask: the guest has cleared the mask bit itself; if the port
 * is pending we must raise the upcall it missed.  Clearing and re-sending
 * through KVM does exactly that and never loses the event. */
static long evtchn_op_unmask(struct vcpu *v, uint64_t arg)
{
	struct domain *d = v->dom;
	struct evtchn_unmask u;
	struct shared_info *si;
	uint32_t vcpu;
	bool pending;

	if (vcpu_copy_from_guest(v, arg, &u, sizeof(u)))
		return -EFAULT;
	if (!port_valid(u.port))
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	vcpu = d->evtchn.port[u.port].vcpu;
	si = d->shinfo_gfn ? gmem_ptr(&d->mem, d->shinfo_gfn << 12,
				      sizeof(*si))
			   : NULL;
	pthread_mutex_unlock(&d->lock);
	if (!si)
		return 0;
	__atomic_and_fetch(&si->evtchn_mask[u.port / 64],
			   ~(1ull << (u.port % 64)), __ATOMIC_SEQ_CST);
	pending = __atomic_fetch_and(&si->evtchn_pending[u.port / 64],
				     ~(1ull << (u.port % 64)),
				     __ATOMIC_SEQ_CST) &
		  (1ull << (u.port % 64));
	if (pending)
		return evtchn_deliver(d, u.port, vcpu);
	return 0;
}

long evtchn_hypercall(struct vcpu *v, uint64_t cmd, uint64_t arg)
{
	switch (cmd) {
	case EVTCHNOP_alloc_unbound:
		return evtchn_op_alloc_unbound(v, arg);
	case EVTCHNOP_bind_virq:
		return evtchn_op_bind_virq(v, arg);
	case EVTCHNOP_bind_ipi:
		return evtchn_op_bind_ipi(v, arg);
	case EVTCHNOP_bind_vcpu:
		return evtchn_op_bind_vcpu(v, arg);
	case EVTCHNOP_send:
		return evtchn_op_send(v, arg);
	case EVTCHNOP_close:
		return evtchn_op_close(v, arg);
	case EVTCHNOP_status:
		return evtchn_op_status(v, arg);
	case EVTCHNOP_unmask:
		return evtchn_op_unmask(v, arg);
	case EVTCHNOP_bind_interdomain:
		return evtchn_op_bind_interdomain(v, arg);
	case EVTCHNOP_bind_pirq:
	case EVTCHNOP_reset:
	case EVTCHNOP_init_control: /* FIFO ABI: Linux falls back to 2-level */
	case EVTCHNOP_expand_array:
	case EVTCHNOP_set_priority:
	default:
		log_unimplemented("event_channel_op", cmd, 0);
		return -ENOSYS;
	}
}
