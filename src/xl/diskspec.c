/* Disk specification parser and virtual device numbering (see diskspec.h). */
#include "xl/diskspec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- virtual device numbers ------------------------------------------- */

#define VDEV_EXT_DISK_MAX ((1L << 20) - 1)
#define VDEV_EXT_PART_MAX 255L
#define VDEV_NUMBER_MAX 0x7fffffffUL

static uint32_t vdev_encode_xvd(long disk, long part)
{
	if (disk <= 15 && part <= 15)
		return (uint32_t)(202 << 8 | disk << 4 | part);
	return (uint32_t)(1L << 28 | disk << 8 | part);
}

static uint32_t vdev_encode_hd(long disk, long part)
{
	/* hda, hdb on the first IDE major (3), hdc, hdd on the second (22);
	 * 64 minors per disk. */
	return (uint32_t)((disk < 2 ? 3 : 22) << 8 | (disk & 1) << 6 | part);
}

static uint32_t vdev_encode_sd(long disk, long part)
{
	return (uint32_t)(8 << 8 | disk << 4 | part);
}

/* A family of names: a prefix, drive letters, an optional partition. */
struct vdev_family {
	const char *prefix;
	long max_disk;
	long max_part;
	const char *disks; /* for messages: the names it allows */
	const char *kind;
	uint32_t (*encode)(long disk, long part);
};

static const struct vdev_family vdev_families[] = {
    {"xvd", VDEV_EXT_DISK_MAX, VDEV_EXT_PART_MAX, "xvda to xvdbgqcv", "Xen",
     vdev_encode_xvd},
    {"hd", 3, 63, "hda to hdd", "IDE", vdev_encode_hd},
    {"sd", 15, 15, "sda to sdp", "SCSI", vdev_encode_sd},
};

static int vdev_error(char *err, size_t errlen, const char *vdev,
		      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int vdev_error(char *err, size_t errlen, const char *vdev,
		      const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errlen)
		snprintf(err, errlen, "vdev '%.40s': %s", vdev, msg);
	return -EINVAL;
}

static int vdev_not_a_name(char *err, size_t errlen, const char *vdev)
{
	return vdev_error(err, errlen, vdev,
			  "not a virtual device name (xvd, hd or sd and a "
			  "letter, dNpN, or a number)");
}

/* Reads a decimal number without leading zeros ("0" itself is allowed)
 * from *pp, advancing it.  Returns 0, -EINVAL when there is none or it
 * has a leading zero, -ERANGE when it exceeds max. */
static int vdev_decimal(const char **pp, long max, long *val)
{
	const char *p = *pp;
	long v = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > max)
			return -ERANGE;
	}
	*pp = p;
	*val = v;
	return 0;
}

/* A bare number as written in xm configs: decimal, 0x hex or 0 octal. */
static int vdev_bare_number(const char *vdev, uint32_t *num, char *err,
			    size_t errlen)
{
	const char *p = vdev;
	unsigned base = 10;
	unsigned long v = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && p[1]) {
		base = 8;
		p++;
	}
	if (!*p)
		return vdev_not_a_name(err, errlen, vdev);
	for (; *p; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			d = 16;
		if (d >= base)
			return vdev_not_a_name(err, errlen, vdev);
		v = v * base + d;
		if (v > VDEV_NUMBER_MAX)
			return vdev_error(err, errlen, vdev,
					  "numbers go up to %lu",
					  VDEV_NUMBER_MAX);
	}
	*num = (uint32_t)v;
	return 0;
}

/* d<disk>p<partition>: Xen's own spelling of xvd names. */
static int vdev_dp(const char *vdev, long *disk, long *part, char *err,
		   size_t errlen)
{
	const char *p = vdev + 1;
	int r;

	r = vdev_decimal(&p, VDEV_EXT_DISK_MAX, disk);
	if (r == -ERANGE)
		return vdev_error(err, errlen, vdev,
				  "disk numbers go up to %ld",
				  VDEV_EXT_DISK_MAX);
	if (r)
		return vdev_not_a_name(err, errlen, vdev);
	if (!*p)
		return vdev_error(err, errlen, vdev,
				  "the d form needs a partition, as in d0p0");
	if (*p++ != 'p')
		return vdev_not_a_name(err, errlen, vdev);
	r = vdev_decimal(&p, VDEV_EXT_PART_MAX, part);
	if (r == -ERANGE)
		return vdev_error(err, errlen, vdev, "partitions go up to %ld",
				  VDEV_EXT_PART_MAX);
	if (r || *p)
		return vdev_not_a_name(err, errlen, vdev);
	return 0;
}

/* <prefix><letters>[<partition>] for one family. */
static int vdev_named(const struct vdev_family *f, const char *vdev, long *disk,
		      long *part, char *err, size_t errlen)
{
	const char *p = vdev + strlen(f->prefix);
	long d = -1;
	int r;

	if (*p < 'a' || *p > 'z')
		return vdev_error(err, errlen, vdev, "no disk letter after %s",
				  f->prefix);
	/* Letters are a bijective base-26 number: a = 0, z = 25, aa = 26,
	 * ab = 27, zz = 701, aaa = 702. */
	for (; *p >= 'a' && *p <= 'z'; p++) {
		d = (d + 1) * 26 + (*p - 'a');
		if (d > f->max_disk)
			return vdev_error(err, errlen, vdev, "%s disks are %s",
					  f->kind, f->disks);
	}
	*disk = d;
	*part = 0;
	if (!*p)
		return 0;
	if (*p == '0')
		return vdev_error(err, errlen, vdev,
				  "partitions count from 1, without leading "
				  "zeros");
	r = vdev_decimal(&p, f->max_part, part);
	if (r == -ERANGE)
		return vdev_error(err, errlen, vdev,
				  "%s partitions go up to %ld", f->kind,
				  f->max_part);
	if (r || *p)
		return vdev_not_a_name(err, errlen, vdev);
	return 0;
}

int diskspec_vdev_number(const char *vdev, uint32_t *num, int *disk,
			 int *partition, char *err, size_t errlen)
{
	long d = -1, p = -1;
	uint32_t n = 0;
	int r = -EINVAL;

	if (vdev[0] >= '0' && vdev[0] <= '9') {
		r = vdev_bare_number(vdev, &n, err, errlen);
		goto out;
	}
	if (vdev[0] == 'd' && vdev[1] >= '0' && vdev[1] <= '9') {
		r = vdev_dp(vdev, &d, &p, err, errlen);
		if (!r)
			n = vdev_encode_xvd(d, p);
		goto out;
	}
	for (size_t i = 0; i < sizeof(vdev_families) / sizeof(*vdev_families);
	     i++) {
		const struct vdev_family *f = &vdev_families[i];

		if (strncmp(vdev, f->prefix, strlen(f->prefix)))
			continue;
		r = vdev_named(f, vdev, &d, &p, err, errlen);
		if (!r)
			n = f->encode(d, p);
		goto out;
	}
	r = vdev_not_a_name(err, errlen, vdev);
out:
	if (r)
		return r;
	*num = n;
	if (disk)
		*disk = (int)d;
	if (partition)
		*partition = (int)p;
	return 0;
}

/* ---- the disk specification ------------------------------------------- */

/* The positional parameters, in the order they are filled. */
enum {
	DS_TARGET = 1 << 0,
	DS_FORMAT = 1 << 1,
	DS_VDEV = 1 << 2,
	DS_ACCESS = 1 << 3,
	/* named only */
	DS_SCRIPT = 1 << 4,
	DS_BACKEND_DOMAIN = 1 << 5,
};

struct diskspec_parser {
	const char *spec;
	struct diskspec *ds;
	char *err;
	size_t errlen;
	unsigned taken; /* DS_*: given at all, so no positional fills it */
	unsigned set;	/* DS_*: given a non-empty value */
	const char *backend_by; /* what chose ds->backend, for messages */
};

static int ds_error(struct diskspec_parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int ds_error(struct diskspec_parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Quote at most 80 bytes of the spec: enough to find it. */
	if (ps->errlen)
		snprintf(ps->err, ps->errlen, "'%.80s%s': %s", ps->spec,
			 strlen(ps->spec) > 80 ? "..." : "", msg);
	return -EINVAL;
}

/* Records that parameter `bit` (called `name`) is given, with an empty or
 * non-empty value; a second non-empty value is an error.  An empty value
 * may be replaced, as xl allows for target. */
static int ds_claim(struct diskspec_parser *ps, unsigned bit, const char *name,
		    const char *value)
{
	if (*value && (ps->set & bit))
		return ds_error(ps, "%s specified twice", name);
	ps->taken |= bit;
	if (*value)
		ps->set |= bit;
	return 0;
}

static int ds_copy(struct diskspec_parser *ps, char *dst, size_t size,
		   const char *name, const char *value)
{
	if (strlen(value) >= size)
		return ds_error(ps, "%s longer than %zu bytes", name, size - 1);
	strcpy(dst, value);
	return 0;
}

static int ds_set_backend(struct diskspec_parser *ps,
			  enum diskspec_backend kind, const char *by)
{
	static const char *const names[] = {"auto", "phy", "file"};

	if (ps->ds->backend != DISKSPEC_BACKEND_AUTO && ps->ds->backend != kind)
		return ds_error(ps,
				"'%s' contradicts the %s backend chosen "
				"by '%s'",
				by, names[ps->ds->backend], ps->backend_by);
	ps->ds->backend = kind;
	ps->backend_by = by;
	return 0;
}

/* Formats xl knows, and whether kxen can read them. */
static const struct {
	const char *name;
	int format; /* enum diskspec_format, or -1: not supported */
} ds_formats[] = {
    {"", DISKSPEC_FORMAT_RAW},
    {"raw", DISKSPEC_FORMAT_RAW},
    {"qcow2", DISKSPEC_FORMAT_QCOW2},
    {"qcow", -1},
    {"vhd", -1},
    {"qed", -1},
};

/* Index into ds_formats, or -1. */
static int ds_format_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(ds_formats) / sizeof(*ds_formats); i++)
		if (!strcmp(ds_formats[i].name, name))
			return (int)i;
	return -1;
}

static int ds_set_format(struct diskspec_parser *ps, const char *value)
{
	int i = ds_format_lookup(value);
	int r = ds_claim(ps, DS_FORMAT, "format", value);

	if (r)
		return r;
	if (i < 0)
		return ds_error(ps, "unknown format '%s'", value);
	if (ds_formats[i].format < 0)
		return ds_error(ps,
				"format '%s' is not supported (kxen reads raw "
				"and qcow2)",
				value);
	ps->ds->format = (enum diskspec_format)ds_formats[i].format;
	return 0;
}

static int ds_set_target(struct diskspec_parser *ps, const char *value)
{
	int r = ds_claim(ps, DS_TARGET, "target", value);

	if (r)
		return r;
	return ds_copy(ps, ps->ds->target, sizeof(ps->ds->target), "target",
		       value);
}

static int ds_set_vdev(struct diskspec_parser *ps, const char *value)
{
	char msg[160];
	int r = ds_claim(ps, DS_VDEV, "vdev", value);

	if (r || !*value)
		return r;
	if (diskspec_vdev_number(value, &ps->ds->vdev_number, NULL, NULL, msg,
				 sizeof(msg)))
		return ds_error(ps, "%s", msg);
	return ds_copy(ps, ps->ds->vdev, sizeof(ps->ds->vdev), "vdev", value);
}

static int ds_set_access(struct diskspec_parser *ps, const char *value)
{
	static const struct {
		const char *name;
		bool readonly, shared;
	} modes[] = {
	    {"", false, false},	  {"w", false, false}, {"rw", false, false},
	    {"r", true, false},	  {"ro", true, false}, {"w!", false, true},
	    {"rw!", false, true},
	};
	int r = ds_claim(ps, DS_ACCESS, "access", value);

	if (r)
		return r;
	for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
		if (strcmp(modes[i].name, value))
			continue;
		ps->ds->readonly = modes[i].readonly;
		ps->ds->shared_write = modes[i].shared;
		return 0;
	}
	return ds_error(ps, "unknown access mode '%s' (r, ro, w, rw or w!)",
			value);
}

static int ds_set_devtype(struct diskspec_parser *ps, const char *value)
{
	if (!strcmp(value, "cdrom"))
		ps->ds->is_cdrom = true;
	else if (!strcmp(value, "disk"))
		ps->ds->is_cdrom = false;
	else
		return ds_error(ps, "unknown devtype '%s' (cdrom or disk)",
				value);
	return 0;
}

/* ---- key=value parameters and flags ---- */

struct ds_key {
	const char *name;
	bool has_value; /* key=value, else a bare flag */
	int (*set)(struct diskspec_parser *ps, const char *value);
};

static int ds_key_backend(struct diskspec_parser *ps, const char *value)
{
	int r = ds_claim(ps, DS_BACKEND_DOMAIN, "backend", value);

	return r ? r
		 : ds_copy(ps, ps->ds->backend_domain,
			   sizeof(ps->ds->backend_domain), "backend", value);
}

static int ds_key_backendtype(struct diskspec_parser *ps, const char *value)
{
	/* phy serves block devices and tap image files; qdisk is xl's
	 * general-purpose userspace backend, which kxen's replaces. */
	if (!strcmp(value, "phy"))
		return ds_set_backend(ps, DISKSPEC_BACKEND_PHY,
				      "backendtype=phy");
	if (!strcmp(value, "tap"))
		return ds_set_backend(ps, DISKSPEC_BACKEND_FILE,
				      "backendtype=tap");
	if (!strcmp(value, "qdisk"))
		return 0;
	if (!strcmp(value, "standalone"))
		return ds_error(ps, "backendtype=standalone is not supported "
				    "(it serves virtio disks only)");
	return ds_error(ps,
			"unknown backendtype '%s' (phy, qdisk, standalone or "
			"tap)",
			value);
}

static int ds_key_specification(struct diskspec_parser *ps, const char *value)
{
	if (!strcmp(value, "xen"))
		return 0;
	if (!strcmp(value, "virtio"))
		return ds_error(ps, "specification=virtio is not supported");
	return ds_error(ps, "unknown specification '%s' (xen or virtio)",
			value);
}

static int ds_key_script(struct diskspec_parser *ps, const char *value)
{
	int r = ds_claim(ps, DS_SCRIPT, "script", value);

	return r ? r
		 : ds_copy(ps, ps->ds->script, sizeof(ps->ds->script), "script",
			   value);
}

static int ds_key_grant_usage(struct diskspec_parser *ps, const char *value)
{
	/* Only meaningful with specification=virtio, which is refused. */
	if (strcmp(value, "0") && strcmp(value, "1"))
		return ds_error(ps, "unknown grant_usage '%s' (0 or 1)", value);
	return 0;
}

static int ds_key_colo(struct diskspec_parser *ps, const char *value)
{
	return ds_error(ps, "COLO replication is not supported");
}

static int ds_flag_cdrom(struct diskspec_parser *ps, const char *value)
{
	ps->ds->is_cdrom = true;
	return 0;
}

static int ds_flag_direct_io_safe(struct diskspec_parser *ps, const char *value)
{
	ps->ds->direct_io_safe = true;
	return 0;
}

static int ds_flag_discard(struct diskspec_parser *ps, const char *value)
{
	ps->ds->discard = true;
	return 0;
}

static int ds_flag_no_discard(struct diskspec_parser *ps, const char *value)
{
	ps->ds->discard = false;
	return 0;
}

static int ds_flag_trusted(struct diskspec_parser *ps, const char *value)
{
	ps->ds->trusted = true;
	return 0;
}

static int ds_flag_untrusted(struct diskspec_parser *ps, const char *value)
{
	ps->ds->trusted = false;
	return 0;
}

static int ds_flag_ignore(struct diskspec_parser *ps, const char *value)
{
	return 0;
}

/* target= is not here: it takes the rest of the spec (diskspec_parse). */
static const struct ds_key ds_keys[] = {
    {"format", true, ds_set_format},
    {"vdev", true, ds_set_vdev},
    {"access", true, ds_set_access},
    {"devtype", true, ds_set_devtype},
    {"backend", true, ds_key_backend},
    {"backendtype", true, ds_key_backendtype},
    {"specification", true, ds_key_specification},
    {"script", true, ds_key_script},
    {"grant_usage", true, ds_key_grant_usage},
    {"colo-host", true, ds_key_colo},
    {"colo-port", true, ds_key_colo},
    {"colo-export", true, ds_key_colo},
    {"active-disk", true, ds_key_colo},
    {"hidden-disk", true, ds_key_colo},
    {"cdrom", false, ds_flag_cdrom},
    {"direct-io-safe", false, ds_flag_direct_io_safe},
    {"discard", false, ds_flag_discard},
    {"no-discard", false, ds_flag_no_discard},
    {"trusted", false, ds_flag_trusted},
    {"untrusted", false, ds_flag_untrusted},
    {"colo", false, ds_key_colo},
    {"no-colo", false, ds_flag_ignore},
};

static const struct ds_key *ds_key_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(ds_keys) / sizeof(*ds_keys); i++)
		if (!strcmp(ds_keys[i].name, name))
			return &ds_keys[i];
	return NULL;
}

/* Whether s looks like a parameter name: [a-z][-a-z0-9_]*. */
static bool ds_is_word(const char *s)
{
	if (*s < 'a' || *s > 'z')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return false;
	return true;
}

static int ds_keyvalue(struct diskspec_parser *ps, char *tok, char *eq)
{
	const struct ds_key *k;

	*eq = '\0';
	k = ds_key_lookup(tok);
	if (k && k->has_value)
		return k->set(ps, eq + 1);
	if (k)
		return ds_error(ps, "'%s' takes no value", tok);
	if (ds_is_word(tok))
		return ds_error(ps, "unknown parameter '%s'", tok);
	*eq = '=';
	return ds_error(ps,
			"'%s': a target containing '=' or ',' must come last, "
			"as target=...",
			tok);
}

/* ---- deprecated prefixes ---- */

struct ds_prefix {
	const char *name;	       /* with its colon */
	enum diskspec_backend backend; /* AUTO: no hint */
	const char *format;	       /* NULL: none */
	const char *script;	       /* NULL: none */
};

/* xend's backend types (phy:, file:, tap:...) are hints only; raw: and the
 * like name the format; iscsi: and the like the block script. */
static const struct ds_prefix ds_prefixes[] = {
    {"phy:", DISKSPEC_BACKEND_PHY, NULL, NULL},
    {"file:", DISKSPEC_BACKEND_FILE, NULL, NULL},
    {"tap:", DISKSPEC_BACKEND_FILE, NULL, NULL},
    {"tap2:", DISKSPEC_BACKEND_FILE, NULL, NULL},
    {"tapdisk:", DISKSPEC_BACKEND_FILE, NULL, NULL},
    {"aio:", DISKSPEC_BACKEND_FILE, NULL, NULL},
    {"ioemu:", DISKSPEC_BACKEND_AUTO, NULL, NULL},
    {"raw:", DISKSPEC_BACKEND_AUTO, "raw", NULL},
    {"qcow:", DISKSPEC_BACKEND_AUTO, "qcow", NULL},
    {"qcow2:", DISKSPEC_BACKEND_AUTO, "qcow2", NULL},
    {"vhd:", DISKSPEC_BACKEND_AUTO, "vhd", NULL},
    {"iscsi:", DISKSPEC_BACKEND_AUTO, NULL, "block-iscsi"},
    {"nbd:", DISKSPEC_BACKEND_AUTO, NULL, "block-nbd"},
    {"enbd:", DISKSPEC_BACKEND_AUTO, NULL, "block-enbd"},
    {"drbd:", DISKSPEC_BACKEND_AUTO, NULL, "block-drbd"},
};

static bool ds_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Strips and applies the deprecated prefixes at the front of a positional
 * parameter, as xl does: a word [a-z][a-z0-9]* and a colon is a prefix
 * when it is one we know; an unknown one is an error when what follows
 * the colon could not go on a name (nothing, '/', ...), and otherwise
 * part of the value (a target "host:1234").  Any prefix means the format
 * slot is taken.  *tokp advances past the prefixes. */
static int ds_strip_prefixes(struct diskspec_parser *ps, char **tokp)
{
	char *tok = *tokp;
	int r = 0;

	for (;;) {
		const struct ds_prefix *pf = NULL;
		char *q = tok;

		if (*q < 'a' || *q > 'z')
			break;
		while (ds_is_alnum(*q))
			q++;
		if (*q != ':')
			break;
		for (size_t i = 0;
		     i < sizeof(ds_prefixes) / sizeof(*ds_prefixes); i++)
			if (strlen(ds_prefixes[i].name) ==
				(size_t)(q + 1 - tok) &&
			    !strncmp(ds_prefixes[i].name, tok,
				     (size_t)(q + 1 - tok)))
				pf = &ds_prefixes[i];
		if (!pf) {
			if (ds_is_alnum(q[1]))
				break;
			r = ds_error(ps, "unknown prefix '%.*s:'",
				     (int)(q - tok), tok);
			goto out;
		}
		ps->taken |= DS_FORMAT;
		if (pf->backend != DISKSPEC_BACKEND_AUTO)
			r = ds_set_backend(ps, pf->backend, pf->name);
		if (!r && pf->format)
			r = ds_set_format(ps, pf->format);
		if (!r && pf->script)
			r = ds_key_script(ps, pf->script);
		if (r)
			goto out;
		tok = q + 1;
	}
out:
	*tokp = tok;
	return r;
}

/* ---- positional parameters ---- */

/* vdev[:devtype], the deprecated way to name a cdrom: hdc:cdrom. */
static int ds_vdev_devtype(struct diskspec_parser *ps, char *tok)
{
	char *colon = strrchr(tok, ':');
	int r;

	if (colon)
		*colon = '\0';
	r = ds_set_vdev(ps, tok);
	if (!r && colon)
		r = ds_set_devtype(ps, colon + 1);
	return r;
}

/* Whether a parameter in the format slot is rather a vdev, as in xm's
 * target,vdev,access: a format name never looks like one. */
static bool ds_looks_like_vdev(const char *tok)
{
	if (strchr(tok, ':') || (*tok >= '0' && *tok <= '9'))
		return true;
	if (tok[0] == 'd' && tok[1] >= '0' && tok[1] <= '9')
		return true;
	for (size_t i = 0; i < sizeof(vdev_families) / sizeof(*vdev_families);
	     i++)
		if (!strncmp(tok, vdev_families[i].prefix,
			     strlen(vdev_families[i].prefix)))
			return true;
	return false;
}

static int ds_positional(struct diskspec_parser *ps, char *tok)
{
	int r = ds_strip_prefixes(ps, &tok);

	if (r)
		return r;
	if (!(ps->taken & DS_TARGET))
		return ds_set_target(ps, tok);
	if (!(ps->taken & DS_FORMAT)) {
		if (ds_format_lookup(tok) >= 0 || !ds_looks_like_vdev(tok))
			return ds_set_format(ps, tok);
		ps->taken |= DS_FORMAT;
	}
	if (!(ps->taken & DS_VDEV))
		return ds_vdev_devtype(ps, tok);
	if (!(ps->taken & DS_ACCESS))
		return ds_set_access(ps, tok);
	return ds_error(ps, "too many positional parameters at '%s'", tok);
}

static bool ds_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The checks and defaults that need the whole spec. */
static int ds_finish(struct diskspec_parser *ps)
{
	struct diskspec *ds = ps->ds;

	if (!ds->vdev[0])
		return ds_error(ps, "no vdev specified");
	if (ds->is_cdrom) {
		ds->readonly = true;
		ds->shared_write = false;
		if (!ds->target[0])
			ds->format = DISKSPEC_FORMAT_EMPTY;
	} else if (!ds->target[0]) {
		return ds_error(ps, "no target specified (only a cdrom drive "
				    "may be empty)");
	}
	if (ds->target[0] && ds->target[0] != '/' && !ds->script[0]) {
		size_t len = strlen(ds->target);

		if (len + 5 >= sizeof(ds->target))
			return ds_error(ps, "target longer than %zu bytes",
					sizeof(ds->target) - 6);
		memmove(ds->target + 5, ds->target, len + 1);
		memcpy(ds->target, "/dev/", 5);
	}
	return 0;
}

int diskspec_parse(const char *spec, struct diskspec *out, char *err,
		   size_t errlen)
{
	struct diskspec_parser ps = {
	    .spec = spec,
	    .ds = out,
	    .err = err,
	    .errlen = errlen,
	};
	char *copy = NULL, *p;
	int r = 0;

	memset(out, 0, sizeof(*out));
	out->discard = true;
	out->trusted = true;
	if (errlen)
		err[0] = '\0';
	copy = strdup(spec);
	if (!copy) {
		ds_error(&ps, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	for (p = copy; !r;) {
		char *tok, *end, *eq;

		while (ds_is_blank(*p))
			p++;
		if (!*p)
			break;
		if (!strncmp(p, "target=", 7)) {
			/* The rest of the spec, less one trailing comma. */
			end = p + strlen(p);
			if (end > p + 7 && end[-1] == ',')
				end[-1] = '\0';
			r = ds_set_target(&ps, p + 7);
			break;
		}
		tok = p;
		end = strchr(p, ',');
		if (end) {
			*end = '\0';
			p = end + 1;
		} else {
			end = p + strlen(p);
			p = end;
		}
		while (end > tok && ds_is_blank(end[-1]))
			*--end = '\0';
		eq = strchr(tok, '=');
		if (eq) {
			r = ds_keyvalue(&ps, tok, eq);
		} else {
			const struct ds_key *k = ds_key_lookup(tok);

			if (k && !k->has_value)
				r = k->set(&ps, NULL);
			else
				r = ds_positional(&ps, tok);
		}
	}
	if (!r)
		r = ds_finish(&ps);
out:
	free(copy);
	return r;
}

/* ---- conflicts ---- */

int diskspec_conflict(const struct diskspec *a, const struct diskspec *b,
		      bool same_domain, char *err, size_t errlen)
{
	bool a_excl = !a->readonly && !a->shared_write;
	bool b_excl = !b->readonly && !b->shared_write;

	if (errlen)
		err[0] = '\0';
	if (same_domain && a->vdev_number == b->vdev_number) {
		if (errlen)
			snprintf(err, errlen,
				 "%s and %s are the same virtual device (%u)",
				 a->vdev, b->vdev, a->vdev_number);
		return -EEXIST;
	}
	if (!a->target[0] || strcmp(a->target, b->target) ||
	    strcmp(a->script, b->script))
		return 0;
	if (!a_excl && !b_excl)
		return 0;
	if (errlen)
		snprintf(err, errlen,
			 "'%s' is used by %s and %s, and %s opens it writable "
			 "without w!",
			 a->target, a->vdev, b->vdev,
			 a_excl ? a->vdev : b->vdev);
	return -EBUSY;
}
