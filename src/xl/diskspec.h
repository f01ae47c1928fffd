/* Disk specifications: one element of an xl.cfg `disk = [ ... ]` list,
 * in the syntax of xl-disk-configuration(5) and of xm/xend, parsed into a
 * struct diskspec; virtual device names numbered as xen-vbd-interface(7)
 * and libxl number them.
 *
 * Pure: no I/O, no allocation that outlives a call.  Every error is
 * returned as -errno with a message for the user in err. */
#ifndef KXEN_XL_DISKSPEC_H
#define KXEN_XL_DISKSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISKSPEC_TARGET_MAX 4096 /* bytes, with the NUL */
#define DISKSPEC_VDEV_MAX 32
#define DISKSPEC_NAME_MAX 256 /* script and backend domain */

/* What the host storage is.  xl ignores phy:, file: and the tap prefixes
 * and decides from the target itself; kxen keeps them as a hint. */
enum diskspec_backend {
	DISKSPEC_BACKEND_AUTO, /* decide from the target (stat) */
	DISKSPEC_BACKEND_PHY,  /* a block device: disk, partition, LVM */
	DISKSPEC_BACKEND_FILE, /* a regular file */
};

enum diskspec_format {
	DISKSPEC_FORMAT_RAW,
	DISKSPEC_FORMAT_QCOW2,
	DISKSPEC_FORMAT_EMPTY, /* a cdrom drive with no medium */
};

struct diskspec {
	/* The host path; "" only for an empty cdrom drive.  Without a
	 * script, a path not starting with '/' has had "/dev/" put in front
	 * (so phy:vg/lv names /dev/vg/lv).  With one, it is the script's
	 * argument, untouched. */
	char target[DISKSPEC_TARGET_MAX];
	enum diskspec_backend backend;
	enum diskspec_format format;
	char vdev[DISKSPEC_VDEV_MAX]; /* as written: "xvda", "hdc", "51712" */
	uint32_t vdev_number;	      /* the xenstore device id */
	bool readonly;		      /* always true for a cdrom */
	bool shared_write;	      /* mode w!: writable, and others may
				       * open the target too */
	bool is_cdrom;
	char script[DISKSPEC_NAME_MAX];		/* "" = none; iscsi: gives
						 * "block-iscsi" */
	char backend_domain[DISKSPEC_NAME_MAX]; /* "" = dom0 */
	bool direct_io_safe;
	bool discard; /* default true; no-discard clears it */
	bool trusted; /* default true; untrusted clears it */
};

/* Parses spec, one DISKSPEC, into *out (overwritten entirely).
 *
 * Accepted, as xl-disk-configuration(5) describes:
 *  - positional parameters target, format, vdev, access, each of which
 *    may instead be named (target=, format=, vdev=, access=); a positional
 *    parameter fills the first of them not yet given, an empty one leaves
 *    the default; target= takes the whole rest of spec, commas included;
 *  - the deprecated form [<prefix>:]...<target>,<vdev>[:<devtype>],<access>
 *    with the prefixes phy: file: tap: tap2: tapdisk: aio: ioemu: (backend
 *    hints), raw: qcow2: qcow: vhd: (format) and iscsi: nbd: enbd: drbd:
 *    (script block-NAME), chained as in tap:aio:/img; a vdev in place of
 *    the format, as in /img,xvda,w, is taken as this form;
 *  - flags cdrom, direct-io-safe, discard, no-discard, trusted, untrusted,
 *    no-colo, and keys devtype= backend= backendtype= specification=
 *    script= grant_usage=;
 *  - access r, ro, w, rw, and xm's w! and rw! (writable, shared).
 * Formats qcow, vhd and qed, specification=virtio, backendtype=standalone
 * and COLO are recognised and refused as unsupported.
 *
 * Returns 0; -EINVAL with "'SPEC': what is wrong" in err (SPEC cut to
 * 80 bytes and "..."; the whole truncated to errlen; err may be NULL when
 * errlen is 0); -ENOMEM.  On error *out holds no complete disk. */
int diskspec_parse(const char *spec, struct diskspec *out, char *err,
		   size_t errlen);

/* Numbers the virtual device name vdev as libxl does:
 *   xvd<letters>[<partition>] and d<disk>p<partition>:
 *       202 << 8 | disk << 4 | partition   when disk and partition <= 15,
 *       1 << 28 | disk << 8 | partition    otherwise (disk < 2^20,
 *                                          partition <= 255);
 *   hd[a-d][1-63]:  3 << 8 | disk << 6 | partition for hda, hdb,
 *                  22 << 8 | (disk - 2) << 6 | partition for hdc, hdd;
 *   sd[a-p][1-15]:  8 << 8 | disk << 4 | partition;
 *   a number (decimal, 0x hex or 0 octal) up to INT32_MAX: itself.
 * Letters count from a = 0 and run on as aa = 26, ab = 27, ...; partition
 * numbers have no leading zero.  *num receives the number; disk and
 * partition (each may be NULL) the disk and partition, -1 for a bare
 * number.  Returns 0, or -EINVAL with "vdev 'NAME': why" in err (which
 * may be NULL when errlen is 0). */
int diskspec_vdev_number(const char *vdev, uint32_t *num, int *disk,
			 int *partition, char *err, size_t errlen);

/* Whether disks a and b may be attached at the same time; same_domain
 * says they go to one guest.  Pure: targets are compared as strings
 * (after the /dev/ expansion), so the caller resolves links itself.
 * The rule of Xen's block hotplug script: a target opened writable
 * without w! must be used by nothing else; read-only and w! users may
 * share it.  Empty cdrom drives share nothing.
 * Returns 0; -EBUSY when both use one target and one of them opens it
 * writable without w!; -EEXIST when same_domain and both have one vdev
 * number.  The message goes to err (may be NULL when errlen is 0). */
int diskspec_conflict(const struct diskspec *a, const struct diskspec *b,
		      bool same_domain, char *err, size_t errlen);

#endif
