/* kxl create: read an xl.cfg (or xm-era) file, validate it completely,
 * then start the domain's process.  Nothing is created before the whole
 * configuration is known to be good. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "xl/config.h"
#include "xl/diskspec.h"
#include "xl/kxl.h"
#include "xl/vifspec.h"

/* Every key kxl knows; the rest are warned about and ignored, as xl
 * ignores keys it does not use. */
static const char *const known_keys[] = {
	"name", "uuid", "type", "builder", "kernel", "ramdisk", "cmdline",
	"extra", "root", "memory", "maxmem", "vcpus", "maxvcpus", "cpus",
	"on_poweroff", "on_reboot", "on_crash", "on_watchdog", "disk", "vif",
	"description", NULL,
};

static const char *const actions[] = {
	"destroy", "restart", "preserve", "rename-restart",
	"coredump-destroy", "coredump-restart", "soft-reset", NULL,
};

#define CREATE_MAX_DISKS 16
#define CREATE_MAX_VIFS 16
#define CREATE_MAX_CPUS_ITEMS 64 /* cpus = [ ... ]: one per vCPU */

struct create_spec {
	struct diskspec disks[CREATE_MAX_DISKS];
	unsigned nr_disks;
	struct vifspec vifs[CREATE_MAX_VIFS];
	unsigned nr_vifs;
	char name[64];
	char uuid[37];	 /* lower case */
	bool uuid_given; /* else drawn at random for this boot */
	/* cpus: a string (one affinity for every vCPU) or a list (one per
	 * vCPU), each checked but kept as written. */
	char cpus[CREATE_MAX_CPUS_ITEMS][64];
	unsigned nr_cpus;
	bool cpus_list;
	char kernel[PATH_MAX];
	char ramdisk[PATH_MAX];
	char cmdline[4096];
	uint64_t memory, maxmem;
	unsigned vcpus, maxvcpus;
	const char *on_poweroff, *on_reboot, *on_crash, *on_watchdog;
};

static int spec_error(const struct xl_config *c, const char *key,
		      const char *msg)
{
	const struct cfg_entry *e = cfg_get(c, key);

	if (e && e->line)
		fprintf(stderr, "kxl: %s:%d: %s: %s\n", c->file, e->line, key,
			msg);
	else
		fprintf(stderr, "kxl: %s: %s: %s\n", c->file, key, msg);
	return -1;
}

static void spec_warn(const struct xl_config *c, const char *key,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "kxl: warning: FILE:LINE: KEY: message", for what is accepted but has no
 * effect. */
static void spec_warn(const struct xl_config *c, const char *key,
		      const char *fmt, ...)
{
	const struct cfg_entry *e = cfg_get(c, key);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e && e->line)
		fprintf(stderr, "kxl: warning: %s:%d: %s: %s\n", c->file,
			e->line, key, msg);
	else
		fprintf(stderr, "kxl: warning: %s: %s: %s\n", c->file, key,
			msg);
}

static int spec_number(const struct xl_config *c, const char *key,
		       uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
	const struct cfg_entry *e = cfg_get(c, key);
	char msg[128], *end;
	unsigned long long v;

	*out = def;
	if (!e)
		return 0;
	if (e->val.type == CFG_LIST)
		return spec_error(c, key, "expected a number, found a list");
	errno = 0;
	v = strtoull(e->val.str, &end, 0);
	if (*end || errno || !*e->val.str) {
		snprintf(msg, sizeof(msg), "expected a number, found '%s'",
			 e->val.str);
		return spec_error(c, key, msg);
	}
	if (v < min || v > max) {
		snprintf(msg, sizeof(msg), "%llu is out of range %llu..%llu", v,
			 (unsigned long long)min, (unsigned long long)max);
		return spec_error(c, key, msg);
	}
	*out = v;
	return 0;
}

static int spec_action(const struct xl_config *c, const char *key,
		       const char *def, const char **out)
{
	const char *v = cfg_get_str(c, key);

	*out = def;
	if (!v)
		return cfg_get(c, key) ? spec_error(c, key, "expected a string")
				       : 0;
	for (int i = 0; actions[i]; i++) {
		if (strcmp(v, actions[i]) == 0) {
			*out = actions[i];
			return 0;
		}
	}
	return spec_error(c, key,
			  "expected destroy, restart, preserve, rename-restart, "
			  "coredump-destroy, coredump-restart or soft-reset");
}

/* Paths are used as given (relative to the current directory), as xl
 * does; the file must exist and be readable. */
static int spec_file(const struct xl_config *c, const char *key, char *out,
		     size_t len, bool required)
{
	const char *v = cfg_get_str(c, key);
	char msg[PATH_MAX + 64];

	out[0] = '\0';
	if (!v) {
		if (cfg_get(c, key))
			return spec_error(c, key, "expected a file name");
		return required ? spec_error(c, key, "missing (required)") : 0;
	}
	if (access(v, R_OK) < 0) {
		snprintf(msg, sizeof(msg), "'%s': %s", v, strerror(errno));
		return spec_error(c, key, msg);
	}
	if (!realpath(v, out) || strlen(out) >= len)
		return spec_error(c, key, "path too long");
	return 0;
}

static void random_uuid(char out[37])
{
	uint8_t b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, b, sizeof(b)) != sizeof(b)) {
		srand((unsigned)time(NULL) ^ (unsigned)getpid());
		for (int i = 0; i < 16; i++)
			b[i] = (uint8_t)rand();
	}
	if (fd >= 0)
		close(fd);
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

static bool valid_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}

/* Every disk is parsed and checked here, before anything exists: the
 * syntax, that the target is there, and that no two disks clash. */
static int spec_disks(const struct xl_config *c, struct create_spec *s)
{
	const struct cfg_entry *e = cfg_get(c, "disk");
	char err[512], msg[600];

	if (!e)
		return 0;
	if (e->val.type != CFG_LIST)
		return spec_error(c, "disk", "expected a list [ '...', ... ]");
	if (e->val.nitems > CREATE_MAX_DISKS)
		return spec_error(c, "disk", "too many disks (16 at most)");
	for (size_t i = 0; i < e->val.nitems; i++) {
		struct diskspec *d = &s->disks[s->nr_disks];

		if (diskspec_parse(e->val.items[i], d, err, sizeof(err)) < 0)
			return spec_error(c, "disk", err);
		if (d->target[0] && !d->script[0] && access(d->target, F_OK) < 0) {
			snprintf(msg, sizeof(msg), "'%s': %s", d->target,
				 strerror(errno));
			return spec_error(c, "disk", msg);
		}
		for (unsigned j = 0; j < s->nr_disks; j++)
			if (diskspec_conflict(&s->disks[j], d, true, err,
					      sizeof(err)) < 0)
				return spec_error(c, "disk", err);
		s->nr_disks++;
	}
	return 0;
}

/* A spec quoted in a warning: its first 80 bytes. */
static const char *spec_quote(const char *spec, char *buf, size_t len)
{
	snprintf(buf, len, "'%.80s%s'", spec, strlen(spec) > 80 ? "..." : "");
	return buf;
}

/* Every vif is parsed, numbered and given its MAC address here, and two
 * vifs of the domain with one devid, MAC or vifname are refused.
 *
 * The bridge is not required to exist here.  xl itself only finds out
 * when the vif-bridge hotplug script runs, and `create -n` must give the
 * same answer for a configuration prepared on another host; starting the
 * domain is where a missing bridge is refused, before anything exists. */
static int spec_vifs(const struct xl_config *c, struct create_spec *s)
{
	const struct cfg_entry *e = cfg_get(c, "vif");
	char err[512], q[96];

	if (!e)
		return 0;
	if (e->val.type != CFG_LIST)
		return spec_error(c, "vif", "expected a list [ '...', ... ]");
	if (e->val.nitems > CREATE_MAX_VIFS)
		return spec_error(c, "vif", "too many vifs (16 at most)");
	for (size_t i = 0; i < e->val.nitems; i++) {
		const char *text = e->val.items[i];
		struct vifspec *v = &s->vifs[s->nr_vifs];

		if (vifspec_parse(text, v, err, sizeof(err)) < 0)
			return spec_error(c, "vif", err);
		/* A PVH guest has Xen's PV network interface and nothing
		 * else; xl would refuse type=ioemu for one, xm configs for
		 * HVM guests carry it, so it is let through with a word. */
		if (v->model[0])
			spec_warn(c, "vif",
				  "%s: model=%s ignored: a PVH guest's network "
				  "device is the Xen PV interface",
				  spec_quote(text, q, sizeof(q)), v->model);
		if (v->type == VIFSPEC_TYPE_IOEMU)
			spec_warn(c, "vif",
				  "%s: type=ioemu ignored: a PVH guest has no "
				  "emulated network card; it gets a PV vif",
				  spec_quote(text, q, sizeof(q)));
		if (v->accel)
			spec_warn(c, "vif",
				  "%s: the accel parameter for vifs is not "
				  "supported; ignored",
				  spec_quote(text, q, sizeof(q)));
		if (v->netdev)
			spec_warn(c, "vif",
				  "%s: the netdev parameter is deprecated, "
				  "please use gatewaydev instead",
				  spec_quote(text, q, sizeof(q)));
		s->nr_vifs++;
	}
	/* MACs follow the domain: its UUID when the config fixes one (a
	 * random UUID would change them at every boot), else its name. */
	if (vifspec_domain(s->vifs, s->nr_vifs, s->uuid_given ? s->uuid
							      : s->name,
			   err, sizeof(err)) < 0)
		return spec_error(c, "vif", err);
	return 0;
}

/* One CPU affinity as xl reads it: comma-separated terms, each
 * [^][node:|nodes:](all | N | N-M), "^all" excepted.  Only the syntax is
 * checked: whether those CPUs exist depends on the host that starts it. */
static bool spec_cpus_valid(const char *v)
{
	const char *p = v;

	if (!*p)
		return false;
	for (;;) {
		bool not = *p == '^';
		unsigned long a, b;
		char *end;

		if (not)
			p++;
		if (!strncmp(p, "nodes:", 6))
			p += 6;
		else if (!strncmp(p, "node:", 5))
			p += 5;
		if (!strncmp(p, "all", 3) && (p[3] == ',' || !p[3])) {
			if (not)
				return false;
			p += 3;
		} else {
			if (*p < '0' || *p > '9')
				return false;
			a = b = strtoul(p, &end, 10);
			p = end;
			if (*p == '-') {
				if (p[1] < '0' || p[1] > '9')
					return false;
				b = strtoul(p + 1, &end, 10);
				p = end;
			}
			if (a > b || b > 65535)
				return false;
		}
		if (!*p)
			return true;
		if (*p++ != ',')
			return false;
	}
}

static int spec_cpus(const struct xl_config *c, struct create_spec *s)
{
	static const char syntax[] =
	    "expected all, N, N-M, ^N or nodes:N-M, comma-separated";
	const struct cfg_entry *e = cfg_get(c, "cpus");
	char msg[160];
	size_t n;

	if (!e)
		return 0;
	s->cpus_list = e->val.type == CFG_LIST;
	n = s->cpus_list ? e->val.nitems : 1;
	if (n > CREATE_MAX_CPUS_ITEMS)
		return spec_error(c, "cpus", "one entry per vCPU, 64 at most");
	for (size_t i = 0; i < n; i++) {
		const char *v = s->cpus_list ? e->val.items[i] : e->val.str;

		if (strlen(v) >= sizeof(s->cpus[0]) || !spec_cpus_valid(v)) {
			snprintf(msg, sizeof(msg), "'%.40s': %s", v, syntax);
			return spec_error(c, "cpus", msg);
		}
		strcpy(s->cpus[s->nr_cpus++], v);
	}
	return 0;
}

/* A domain of that name already running is refused now, before anything
 * is made (reg_reserve checks again under its lock, for two creates that
 * race). */
static int spec_name_free(const struct xl_config *c, const char *name)
{
	static struct kxl_dom doms[256];
	int n = reg_list(doms, 256);
	char msg[128];

	for (int i = 0; i < n; i++) {
		if (strcmp(doms[i].name, name))
			continue;
		snprintf(msg, sizeof(msg),
			 "a domain named \"%.63s\" already exists (domid %u)",
			 name, doms[i].domid);
		return spec_error(c, "name", msg);
	}
	return 0;
}

static int spec_build(const struct xl_config *c, struct create_spec *s)
{
	const char *v, *key;
	uint64_t n;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < c->n; i++) {
		bool known = false;

		for (int k = 0; known_keys[k]; k++)
			known |= strcmp(c->entries[i].key, known_keys[k]) == 0;
		if (known)
			continue;
		/* xl says nothing of keys it does not use; a word about them
		 * catches a misspelt one. */
		if (c->entries[i].line)
			fprintf(stderr,
				"kxl: warning: %s:%d: unknown setting '%s' "
				"ignored\n",
				c->file, c->entries[i].line, c->entries[i].key);
		else
			fprintf(stderr,
				"kxl: warning: command line: unknown setting "
				"'%s' ignored\n",
				c->entries[i].key);
	}
	v = cfg_get_str(c, "name");
	if (!v || !*v)
		return spec_error(c, "name", "missing (required)");
	if (strlen(v) >= sizeof(s->name) || strpbrk(v, " /\t\n"))
		return spec_error(c, "name",
				  "must be under 64 characters, without "
				  "spaces or '/'");
	strcpy(s->name, v);
	if (spec_name_free(c, s->name))
		return -1;
	/* type is xl's, builder (linux or hvm) xm's. */
	key = cfg_get(c, "type") ? "type" : "builder";
	v = cfg_get_str(c, key);
	if (!v && cfg_get(c, key))
		return spec_error(c, key, "expected a string");
	if (v && strcmp(v, "pvh") != 0) {
		if (strcmp(v, "pv") == 0 || strcmp(v, "linux") == 0)
			spec_warn(c, key,
				  "'%s': kxen boots the kernel as a PVH guest",
				  v);
		else
			return spec_error(c, key,
					  "kxen runs PVH guests only (type = "
					  "\"pvh\")");
	}
	if (spec_file(c, "kernel", s->kernel, sizeof(s->kernel), true) ||
	    spec_file(c, "ramdisk", s->ramdisk, sizeof(s->ramdisk), false))
		return -1;
	if (spec_number(c, "memory", 128, 16, 1 << 20, &s->memory) ||
	    spec_number(c, "maxmem", s->memory, 16, 1 << 20, &s->maxmem))
		return -1;
	if (s->maxmem < s->memory)
		return spec_error(c, "maxmem", "must not be below memory");
	if (spec_number(c, "vcpus", 1, 1, 64, &n))
		return -1;
	s->vcpus = (unsigned)n;
	if (spec_number(c, "maxvcpus", s->vcpus, 1, 64, &n))
		return -1;
	s->maxvcpus = (unsigned)n;
	if (s->maxvcpus < s->vcpus)
		return spec_error(c, "maxvcpus", "must not be below vcpus");
	if (spec_action(c, "on_poweroff", "destroy", &s->on_poweroff) ||
	    spec_action(c, "on_reboot", "restart", &s->on_reboot) ||
	    spec_action(c, "on_crash", "destroy", &s->on_crash) ||
	    spec_action(c, "on_watchdog", "destroy", &s->on_watchdog))
		return -1;
	v = cfg_get_str(c, "uuid");
	if (v && !valid_uuid(v))
		return spec_error(c, "uuid", "expected xxxxxxxx-xxxx-xxxx-"
					     "xxxx-xxxxxxxxxxxx");
	if (v) {
		/* Lower case, as libxl prints UUIDs and as MACs derive
		 * from it. */
		for (int i = 0; i < 36; i++)
			s->uuid[i] = (char)tolower((unsigned char)v[i]);
		s->uuid_given = true;
	} else {
		random_uuid(s->uuid);
	}
	if (spec_cpus(c, s))
		return -1;
	/* xl: cmdline wins; otherwise "root=<root> <extra>". */
	v = cfg_get_str(c, "cmdline");
	if (v) {
		snprintf(s->cmdline, sizeof(s->cmdline), "%s", v);
		if (cfg_get(c, "root") || cfg_get(c, "extra"))
			spec_warn(c, "cmdline", "ignoring root= and extra= in "
						"favour of cmdline=");
	} else {
		const char *root = cfg_get_str(c, "root");
		const char *extra = cfg_get_str(c, "extra");

		snprintf(s->cmdline, sizeof(s->cmdline), "%s%s%s%s",
			 root ? "root=" : "", root ? root : "",
			 root && extra ? " " : "", extra ? extra : "");
	}
	if (spec_disks(c, s))
		return -1;
	return spec_vifs(c, s);
}

/* A small JSON writer for `create -n`: each value starts on its own line,
 * indented two spaces a level, with a comma before it unless it is the
 * first in its object or array, so optional fields need no bookkeeping. */
struct json_out {
	int depth;
	bool first;
};

/* A JSON string: quotes, backslashes and control characters escaped (a
 * config may put a newline or a tab in extra). */
static void json_text(const char *v)
{
	putchar('"');
	for (; *v; v++) {
		unsigned char ch = (unsigned char)*v;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* Starts a value: the comma, the line, the key (NULL in an array). */
static void json_key(struct json_out *j, const char *key)
{
	if (j->depth)
		printf("%s\n%*s", j->first ? "" : ",", 2 * j->depth, "");
	j->first = false;
	if (key) {
		json_text(key);
		printf(": ");
	}
}

static void json_open(struct json_out *j, const char *key, char brace)
{
	json_key(j, key);
	putchar(brace);
	j->depth++;
	j->first = true;
}

static void json_close(struct json_out *j, char brace)
{
	j->depth--;
	if (!j->first)
		printf("\n%*s", 2 * j->depth, "");
	putchar(brace);
	j->first = false;
}

static void json_str(struct json_out *j, const char *key, const char *v)
{
	json_key(j, key);
	json_text(v);
}

static void json_num(struct json_out *j, const char *key, long long v)
{
	json_key(j, key);
	printf("%lld", v);
}

static void json_bool(struct json_out *j, const char *key, bool v)
{
	json_key(j, key);
	printf("%s", v ? "true" : "false");
}

static void spec_print_disk(struct json_out *j, const struct diskspec *d)
{
	json_open(j, NULL, '{');
	json_str(j, "pdev_path", d->target);
	json_str(j, "vdev", d->vdev);
	json_num(j, "virtual_device", d->vdev_number);
	json_str(j, "backend", d->backend == DISKSPEC_BACKEND_PHY ? "phy"
			       : d->backend == DISKSPEC_BACKEND_FILE ? "file"
								     : "auto");
	json_str(j, "format", d->format == DISKSPEC_FORMAT_QCOW2 ? "qcow2"
			      : d->format == DISKSPEC_FORMAT_EMPTY ? "empty"
								   : "raw");
	json_bool(j, "readwrite", !d->readonly);
	json_bool(j, "is_cdrom", d->is_cdrom);
	json_close(j, '}');
}

/* A vif as libxl's device_nic, in its field order, with the defaults
 * filled in so that what the domain will get is visible; fields that are
 * rarely set appear only when they are. */
static void spec_print_nic(struct json_out *j, const struct vifspec *v)
{
	char mac[18], ips[VIFSPEC_IPS_MAX * VIFSPEC_IP_MAX] = "";

	vifspec_format_mac(v->mac, mac);
	for (unsigned i = 0; i < v->nr_ips; i++)
		snprintf(ips + strlen(ips), sizeof(ips) - strlen(ips), "%s%s",
			 i ? " " : "", v->ips[i]);
	json_open(j, NULL, '{');
	if (v->backend_domain[0])
		json_str(j, "backend_domname", v->backend_domain);
	json_num(j, "devid", v->devid);
	json_num(j, "mtu", v->mtu ? v->mtu : VIFSPEC_MTU_DEFAULT);
	if (v->vlan[0])
		json_str(j, "vlan", v->vlan);
	json_str(j, "model", v->model);
	json_str(j, "mac", mac);
	json_str(j, "ip", ips);
	json_str(j, "bridge",
		 v->bridge[0] ? v->bridge : VIFSPEC_DEFAULT_BRIDGE);
	json_str(j, "ifname", v->vifname);
	json_str(j, "script",
		 v->script[0] ? v->script : VIFSPEC_DEFAULT_SCRIPT);
	json_str(j, "nictype", "vif");
	json_num(j, "rate_bytes_per_interval",
		 (long long)vifspec_bytes_per_interval(v));
	json_num(j, "rate_interval_usecs",
		 v->rate_bytes_per_sec ? v->rate_interval_us : 0);
	if (v->gatewaydev[0])
		json_str(j, "gatewaydev", v->gatewaydev);
	if (!v->trusted)
		json_str(j, "trusted", "False"); /* libxl's defbool */
	json_close(j, '}');
}

/* The domain as libxl_domain_config's JSON, as `xl create -n` prints it
 * (the subset kxen has). */
static void spec_print_json(const struct create_spec *s)
{
	struct json_out j = {0, true};

	json_open(&j, NULL, '{');
	json_open(&j, "c_info", '{');
	json_str(&j, "type", "pvh");
	json_str(&j, "name", s->name);
	json_str(&j, "uuid", s->uuid);
	json_close(&j, '}');
	json_open(&j, "b_info", '{');
	json_num(&j, "max_vcpus", s->maxvcpus);
	json_num(&j, "avail_vcpus", s->vcpus);
	/* xl turns cpus into per-vCPU bitmaps of the host's CPUs; kxl shows
	 * them as written. */
	if (s->nr_cpus && !s->cpus_list)
		json_str(&j, "cpus", s->cpus[0]);
	if (s->cpus_list) {
		json_open(&j, "cpus", '[');
		for (unsigned i = 0; i < s->nr_cpus; i++)
			json_str(&j, NULL, s->cpus[i]);
		json_close(&j, ']');
	}
	json_num(&j, "max_memkb", (long long)s->maxmem * 1024);
	json_num(&j, "target_memkb", (long long)s->memory * 1024);
	json_str(&j, "kernel", s->kernel);
	json_str(&j, "ramdisk", s->ramdisk);
	json_str(&j, "cmdline", s->cmdline);
	json_close(&j, '}');
	json_open(&j, "disks", '[');
	for (unsigned i = 0; i < s->nr_disks; i++)
		spec_print_disk(&j, &s->disks[i]);
	json_close(&j, ']');
	json_open(&j, "nics", '[');
	for (unsigned i = 0; i < s->nr_vifs; i++)
		spec_print_nic(&j, &s->vifs[i]);
	json_close(&j, ']');
	json_str(&j, "on_poweroff", s->on_poweroff);
	json_str(&j, "on_reboot", s->on_reboot);
	json_str(&j, "on_crash", s->on_crash);
	json_str(&j, "on_watchdog", s->on_watchdog);
	json_close(&j, '}');
	putchar('\n');
}

/* xl looks for a config that is not found as given in /etc/xen. */
static const char *resolve_config(const char *arg, char *buf, size_t len)
{
	if (access(arg, F_OK) == 0 || strchr(arg, '/'))
		return arg;
	snprintf(buf, len, "/etc/xen/%s", arg);
	return access(buf, F_OK) == 0 ? buf : arg;
}

static void domain_binary(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(out, len, "kxen-domain");
		return;
	}
	self[n] = '\0';
	snprintf(out, len, "%s/kxen-domain", dirname(self));
}

/* A disk for the domain process, in xl's own key=value syntax, with the
 * target made absolute (the domain process must not depend on our
 * working directory).  Allocated for the life of the process. */
static char *disk_arg(const struct diskspec *d)
{
	char abs[PATH_MAX], *out = NULL;
	const char *target = d->target;

	if (target[0] && !d->script[0] && realpath(target, abs))
		target = abs;
	if (asprintf(&out, "vdev=%s, access=%s, format=%s%s%s%s%s", d->vdev,
		     d->readonly ? "ro" : d->shared_write ? "w!" : "rw",
		     d->format == DISKSPEC_FORMAT_QCOW2 ? "qcow2" : "raw",
		     d->is_cdrom ? ", devtype=cdrom" : "",
		     d->discard ? "" : ", no-discard",
		     target[0] ? ", target=" : "", target) < 0)
		out = (char *)"";
	return out;
}

/* A vif for the domain process, in xl's syntax, complete: devid and MAC
 * filled in, so that the domain process writes exactly what -n showed.
 * Allocated for the life of the process. */
static char *vif_arg(const struct vifspec *v)
{
	int n = vifspec_format(v, NULL, 0);
	char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;

	if (!out)
		return (char *)"";
	vifspec_format(v, out, (size_t)n + 1);
	return out;
}

static bool create_paused; /* create -p */

static void exec_domain(const struct create_spec *s, const struct kxl_dom *d,
			bool console_stdio)
{
	char bin[PATH_MAX], domid[16], mem[32], vcpus[16];
	const char *argv[48 + 2 * CREATE_MAX_DISKS + 2 * CREATE_MAX_VIFS];
	int n = 0;

	domain_binary(bin, sizeof(bin));
	snprintf(domid, sizeof(domid), "%u", d->domid);
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)s->memory);
	snprintf(vcpus, sizeof(vcpus), "%u", s->vcpus);
	argv[n++] = bin;
	argv[n++] = "--name"; argv[n++] = s->name;
	argv[n++] = "--domid"; argv[n++] = domid;
	argv[n++] = "--uuid"; argv[n++] = s->uuid;
	argv[n++] = "--memory"; argv[n++] = mem;
	argv[n++] = "--vcpus"; argv[n++] = vcpus;
	argv[n++] = "--kernel"; argv[n++] = s->kernel;
	if (s->ramdisk[0]) {
		argv[n++] = "--ramdisk";
		argv[n++] = s->ramdisk;
	}
	if (s->cmdline[0]) {
		argv[n++] = "--cmdline";
		argv[n++] = s->cmdline;
	}
	argv[n++] = "--console-log"; argv[n++] = d->console_log;
	argv[n++] = console_stdio ? "--console-stdio" : "--console-pty";
	argv[n++] = "--on-poweroff"; argv[n++] = s->on_poweroff;
	argv[n++] = "--on-reboot"; argv[n++] = s->on_reboot;
	argv[n++] = "--on-crash"; argv[n++] = s->on_crash;
	argv[n++] = "--on-watchdog"; argv[n++] = s->on_watchdog;
	for (unsigned i = 0; i < s->nr_disks; i++) {
		argv[n++] = "--disk";
		argv[n++] = disk_arg(&s->disks[i]);
	}
	for (unsigned i = 0; i < s->nr_vifs; i++) {
		argv[n++] = "--vif";
		argv[n++] = vif_arg(&s->vifs[i]);
	}
	if (create_paused)
		argv[n++] = "--paused";
	if (getenv("KXEN_DEBUG"))
		argv[n++] = "-v";
	argv[n] = NULL;
	execv(bin, (char **)argv);
	fprintf(stderr, "kxl: cannot run %s: %s\n", bin, strerror(errno));
	_exit(127);
}

/* Runs the domain process and waits for it, forwarding a first Ctrl-C
 * as a destroy request; removes the registry entry afterwards. */
static int run_foreground(const struct create_spec *s, struct kxl_dom *d,
			  bool console)
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		perror("kxl: fork");
		reg_release(d->domid);
		return EXIT_FAILURE;
	}
	if (pid == 0)
		exec_domain(s, d, console);
	signal(SIGINT, SIG_IGN); /* the child gets it from the tty */
	d->pid = pid;
	reg_update(d);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status))
		kxl_store_cleanup(d->domid, s->uuid);
	reg_release(d->domid);
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	fprintf(stderr, "kxl: domain process ended by signal %d\n",
		WTERMSIG(status));
	return EXIT_FAILURE;
}

/* Detaches: a monitor process (like xl's own) waits for the domain
 * process so that the registry entry goes away with it. */
static int run_background(const struct create_spec *s, struct kxl_dom *d)
{
	int pfd[2];
	pid_t mon;
	char log[600];

	if (pipe(pfd) < 0)
		return EXIT_FAILURE;
	mon = fork();
	if (mon < 0)
		return EXIT_FAILURE;
	if (mon == 0) {
		pid_t pid;
		int fd, nul, status;

		setsid();
		close(pfd[0]);
		snprintf(log, sizeof(log), "%s/domain-%s.log", kxl_log_dir(),
			 s->name);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0640);
		/* The monitor and the domain process let go of kxl's stdio:
		 * a caller reading kxl's output through a pipe ($(kxl
		 * create ...), kxendomains | logger) would otherwise wait
		 * for the guest's end, not kxl's. */
		nul = open("/dev/null", O_RDWR);
		if (nul >= 0)
			dup2(nul, 0);
		if (fd >= 0 || nul >= 0) {
			dup2(fd >= 0 ? fd : nul, 1);
			dup2(fd >= 0 ? fd : nul, 2);
		}
		if (fd > 2)
			close(fd);
		if (nul > 2)
			close(nul);
		pid = fork();
		if (pid == 0) {
			close(pfd[1]);
			exec_domain(s, d, false);
		}
		d->pid = pid;
		reg_update(d);
		if (write(pfd[1], &pid, sizeof(pid)) < 0)
			_exit(1);
		close(pfd[1]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status))
			kxl_store_cleanup(d->domid, s->uuid);
		reg_release(d->domid);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &d->pid, sizeof(d->pid)) != sizeof(d->pid)) {
		fprintf(stderr, "kxl: the domain process did not start\n");
		return EXIT_FAILURE;
	}
	close(pfd[0]);
	return EXIT_SUCCESS;
}

int main_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", 0, NULL, 'h'},
		{"defconfig", 1, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	bool foreground = false, console = false, dry = kxl_dry_run, quiet = false;
	const char *file = NULL;
	char buf[PATH_MAX], err[512];
	struct xl_config cfg;
	struct create_spec spec;
	struct kxl_dom dom;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+hcpnqFf:de", opts, NULL)) != -1) {
		switch (c) {
		case 'c': console = true; break;
		case 'F': foreground = true; break;
		case 'n': dry = true; break;
		case 'q': quiet = true; break;
		case 'f': file = optarg; break;
		case 'p': create_paused = true; break;
		case 'd': case 'e': break; /* accepted, as xl */
		case 'h':
		default:
			fprintf(stderr, "usage: kxl create [-c] [-p] [-n] [-F] "
					"[-q] <config file> [key=value ...]\n");
			return c == 'h' ? EXIT_SUCCESS : EXIT_FAILURE;
		}
	}
	if (!file && optind < argc && !strchr(argv[optind], '='))
		file = argv[optind++];
	if (!file) {
		fprintf(stderr, "kxl create: no config file given\n");
		return EXIT_FAILURE;
	}
	file = resolve_config(file, buf, sizeof(buf));
	if (!quiet)
		fprintf(stderr, "Parsing config from %s\n", file);
	if (cfg_parse_file(file, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "kxl: %s\n", err);
		return EXIT_FAILURE;
	}
	for (; optind < argc; optind++) {
		if (cfg_override(&cfg, argv[optind], err, sizeof(err)) < 0) {
			fprintf(stderr, "kxl: %s\n", err);
			cfg_free(&cfg);
			return EXIT_FAILURE;
		}
	}
	ret = spec_build(&cfg, &spec);
	cfg_free(&cfg);
	if (ret < 0)
		return EXIT_FAILURE;
	if (dry) {
		spec_print_json(&spec);
		return EXIT_SUCCESS;
	}
	/* Disks go through xenstore: it must be there, and no disk may clash
	 * with one another domain has (the w! rule). */
	if (spec.nr_disks) {
		struct xs_handle *xs = kxl_xs_open();
		int bad = !xs;

		for (unsigned i = 0; !bad && i < spec.nr_disks; i++)
			bad = kxl_disk_conflicts(xs, UINT32_MAX, &spec.disks[i]);
		if (xs)
			xs_close(xs);
		if (bad) {
			fprintf(stderr, "kxl: %s: not starting %s\n", file,
				spec.name);
			return EXIT_FAILURE;
		}
	}
	/* A vif's bridge must exist before anything is created (vif-bridge
	 * would fail only once the domain runs). */
	for (unsigned i = 0; i < spec.nr_vifs; i++) {
		const struct vifspec *v = &spec.vifs[i];
		const char *br = v->bridge[0] ? v->bridge
					      : VIFSPEC_DEFAULT_BRIDGE;
		struct stat st;

		snprintf(buf, sizeof(buf), "/sys/class/net/%s/bridge", br);
		if (stat(buf, &st) < 0 &&
		    (!v->script[0] ||
		     !strcmp(v->script, VIFSPEC_DEFAULT_SCRIPT))) {
			fprintf(stderr,
				"kxl: %s: vif %lld: bridge %s does not exist "
				"(create it, e.g. with network-bridge start, "
				"or name another with bridge=): not starting "
				"%s\n",
				file, (long long)v->devid, br, spec.name);
			return EXIT_FAILURE;
		}
	}

	memset(&dom, 0, sizeof(dom));
	snprintf(dom.name, sizeof(dom.name), "%s", spec.name);
	dom.memory_mb = spec.memory;
	dom.vcpus = spec.vcpus;
	dom.start_time = (uint64_t)time(NULL);
	if (mkdir(kxl_log_dir(), 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "kxl: cannot create %s: %s\n", kxl_log_dir(),
			strerror(errno));
		return EXIT_FAILURE;
	}
	snprintf(dom.console_log, sizeof(dom.console_log),
		 "%s/console-%s.log", kxl_log_dir(), spec.name);
	if (reg_reserve(&dom) < 0)
		return EXIT_FAILURE;
	/* The console log holds this boot only. */
	if (truncate(dom.console_log, 0) < 0 && errno != ENOENT)
		fprintf(stderr, "kxl: warning: %s: %s\n", dom.console_log,
			strerror(errno));
	if (foreground || console)
		return run_foreground(&spec, &dom, console);
	ret = run_background(&spec, &dom);
	if (ret == EXIT_SUCCESS && !quiet)
		fprintf(stderr, "Started domain %s (id=%u)\n", spec.name,
			dom.domid);
	return ret;
}
