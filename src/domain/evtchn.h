/* 2-level event channels for one domain.
 *
 * The table lives in user space; delivery into the guest's shared_info and
 * vcpu_info goes through KVM (KVM_XEN_HVM_EVTCHN_SEND), which sets the
 * pending bit, honours the mask and raises the upcall vector.  Ports the
 * guest sends on often are registered with KVM (KVM_XEN_ATTR_TYPE_EVTCHN)
 * so that EVTCHNOP_send never leaves the kernel: IPIs loop back to the
 * guest, and ports connected to a backend in this process signal that
 * backend's eventfd. */
#ifndef KXEN_DOMAIN_EVTCHN_H
#define KXEN_DOMAIN_EVTCHN_H

#include <stdint.h>
#include <xen/event_channel.h>

/* 64-bit guest, 2-level ABI: 64 * 64 ports. */
#define EVTCHN_NR_PORTS 4096

struct domain;
struct vcpu;

enum evtchn_state {
	EVTCHN_FREE = EVTCHNSTAT_closed,
	EVTCHN_UNBOUND = EVTCHNSTAT_unbound,
	EVTCHN_INTERDOMAIN = EVTCHNSTAT_interdomain,
	EVTCHN_VIRQ = EVTCHNSTAT_virq,
	EVTCHN_IPI = EVTCHNSTAT_ipi,
};

struct evtchn_port {
	uint8_t state;
	uint8_t in_kernel;     /* registered with KVM_XEN_ATTR_TYPE_EVTCHN */
	uint16_t remote_dom;   /* UNBOUND: who may bind; INTERDOMAIN: peer */
	uint32_t vcpu;         /* vCPU notified */
	uint32_t virq;         /* VIRQ ports */
	uint32_t remote_port;  /* INTERDOMAIN */
	int backend_fd;        /* INTERDOMAIN to a local backend: eventfd */
	uint8_t guest_owned;   /* the guest allocated it (a frontend's
				  port a backend bound): the guest may
				  close it */
};

#define EVTCHN_MAX_IRQFDS 16

struct evtchn_table {
	struct evtchn_port port[EVTCHN_NR_PORTS];
	/* KVM GSI routes to event channels, for irqfds (evtchn_irqfd). */
	unsigned nr_routes;
	uint32_t route_port[EVTCHN_MAX_IRQFDS];
	/* virq_port[vcpu][virq]: the port a per-vCPU VIRQ is bound to. */
	uint32_t (*virq_port)[NR_VIRQS];
};

int evtchn_init(struct domain *d);
void evtchn_fini(struct domain *d);

/* EVTCHNOP_* from the guest; arg is the guest-virtual argument. */
long evtchn_hypercall(struct vcpu *v, uint64_t cmd, uint64_t arg);

/* Sets `port` pending for the guest (backend -> guest notification, VIRQ
 * delivery).  Safe from any thread.  0 or -errno. */
int evtchn_notify_guest(struct domain *d, uint32_t port);

/* Allocates a port connected to a backend in this process (dom0's end of
 * an interdomain channel).  The guest's EVTCHNOP_send on it signals
 * `eventfd`.  Returns the port, or -errno. */
int evtchn_alloc_backend(struct domain *d, int eventfd);

/* Binds the guest's unbound port offered to domain 0 (a frontend's
 * EVTCHNOP_alloc_unbound) to a backend in this process: the guest's sends
 * signal `eventfd`.  0, or -EINVAL for a port in any other state. */
int evtchn_bind_backend(struct domain *d, uint32_t port, int eventfd);
/* Undoes it, if the port is still bound to `eventfd` (the guest may have
 * closed it, and reused the number, meanwhile). */
void evtchn_unbind_backend(struct domain *d, uint32_t port, int eventfd);

/* Makes every write to `eventfd` raise `port` in the guest, inside KVM
 * (irqfd routed to a Xen event channel), so another process holding only
 * the eventfd can notify the guest.  0 or -errno. */
int evtchn_irqfd(struct domain *d, uint32_t port, int eventfd);

/* Delivers a global VIRQ (VIRQ_CONSOLE, ...) if the guest bound it. */
void evtchn_send_virq(struct domain *d, unsigned virq, unsigned vcpu);

#endif
