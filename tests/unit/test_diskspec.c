/* Unit tests for the disk specification parser: virtual device numbers as
 * libxl computes them, every xm prefix form, xl's positional and key=value
 * forms, conflicts between disks, and errors with their exact messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xl/diskspec.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- vdev numbers ---- */

struct vdev_case {
	const char *name;
	const char *vdev;
	uint32_t number;
	int disk, partition; /* -1 for a bare number */
};

/* Each number worked out by hand from xen-vbd-interface(7):
 * xvd 202 << 8 | disk << 4 | part up to disk 15 / part 15, else
 * 1 << 28 | disk << 8 | part; hd 3 << 8 or 22 << 8 | (disk & 1) << 6 | part;
 * sd 8 << 8 | disk << 4 | part. */
static const struct vdev_case vdev_cases[] = {
    {"xvda", "xvda", 51712, 0, 0},   /* 0xca00 */
    {"xvdb", "xvdb", 51728, 1, 0},   /* 0xca10 */
    {"xvda1", "xvda1", 51713, 0, 1}, /* 0xca01 */
    {"xvdb3", "xvdb3", 51731, 1, 3}, /* 0xca13 */
    {"xvda15, last short partition", "xvda15", 51727, 0, 15},
    {"xvdp, last short disk", "xvdp", 51952, 15, 0},	/* 0xcaf0 */
    {"xvdp15", "xvdp15", 51967, 15, 15},		/* 0xcaff */
    {"xvda16 is extended", "xvda16", 268435472, 0, 16}, /* 0x10000010 */
    {"xvdq is extended", "xvdq", 268439552, 16, 0},	/* 0x10001000 */
    {"xvdq1", "xvdq1", 268439553, 16, 1},
    {"xvdz", "xvdz", 268441856, 25, 0},		     /* 0x10001900 */
    {"xvdaa is disk 26", "xvdaa", 268442112, 26, 0}, /* 0x10001a00 */
    {"xvdtq37 is disk 536", "xvdtq37", 268572709, 536, 37},
    {"xvdbgqcv, last disk", "xvdbgqcv", 536870656, 1048575, 0},
    {"xvdbgqcv255, last of all", "xvdbgqcv255", 536870911, 1048575, 255},
    {"d0p0 is xvda", "d0p0", 51712, 0, 0},
    {"d1p2 is xvdb2", "d1p2", 51730, 1, 2},
    {"d536p37 is xvdtq37", "d536p37", 268572709, 536, 37},
    {"d16p0 is extended", "d16p0", 268439552, 16, 0},
    {"hda", "hda", 768, 0, 0}, /* 0x300 */
    {"hda1", "hda1", 769, 0, 1},
    {"hda63", "hda63", 831, 0, 63},
    {"hdb", "hdb", 832, 1, 0},			  /* 0x340 */
    {"hdc, second IDE major", "hdc", 5632, 2, 0}, /* 0x1600 */
    {"hdc2", "hdc2", 5634, 2, 2},
    {"hdd", "hdd", 5696, 3, 0}, /* 0x1640 */
    {"hdd63", "hdd63", 5759, 3, 63},
    {"sda", "sda", 2048, 0, 0}, /* 0x800 */
    {"sda1", "sda1", 2049, 0, 1},
    {"sda2", "sda2", 2050, 0, 2},
    {"sdb", "sdb", 2064, 1, 0},
    {"sdb3", "sdb3", 2067, 1, 3},
    {"sdp15, last SCSI", "sdp15", 2303, 15, 15},
    {"decimal number", "51712", 51712, -1, -1},
    {"hex number", "0x300", 768, -1, -1},
    {"octal number", "0300", 192, -1, -1},
    {"zero", "0", 0, -1, -1},
    {"largest number", "2147483647", 2147483647, -1, -1},
};

static void test_vdev(void **state)
{
	const struct vdev_case *c = *state;
	uint32_t num = 0xdeadbeef;
	int disk = -2, part = -2;
	char err[160] = "";

	assert_int_equal(
	    diskspec_vdev_number(c->vdev, &num, &disk, &part, err, sizeof(err)),
	    0);
	assert_string_equal(err, "");
	assert_int_equal(num, c->number);
	assert_int_equal(disk, c->disk);
	assert_int_equal(part, c->partition);
	num = 0;
	assert_int_equal(
	    diskspec_vdev_number(c->vdev, &num, NULL, NULL, NULL, 0), 0);
	assert_int_equal(num, c->number);
}

struct bad_vdev_case {
	const char *name;
	const char *vdev;
	const char *error;
};

#define NOT_A_NAME                                                             \
	"not a virtual device name (xvd, hd or sd and a letter, dNpN, or a "   \
	"number)"

static const struct bad_vdev_case bad_vdev_cases[] = {
    {"empty", "", "vdev '': " NOT_A_NAME},
    {"xvd without letter", "xvd", "vdev 'xvd': no disk letter after xvd"},
    {"xvd0", "xvd0", "vdev 'xvd0': no disk letter after xvd"},
    {"xvd beyond 2^20 disks", "xvdbgqcw",
     "vdev 'xvdbgqcw': Xen disks are xvda to xvdbgqcv"},
    {"xvd partition 256", "xvda256",
     "vdev 'xvda256': Xen partitions go up to 255"},
    {"partition 0", "xvda0",
     "vdev 'xvda0': partitions count from 1, without leading zeros"},
    {"leading zero", "sda01",
     "vdev 'sda01': partitions count from 1, without leading zeros"},
    {"hde, IDE beyond hdd", "hde", "vdev 'hde': IDE disks are hda to hdd"},
    {"hdt", "hdt", "vdev 'hdt': IDE disks are hda to hdd"},
    {"hda64", "hda64", "vdev 'hda64': IDE partitions go up to 63"},
    {"sdq, SCSI beyond sdp", "sdq", "vdev 'sdq': SCSI disks are sda to sdp"},
    {"sda16", "sda16", "vdev 'sda16': SCSI partitions go up to 15"},
    {"upper case", "xvdA", "vdev 'xvdA': no disk letter after xvd"},
    {"trailing garbage", "xvda1x", "vdev 'xvda1x': " NOT_A_NAME},
    {"signed partition", "xvda-1", "vdev 'xvda-1': " NOT_A_NAME},
    {"unknown family", "vda", "vdev 'vda': " NOT_A_NAME},
    {"d form without p", "d0",
     "vdev 'd0': the d form needs a partition, as in d0p0"},
    {"d form disk 2^20", "d1048576p0",
     "vdev 'd1048576p0': disk numbers go up to 1048575"},
    {"d form partition 256", "d0p256",
     "vdev 'd0p256': partitions go up to 255"},
    {"d form leading zero", "d01p0", "vdev 'd01p0': " NOT_A_NAME},
    {"number beyond INT_MAX", "2147483648",
     "vdev '2147483648': numbers go up to 2147483647"},
    {"bad octal", "09", "vdev '09': " NOT_A_NAME},
    {"bare 0x", "0x", "vdev '0x': " NOT_A_NAME},
    {"number with text", "123abc", "vdev '123abc': " NOT_A_NAME},
};

static void test_bad_vdev(void **state)
{
	const struct bad_vdev_case *c = *state;
	uint32_t num = 77;
	int disk = 77, part = 77;
	char err[160] = "";

	assert_int_equal(
	    diskspec_vdev_number(c->vdev, &num, &disk, &part, err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, c->error);
	assert_int_equal(num, 77); /* untouched on error */
	assert_int_equal(disk, 77);
	assert_int_equal(part, 77);
}

/* ---- disk specifications ---- */

/* One line for everything a spec sets:
 * TARGET BACKEND FORMAT VDEV=NUMBER MODE [cdrom] [script=S] [backend=D]
 * [direct-io-safe] [no-discard] [untrusted]; an empty target is "-". */
static void diskspec_describe(const struct diskspec *ds, char *buf, size_t len)
{
	static const char *const backends[] = {"auto", "phy", "file"};
	static const char *const formats[] = {"raw", "qcow2", "empty"};
	const char *mode = "rw";
	int n;

	if (ds->readonly)
		mode = "ro";
	else if (ds->shared_write)
		mode = "w!";
	n = snprintf(buf, len, "%s %s %s %s=%u %s",
		     ds->target[0] ? ds->target : "-", backends[ds->backend],
		     formats[ds->format], ds->vdev, ds->vdev_number, mode);
	if (ds->is_cdrom)
		n += snprintf(buf + n, len - (size_t)n, " cdrom");
	if (ds->script[0])
		n += snprintf(buf + n, len - (size_t)n, " script=%s",
			      ds->script);
	if (ds->backend_domain[0])
		n += snprintf(buf + n, len - (size_t)n, " backend=%s",
			      ds->backend_domain);
	if (ds->direct_io_safe)
		n += snprintf(buf + n, len - (size_t)n, " direct-io-safe");
	if (!ds->discard)
		n += snprintf(buf + n, len - (size_t)n, " no-discard");
	if (!ds->trusted)
		snprintf(buf + n, len - (size_t)n, " untrusted");
}

struct spec_case {
	const char *name;
	const char *spec;
	const char *expect; /* diskspec_describe, or the exact error */
};

static const struct spec_case good_cases[] = {
    /* xm forms from the Xen books: [prefix:]target,vdev,access */
    {"xm phy LVM", "phy:vg/lv,sda1,w", "/dev/vg/lv phy raw sda1=2049 rw"},
    {"xm file swap", "file:/srv/xen/swap.img,sda2,w",
     "/srv/xen/swap.img file raw sda2=2050 rw"},
    {"xm phy partition read-only", "phy:/dev/sdb1,xvda1,r",
     "/dev/sdb1 phy raw xvda1=51713 ro"},
    {"xm phy relative device", "phy:sdb,hda,w", "/dev/sdb phy raw hda=768 rw"},
    {"xm tap:aio", "tap:aio:/img,xvda,w", "/img file raw xvda=51712 rw"},
    {"xm tap:qcow2", "tap:qcow2:/img.qcow2,xvdb,r",
     "/img.qcow2 file qcow2 xvdb=51728 ro"},
    {"xm tap2:tapdisk:aio", "tap2:tapdisk:aio:/img,xvda,w",
     "/img file raw xvda=51712 rw"},
    {"xm aio", "aio:/img,xvdc,w", "/img file raw xvdc=51744 rw"},
    {"xm raw prefix", "raw:/dev/vg/guest-volume,hda,w",
     "/dev/vg/guest-volume auto raw hda=768 rw"},
    {"xm qcow2 prefix", "qcow2:/img.qcow2,xvda,w",
     "/img.qcow2 auto qcow2 xvda=51712 rw"},
    {"xm HVM ioemu vdev", "file:/img,ioemu:hda,w", "/img file raw hda=768 rw"},
    {"xm w! shared", "phy:/dev/vg/shared,xvdb,w!",
     "/dev/vg/shared phy raw xvdb=51728 w!"},
    {"xm rw! shared", "phy:/dev/vg/shared,xvdb,rw!",
     "/dev/vg/shared phy raw xvdb=51728 w!"},
    {"xm numeric vdev", "phy:/dev/sdb,0x300,w",
     "/dev/sdb phy raw 0x300=768 rw"},
    {"legacy form without prefix", "/img,xvda,w",
     "/img auto raw xvda=51712 rw"},
    {"legacy number vdev", "/img,51712,r", "/img auto raw 51712=51712 ro"},
    {"iscsi script prefix", "iscsi:iqn.2001-05.com.example:disk1,xvda,w",
     "iqn.2001-05.com.example:disk1 auto raw xvda=51712 rw script=block-iscsi"},
    {"nbd script prefix", "nbd:host:10809,xvdb,r",
     "host:10809 auto raw xvdb=51728 ro script=block-nbd"},
    /* xl-disk-configuration(5): four equivalent ways */
    {"doc positional, defaults", "/dev/vg/guest-volume,,hda",
     "/dev/vg/guest-volume auto raw hda=768 rw"},
    {"doc positional, all four", "/dev/vg/guest-volume,raw,hda,rw",
     "/dev/vg/guest-volume auto raw hda=768 rw"},
    {"doc named",
     "format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
     "/dev/vg/guest-volume auto raw hda=768 rw"},
    /* ... and five equivalent cdroms */
    {"doc cdrom flag", "/root/image.iso,,hdc,cdrom",
     "/root/image.iso auto raw hdc=5632 ro cdrom"},
    {"doc cdrom after empty access", "/root/image.iso,,hdc,,cdrom",
     "/root/image.iso auto raw hdc=5632 ro cdrom"},
    {"doc devtype=cdrom", "/root/image.iso,raw,hdc,devtype=cdrom",
     "/root/image.iso auto raw hdc=5632 ro cdrom"},
    {"doc cdrom named",
     "format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso",
     "/root/image.iso auto raw hdc=5632 ro cdrom"},
    {"doc cdrom deprecated", "raw:/root/image.iso,hdc:cdrom,ro",
     "/root/image.iso auto raw hdc=5632 ro cdrom"},
    {"xend empty cdrom", ",hdc:cdrom,r", "- auto empty hdc=5632 ro cdrom"},
    {"empty cdrom named", "vdev=hdc,devtype=cdrom",
     "- auto empty hdc=5632 ro cdrom"},
    {"cdrom is read-only even if w", "/a.iso,raw,hdc,w,cdrom",
     "/a.iso auto raw hdc=5632 ro cdrom"},
    {"devtype disk undoes cdrom", "/img,raw,hda:disk,w",
     "/img auto raw hda=768 rw"},
    /* key=value */
    {"named, target last", "vdev=xvda,format=qcow2,access=ro,target=/img",
     "/img auto qcow2 xvda=51712 ro"},
    {"target= keeps commas", "vdev=xvda, target=/srv/a,b.img",
     "/srv/a,b.img auto raw xvda=51712 rw"},
    {"target= replaces empty positional", ",qcow2,xvdb,w,target=/img.qcow2",
     "/img.qcow2 auto qcow2 xvdb=51728 rw"},
    {"named fills slot, positional skips it", "format=qcow2,/img,xvde,r",
     "/img auto qcow2 xvde=51776 ro"},
    {"relative target gets /dev", "sdb1,raw,xvda",
     "/dev/sdb1 auto raw xvda=51712 rw"},
    {"script target untouched", "script=block-drbd,vdev=xvda,target=r0",
     "r0 auto raw xvda=51712 rw script=block-drbd"},
    {"flags and backend",
     "/img,qcow2,xvdb,r,direct-io-safe,no-discard,untrusted,backend=dd1",
     "/img auto qcow2 xvdb=51728 ro backend=dd1 direct-io-safe no-discard "
     "untrusted"},
    {"discard trusted defaults",
     "/img,,xvda,,discard,trusted,no-colo,specification=xen",
     "/img auto raw xvda=51712 rw"},
    {"backendtype=phy", "backendtype=phy,/dev/sdb,,xvda",
     "/dev/sdb phy raw xvda=51712 rw"},
    {"backendtype=qdisk", "backendtype=qdisk,/img,,xvda",
     "/img auto raw xvda=51712 rw"},
    {"backendtype=tap with file:", "file:/img,xvda,w,backendtype=tap",
     "/img file raw xvda=51712 rw"},
    {"access=w! named", "/img,raw,xvda,access=w!",
     "/img auto raw xvda=51712 w!"},
    {"grant_usage accepted", "/img,raw,xvda,grant_usage=0",
     "/img auto raw xvda=51712 rw"},
    {"blanks around parameters", "  /img , raw ,\txvda , w ",
     "/img auto raw xvda=51712 rw"},
    {"trailing comma", "/img,raw,xvda,w,", "/img auto raw xvda=51712 rw"},
    {"extended xvdq", "/img,raw,xvdq,w", "/img auto raw xvdq=268439552 rw"},
    {"d form", "/img,raw,d1p2,w", "/img auto raw d1p2=51730 rw"},
    {"sd disk", "/img,raw,sdb,w", "/img auto raw sdb=2064 rw"},
};

static void test_good_spec(void **state)
{
	const struct spec_case *c = *state;
	struct diskspec ds;
	char err[256] = "x", buf[512];

	assert_int_equal(diskspec_parse(c->spec, &ds, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	diskspec_describe(&ds, buf, sizeof(buf));
	assert_string_equal(buf, c->expect);
}

#define E(spec, msg) spec, "'" spec "': " msg

static const struct spec_case bad_cases[] = {
    {"unknown prefix", E("foo:/img,xvda,w", "unknown prefix 'foo:'")},
    {"unknown prefix after a known one",
     E("tap:vmdk:/img,xvda,w", "unknown prefix 'vmdk:'")},
    {"bad vdev", E("/img,raw,xvd0,w", "vdev 'xvd0': no disk letter after xvd")},
    {"vdev beyond hdd",
     E("phy:/dev/sdb,hde,w", "vdev 'hde': IDE disks are hda to hdd")},
    {"bad vdev in legacy form",
     E("/img,sdq,w", "vdev 'sdq': SCSI disks are sda to sdp")},
    {"format name after a prefix is a vdev",
     E("tap:aio:/img,qcow2,xvda,w", "vdev 'qcow2': " NOT_A_NAME)},
    {"missing target",
     E(",raw,xvda,w", "no target specified (only a cdrom drive may be empty)")},
    {"missing target, named",
     E("vdev=xvda", "no target specified (only a cdrom drive may be empty)")},
    {"missing vdev", E("/img", "no vdev specified")},
    {"target= first eats the rest",
     E("target=/img,vdev=xvda,format=qcow2,access=ro", "no vdev specified")},
    {"bad mode",
     E("/img,raw,xvda,rx", "unknown access mode 'rx' (r, ro, w, rw or w!)")},
    {"bad mode, legacy",
     E("phy:/dev/sdb,xvda,x", "unknown access mode 'x' (r, ro, w, rw or w!)")},
    {"bad mode named", E("/img,raw,xvda,access=!w",
			 "unknown access mode '!w' (r, ro, w, rw or w!)")},
    {"unsupported format vhd",
     E("/img,vhd,xvda,w",
       "format 'vhd' is not supported (kxen reads raw and qcow2)")},
    {"unsupported format qcow",
     E("format=qcow,/img,,xvda",
       "format 'qcow' is not supported (kxen reads raw and qcow2)")},
    {"unsupported format qed",
     E("/img,qed,xvda",
       "format 'qed' is not supported (kxen reads raw and qcow2)")},
    {"unsupported format prefix",
     E("tap:vhd:/img.vhd,xvda,w",
       "format 'vhd' is not supported (kxen reads raw and qcow2)")},
    {"unknown format", E("/img,vmdk,xvda,w", "unknown format 'vmdk'")},
    {"unknown key",
     E("/img,raw,xvda,w,cache=none", "unknown parameter 'cache'")},
    {"flag given a value", E("cdrom=1,/a.iso,,hdc", "'cdrom' takes no value")},
    {"target with =",
     E("/srv/a=b.img,raw,xvda", "'/srv/a=b.img': a target containing '=' or "
				"',' must come last, as target=...")},
    {"too many positional",
     E("/img,raw,xvda,w,extra", "too many positional parameters at 'extra'")},
    {"legacy too many",
     E("phy:/dev/sdb,xvda,w,r", "too many positional parameters at 'r'")},
    {"vdev twice", E("/img,raw,xvda,w,vdev=xvdb", "vdev specified twice")},
    {"format twice",
     E("qcow2:/img,xvda,w,format=raw", "format specified twice")},
    {"access twice",
     E("access=ro,/img,raw,xvda,access=rw", "access specified twice")},
    {"script twice",
     E("iscsi:iqn.x,xvda,w,script=block-nbd", "script specified twice")},
    {"bad devtype",
     E("/img,raw,hdc:floppy", "unknown devtype 'floppy' (cdrom or disk)")},
    {"bad devtype named",
     E("/img,raw,hdc,devtype=tape", "unknown devtype 'tape' (cdrom or disk)")},
    {"phy and file prefixes",
     E("phy:file:/img,xvda,w",
       "'file:' contradicts the phy backend chosen by 'phy:'")},
    {"backendtype against prefix",
     E("file:/img,xvda,w,backendtype=phy",
       "'backendtype=phy' contradicts the file backend chosen by 'file:'")},
    {"unknown backendtype",
     E("/img,,xvda,backendtype=loop",
       "unknown backendtype 'loop' (phy, qdisk, standalone or tap)")},
    {"standalone", E("/img,,xvda,backendtype=standalone",
		     "backendtype=standalone is not supported (it serves "
		     "virtio disks only)")},
    {"virtio", E("/img,,xvda,specification=virtio",
		 "specification=virtio is not supported")},
    {"unknown specification",
     E("/img,,xvda,specification=scsi",
       "unknown specification 'scsi' (xen or virtio)")},
    {"bad grant_usage",
     E("/img,,xvda,grant_usage=yes", "unknown grant_usage 'yes' (0 or 1)")},
    {"colo flag", E("/img,,xvda,colo", "COLO replication is not supported")},
    {"colo key",
     E("/img,,xvda,colo-host=10.0.0.2", "COLO replication is not supported")},
};

static void test_bad_spec(void **state)
{
	const struct spec_case *c = *state;
	struct diskspec ds;
	char err[256] = "";

	assert_int_equal(diskspec_parse(c->spec, &ds, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, c->expect);
	/* No room for a message is no reason to crash. */
	assert_int_equal(diskspec_parse(c->spec, &ds, NULL, 0), -EINVAL);
}

/* ---- conflicts ---- */

struct conflict_case {
	const char *name;
	const char *a, *b;
	bool same_domain;
	int rc;
	const char *error;
};

static const struct conflict_case conflict_cases[] = {
    {"two writers", "/img,,xvda,w", "/img,,xvdb,w", false, -EBUSY,
     "'/img' is used by xvda and xvdb, and xvda opens it writable without w!"},
    {"two readers", "/img,,xvda,r", "/img,,xvda,r", false, 0, ""},
    {"reader then writer", "/img,,xvda,r", "/img,,xvdb,w", false, -EBUSY,
     "'/img' is used by xvda and xvdb, and xvdb opens it writable without w!"},
    {"two w! writers", "phy:/dev/vg/s,xvda,w!", "phy:/dev/vg/s,xvda,w!", false,
     0, ""},
    {"w! and reader", "phy:/dev/vg/s,xvda,w!", "phy:/dev/vg/s,xvdb,r", false, 0,
     ""},
    {"w! and plain writer", "phy:/dev/vg/s,xvda,w!", "phy:/dev/vg/s,xvdb,w",
     false, -EBUSY,
     "'/dev/vg/s' is used by xvda and xvdb, and xvdb opens it writable without "
     "w!"},
    {"relative and absolute device", "phy:vg/lv,xvda,w", "/dev/vg/lv,,xvdb,r",
     false, -EBUSY,
     "'/dev/vg/lv' is used by xvda and xvdb, and xvda opens it writable "
     "without w!"},
    {"different targets", "/a,,xvda,w", "/b,,xvda,w", false, 0, ""},
    {"same vdev in one guest", "/a,,xvda,w", "/b,,d0p0,w", true, -EEXIST,
     "xvda and d0p0 are the same virtual device (51712)"},
    {"same vdev, two guests", "/a,,xvda,w", "/b,,xvda,w", false, 0, ""},
    {"same iso in two cdroms", "/a.iso,,hdc,cdrom", "/a.iso,,hdd,cdrom", true,
     0, ""},
    {"two empty cdroms", ",hdc:cdrom,r", ",hdc:cdrom,r", false, 0, ""},
    {"same target, other scripts", "script=block-drbd,vdev=xvda,target=r0",
     "script=block-nbd,vdev=xvdb,target=r0", false, 0, ""},
};

static void test_conflict(void **state)
{
	const struct conflict_case *c = *state;
	struct diskspec a, b;
	char err[256] = "x";

	assert_int_equal(diskspec_parse(c->a, &a, err, sizeof(err)), 0);
	assert_int_equal(diskspec_parse(c->b, &b, err, sizeof(err)), 0);
	assert_int_equal(
	    diskspec_conflict(&a, &b, c->same_domain, err, sizeof(err)), c->rc);
	assert_string_equal(err, c->error);
	/* The answer does not depend on the order. */
	assert_int_equal(diskspec_conflict(&b, &a, c->same_domain, NULL, 0),
			 c->rc);
}

/* ---- limits ---- */

static void test_long_target(void **state)
{
	char *spec = malloc(DISKSPEC_TARGET_MAX + 64);
	char quoted[128], want[256], msg[320], err[256] = "";
	struct diskspec ds;

	(void)state;
	assert_non_null(spec);
	/* A target that fits exactly, then one byte more. */
	strcpy(spec, "vdev=xvda,target=/");
	memset(spec + 18, 'a', DISKSPEC_TARGET_MAX - 2);
	spec[18 + DISKSPEC_TARGET_MAX - 2] = '\0';
	assert_int_equal(diskspec_parse(spec, &ds, err, sizeof(err)), 0);
	assert_int_equal(strlen(ds.target), DISKSPEC_TARGET_MAX - 1);
	strcat(spec, "a");
	assert_int_equal(diskspec_parse(spec, &ds, err, sizeof(err)), -EINVAL);
	/* Messages quote the first 80 bytes of a long spec. */
	snprintf(quoted, sizeof(quoted), "%.80s...", spec);
	snprintf(want, sizeof(want), "'%s': target longer than 4095 bytes",
		 quoted);
	assert_string_equal(err, want);
	/* A relative target that /dev/ would push past the limit. */
	strcpy(spec, "phy:");
	memset(spec + 4, 'a', DISKSPEC_TARGET_MAX - 5);
	strcpy(spec + 4 + DISKSPEC_TARGET_MAX - 5, ",xvda,w");
	assert_int_equal(diskspec_parse(spec, &ds, err, sizeof(err)), -EINVAL);
	snprintf(quoted, sizeof(quoted), "%.80s...", spec);
	snprintf(want, sizeof(want), "'%s': target longer than 4090 bytes",
		 quoted);
	assert_string_equal(err, want);
	/* ... and one that just fits. */
	spec[4 + DISKSPEC_TARGET_MAX - 6] = '\0';
	strcat(spec, ",xvda,w");
	assert_int_equal(diskspec_parse(spec, &ds, err, sizeof(err)), 0);
	assert_int_equal(strlen(ds.target), DISKSPEC_TARGET_MAX - 1);
	/* A vdev that is valid but too long to keep (leading octal zeros). */
	memset(spec, '0', 40);
	strcpy(spec + 40, "1");
	assert_int_equal(
	    diskspec_vdev_number(spec, &ds.vdev_number, NULL, NULL, NULL, 0),
	    0);
	snprintf(want, sizeof(want), "/img,raw,%s", spec);
	assert_int_equal(diskspec_parse(want, &ds, err, sizeof(err)), -EINVAL);
	snprintf(msg, sizeof(msg), "'%s': vdev longer than 31 bytes", want);
	assert_string_equal(err, msg);
	free(spec);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(vdev_cases) +
				ARRAY_SIZE(bad_vdev_cases) +
				ARRAY_SIZE(good_cases) + ARRAY_SIZE(bad_cases) +
				ARRAY_SIZE(conflict_cases) + 1];
	size_t n = 0;

#define ADD(table, fn)                                                         \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                         \
		tests[n++] = (struct CMUnitTest){table[i].name, fn, NULL,      \
						 NULL, (void *)&table[i]};
	ADD(vdev_cases, test_vdev)
	ADD(bad_vdev_cases, test_bad_vdev)
	ADD(good_cases, test_good_spec)
	ADD(bad_cases, test_bad_spec)
	ADD(conflict_cases, test_conflict)
#undef ADD
	tests[n++] = (struct CMUnitTest){"target length limit",
					 test_long_target, NULL, NULL, NULL};
	return _cmocka_run_group_tests("diskspec", tests, n, NULL, NULL);
}
