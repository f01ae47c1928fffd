/* The toolstack's device directories in xenstore (see devnodes.h). */
#include "xl/devnodes.h"

#include <stdio.h>

void devnodes_vbd_paths(uint32_t domid, uint32_t devid, char *be,
			size_t belen, char *fe, size_t felen)
{
	snprintf(be, belen, "/local/domain/0/backend/vbd/%u/%u", domid, devid);
	snprintf(fe, felen, "/local/domain/%u/device/vbd/%u", domid, devid);
}

int devnodes_vbd_add(const struct devnodes_writer *w, uint32_t domid,
		     const struct diskspec *d, int is_blockdev)
{
	char be[96], fe[96], path[160], num[32];
	const char *mode = d->readonly ? "r" : d->shared_write ? "w!" : "w";
	const char *dtype = d->is_cdrom ? "cdrom" : "disk";
	const char *fmt = d->format == DISKSPEC_FORMAT_QCOW2 ? "qcow2" : "raw";
	int ret;

	devnodes_vbd_paths(domid, d->vdev_number, be, sizeof(be), fe,
			   sizeof(fe));
	/* A directory node first, so the keys below inherit its rights. */
	ret = w->write(w->arg, be, "");
	ret = ret ? ret : w->set_perms(w->arg, be, 0, domid);
#define BE(key, val)                                                           \
	do {                                                                   \
		snprintf(path, sizeof(path), "%s/%s", be, key);                \
		if (!ret)                                                      \
			ret = w->write(w->arg, path, val);                     \
	} while (0)
	BE("frontend", fe);
	snprintf(num, sizeof(num), "%u", domid);
	BE("frontend-id", num);
	BE("online", "1");
	BE("state", "1");
	BE("params", d->target);
	BE("type", is_blockdev ? "phy" : "file");
	BE("format", fmt);
	BE("mode", mode);
	BE("device-type", dtype);
	BE("dev", d->vdev);
	BE("removable", d->is_cdrom ? "1" : "0");
	BE("bootable", "1");
	BE("discard-enable", d->discard ? "1" : "0");
#undef BE
	if (!ret)
		ret = w->write(w->arg, fe, "");
	if (!ret)
		ret = w->set_perms(w->arg, fe, domid, 0);
#define FE(key, val)                                                           \
	do {                                                                   \
		snprintf(path, sizeof(path), "%s/%s", fe, key);                \
		if (!ret)                                                      \
			ret = w->write(w->arg, path, val);                     \
	} while (0)
	FE("backend", be);
	FE("backend-id", "0");
	FE("state", "1");
	snprintf(num, sizeof(num), "%u", d->vdev_number);
	FE("virtual-device", num);
	FE("device-type", dtype);
#undef FE
	return ret;
}
