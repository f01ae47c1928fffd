/* The xenstore directories the toolstack writes for a device, as libxl
 * writes them: the backend's under /local/domain/0/backend/<type>/<domid>/
 * <devid> (owned by domain 0, readable by the guest) and the frontend's
 * under /local/domain/<domid>/device/<type>/<devid> (owned by the guest,
 * readable by domain 0), both in state Initialising.  Pure: the caller
 * supplies the writes (libxenstore in kxl, the domain process's own
 * connection at start-up) and usually wraps them in a transaction.
 *
 * Backend keys for a vbd: frontend, frontend-id, online, state, params
 * (the host path), type (phy or file), format (raw or qcow2), mode (r, w,
 * or w! for a writable disk others may share), device-type (disk or
 * cdrom), dev (the vdev as written), removable, bootable, discard-enable.
 * Frontend keys: backend, backend-id, state, virtual-device, device-type.
 *
 * Backend keys for a vif: frontend, frontend-id, online, state, script,
 * mac, bridge, ip (when given), rate ("bytes,usec", when limited), handle,
 * type (vif), vifname (when given), mtu.  Frontend keys: backend,
 * backend-id, state, handle, mac. */
#ifndef KXEN_XL_DEVNODES_H
#define KXEN_XL_DEVNODES_H

#include <stdint.h>

#include "xl/diskspec.h"
#include "xl/vifspec.h"

struct devnodes_writer {
	/* 0 or -errno. */
	int (*write)(void *arg, const char *path, const char *value);
	/* The node's owner, and one other domain that may read it. */
	int (*set_perms)(void *arg, const char *path, uint32_t owner,
			 uint32_t reader);
	void *arg;
};

/* Backend and frontend directory of a vbd (no trailing slash). */
void devnodes_vbd_paths(uint32_t domid, uint32_t devid, char *be,
			size_t belen, char *fe, size_t felen);

/* Writes both directories of disk d for domain domid.  is_blockdev says
 * whether the target is a block device (type phy) or a file.  0 or the
 * first -errno of a write. */
int devnodes_vbd_add(const struct devnodes_writer *w, uint32_t domid,
		     const struct diskspec *d, int is_blockdev);

/* Backend and frontend directory of a vif (no trailing slash). */
void devnodes_vif_paths(uint32_t domid, uint32_t devid, char *be,
			size_t belen, char *fe, size_t felen);

/* Writes both directories of vif v (devid and MAC assigned: see
 * vifspec_domain) for domain domid.  0 or the first -errno of a write;
 * -EINVAL when v has no devid or no MAC. */
int devnodes_vif_add(const struct devnodes_writer *w, uint32_t domid,
		     const struct vifspec *v);

#endif
