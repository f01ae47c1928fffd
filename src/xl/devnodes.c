/* The toolstack's device directories in xenstore (see devnodes.h). */
#include "xl/devnodes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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

void devnodes_vif_paths(uint32_t domid, uint32_t devid, char *be,
			size_t belen, char *fe, size_t felen)
{
	snprintf(be, belen, "/local/domain/0/backend/vif/%u/%u", domid, devid);
	snprintf(fe, felen, "/local/domain/%u/device/vif/%u", domid, devid);
}

int devnodes_vif_add(const struct devnodes_writer *w, uint32_t domid,
		     const struct vifspec *v)
{
	char be[96], fe[96], path[160], num[32], mac[18];
	char ips[VIFSPEC_IPS_MAX * VIFSPEC_IP_MAX] = "";
	uint32_t devid;
	int ret;

	if (v->devid < 0 || !v->has_mac)
		return -EINVAL;
	devid = (uint32_t)v->devid;
	vifspec_format_mac(v->mac, mac);
	for (unsigned i = 0; i < v->nr_ips; i++)
		snprintf(ips + strlen(ips), sizeof(ips) - strlen(ips), "%s%s",
			 i ? " " : "", v->ips[i]);
	devnodes_vif_paths(domid, devid, be, sizeof(be), fe, sizeof(fe));
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
	BE("script", v->script[0] ? v->script : VIFSPEC_DEFAULT_SCRIPT);
	BE("mac", mac);
	BE("bridge", v->bridge[0] ? v->bridge : VIFSPEC_DEFAULT_BRIDGE);
	if (v->nr_ips)
		BE("ip", ips);
	if (v->rate_bytes_per_sec) {
		snprintf(num, sizeof(num), "%llu,%u",
			 (unsigned long long)vifspec_bytes_per_interval(v),
			 v->rate_interval_us);
		BE("rate", num);
	}
	snprintf(num, sizeof(num), "%u", devid);
	BE("handle", num);
	BE("type", "vif");
	if (v->vifname[0])
		BE("vifname", v->vifname);
	snprintf(num, sizeof(num), "%u", v->mtu ? v->mtu : VIFSPEC_MTU_DEFAULT);
	BE("mtu", num);
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
	snprintf(num, sizeof(num), "%u", devid);
	FE("handle", num);
	FE("mac", mac);
#undef FE
	return ret;
}
