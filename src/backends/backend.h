/* What a device backend may do to its frontend's domain: the grant and
 * event-channel half of Xen's libxengnttab/libxenevtchn, and nothing else.
 *
 * Backends (vbd.c, later vif) see the guest only through this table, so
 * they never reach guest memory except through a grant the guest made to
 * domain 0 (checked by the implementation: the domain process's grant
 * table, src/domain/gnttab.h), and the same backend can be driven by a
 * test double.  All calls come from the backend's thread (the domain
 * process's event loop) unless noted. */
#ifndef KXEN_BACKENDS_BACKEND_H
#define KXEN_BACKENDS_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#define BE_MAX_RING_PAGES 16

struct be_guest {
	uint16_t domid;
	unsigned nr_vcpus;
	void *opaque;
	/* Maps grant ref of the guest for domain 0; a host pointer to the
	 * whole 4096-byte frame, or NULL with *err = -errno (bad ref, not
	 * granted to us, read-only while `write` was asked, entry busy).
	 * Each map needs one unmap with the same `write`. Thread-safe. */
	void *(*map_grant)(void *opaque, uint32_t ref, bool write, int *err);
	void (*unmap_grant)(void *opaque, uint32_t ref, bool write);
	/* Maps n (1..BE_MAX_RING_PAGES) writable grants side by side, for a
	 * multi-page shared ring: the host address of the first, or NULL with
	 * *err.  unmap_ring releases all of them. */
	void *(*map_ring)(void *opaque, const uint32_t *refs, unsigned n,
			  int *err);
	void (*unmap_ring)(void *opaque, void *ring, const uint32_t *refs,
			   unsigned n);
	/* Binds the guest's unbound port (allocated by its frontend for
	 * domain 0) to our end: the guest's sends on it signal eventfd.
	 * 0 or -errno (-EINVAL: no such port, or not offered to domain 0). */
	int (*bind_evtchn)(void *opaque, uint32_t port, int eventfd);
	/* Undoes bind_evtchn if the port is still bound to eventfd (the
	 * guest may have closed it meanwhile). */
	void (*unbind_evtchn)(void *opaque, uint32_t port, int eventfd);
	/* Raises port in the guest.  Thread-safe. */
	int (*notify)(void *opaque, uint32_t port);
};

#endif
