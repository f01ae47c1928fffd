/* Network interface specification parser, MAC addresses and clashes (see
 * vifspec.h). */
#include "xl/vifspec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vif_msg(char *err, size_t errlen, const char *what, const char *text,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "WHAT 'TEXT': message", TEXT cut to 40 bytes: for the helpers that
 * check one value. */
static int vif_msg(char *err, size_t errlen, const char *what, const char *text,
		   const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errlen)
		snprintf(err, errlen, "%s '%.40s%s': %s", what, text,
			 strlen(text) > 40 ? "..." : "", msg);
	return -EINVAL;
}

static bool vif_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int vif_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads decimal digits at *pp into *val, which must not pass max (below
 * 2^63).  Advances *pp past the digits, also when they are too many.
 * -EINVAL without a digit, -ERANGE past max (*val untouched then). */
static int vif_decimal(const char **pp, uint64_t max, uint64_t *val)
{
	const char *p = *pp;
	uint64_t v = 0;
	bool over = false;

	if (!vif_is_digit(*p))
		return -EINVAL;
	for (; vif_is_digit(*p); p++) {
		if (!over)
			v = v * 10 + (uint64_t)(*p - '0');
		over |= v > max;
	}
	*pp = p;
	if (over)
		return -ERANGE;
	*val = v;
	return 0;
}

/* ---- MAC addresses ---------------------------------------------------- */

int vifspec_parse_mac(const char *text, uint8_t mac[6], char *err,
		      size_t errlen)
{
	const char *p = text;
	char sep = 0;
	uint8_t m[6];

	for (int i = 0; i < 6; i++) {
		int hi = vif_hex_digit(p[0]), lo;

		if (i) {
			if (!sep && (*p == ':' || *p == '-'))
				sep = *p;
			if (*p != sep || !sep)
				goto syntax;
			hi = vif_hex_digit(*++p);
		}
		if (hi < 0)
			goto syntax;
		lo = vif_hex_digit(p[1]);
		if (lo < 0) {
			m[i] = (uint8_t)hi;
			p += 1;
		} else {
			m[i] = (uint8_t)(hi << 4 | lo);
			p += 2;
		}
	}
	if (*p)
		goto syntax;
	/* Bit 0 of the first byte marks a group address: frames to it would
	 * go to every member, so no interface may have one. */
	if (m[0] & 1)
		return vif_msg(err, errlen, "mac", text,
			       "a multicast address, not an interface's "
			       "(the first byte must be even)");
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return vif_msg(err, errlen, "mac", text,
			       "the all-zero address is no interface's");
	memcpy(mac, m, sizeof(m));
	return 0;
syntax:
	return vif_msg(err, errlen, "mac", text,
		       "expected six hex bytes separated by ':', as in "
		       "00:16:3e:01:02:03");
}

void vifspec_format_mac(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

static uint64_t fnv1a_byte(uint64_t h, uint8_t b)
{
	return (h ^ b) * FNV64_PRIME;
}

void vifspec_default_mac(const char *key, uint32_t devid, uint8_t attempt,
			 uint8_t mac[6])
{
	uint64_t h = FNV64_OFFSET;

	for (const char *p = key; *p; p++)
		h = fnv1a_byte(h, (uint8_t)*p);
	h = fnv1a_byte(h, 0);
	for (int i = 0; i < 4; i++)
		h = fnv1a_byte(h, (uint8_t)(devid >> (8 * i)));
	h = fnv1a_byte(h, attempt);
	/* FNV's multiply carries a late input byte only upward, so the low
	 * bits hardly differ between devids: finish with MurmurHash3's
	 * 64-bit mixer, which spreads every bit over all of them. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = (uint8_t)(h >> 16 & 0x7f);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* ---- rates ------------------------------------------------------------ */

int vifspec_parse_rate(const char *text, uint64_t *bytes_per_sec,
		       uint32_t *interval_us, char *err, size_t errlen)
{
	static const char syntax[] =
	    "expected RATE/s[@INTERVAL], RATE a number, optionally G, M or K, "
	    "then B (bytes) or b (bits), as in 10Mb/s or 1MB/s@20ms";
	const char *p = text;
	uint64_t rate, ival = VIFSPEC_RATE_INTERVAL_DEFAULT, mult = 1;
	int r;

	r = vif_decimal(&p, UINT32_MAX, &rate);
	if (r == -ERANGE)
		return vif_msg(err, errlen, "rate", text,
			       "the number goes up to 4294967295");
	if (r)
		return vif_msg(err, errlen, "rate", text, "%s", syntax);
	if (*p == 'G')
		mult = 1000000000;
	else if (*p == 'M')
		mult = 1000000;
	else if (*p == 'K')
		mult = 1000;
	if (mult > 1)
		p++;
	if ((*p != 'B' && *p != 'b') || p[1] != '/' || p[2] != 's' ||
	    (p[3] && p[3] != '@'))
		return vif_msg(err, errlen, "rate", text, "%s", syntax);
	if (!rate)
		return vif_msg(err, errlen, "rate", text,
			       "a rate of zero would stop all traffic");
	rate *= mult;
	if (*p == 'b')
		rate /= 8;
	if (!rate)
		return vif_msg(err, errlen, "rate", text,
			       "less than one byte per second");
	p += 3;
	if (*p == '@') {
		const char *iv = ++p;
		uint64_t unit = 1000000;

		r = vif_decimal(&p, UINT32_MAX, &ival);
		if (r == -EINVAL)
			return vif_msg(err, errlen, "rate", text,
				       "expected an interval after '@', as in "
				       "@20ms (s, ms or us)");
		if (*p == 'm' || *p == 'u') {
			unit = *p == 'm' ? 1000 : 1;
			p++;
		}
		if (*p == 's')
			p++;
		if (*p)
			return vif_msg(err, errlen, "rate", text,
				       "unknown interval unit in '%.20s' (s, "
				       "ms or us)",
				       iv);
		if (!r && !ival)
			return vif_msg(err, errlen, "rate", text,
				       "the interval must not be zero");
		if (r || ival * unit > UINT32_MAX)
			return vif_msg(err, errlen, "rate", text,
				       "the interval goes up to 4294967295 us");
		ival *= unit;
	}
	/* rate <= 2^32 * 10^9 and ival < 2^32: the product fits in 64
	 * bits only when rate is small enough, which xl checks as well. */
	if (rate > UINT64_MAX / ival)
		return vif_msg(err, errlen, "rate", text,
			       "too high for that interval");
	if (rate * ival / 1000000 == 0)
		return vif_msg(err, errlen, "rate", text,
			       "less than one byte per interval");
	*bytes_per_sec = rate;
	*interval_us = (uint32_t)ival;
	return 0;
}

int vifspec_format(const struct vifspec *v, char *out, size_t len)
{
	static const struct {
		uint64_t mult;
		const char *sfx;
	} units[] = {{1000000000, "G"}, {1000000, "M"}, {1000, "K"}, {1, ""}};
	char mac[18] = "", ips[VIFSPEC_IPS_MAX * VIFSPEC_IP_MAX] = "",
	     rate[64] = "", dev[32] = "", mtu[24] = "";

	if (v->has_mac)
		vifspec_format_mac(v->mac, mac);
	for (unsigned i = 0; i < v->nr_ips; i++)
		snprintf(ips + strlen(ips), sizeof(ips) - strlen(ips), "%s%s",
			 i ? " " : ", ip=", v->ips[i]);
	if (v->rate_bytes_per_sec) {
		uint64_t r = v->rate_bytes_per_sec;
		size_t u = 0;

		while (u < 3 &&
		       (r % units[u].mult || r / units[u].mult > UINT32_MAX))
			u++;
		if (r / units[u].mult > UINT32_MAX)
			u = 2; /* rounded down to whole K */
		snprintf(rate, sizeof(rate), ", rate=%llu%sB/s@%uus",
			 (unsigned long long)(r / units[u].mult), units[u].sfx,
			 v->rate_interval_us);
	}
	if (v->devid >= 0)
		snprintf(dev, sizeof(dev), "devid=%lld, ", (long long)v->devid);
	if (v->mtu)
		snprintf(mtu, sizeof(mtu), ", mtu=%u", v->mtu);
	return snprintf(out, len, "%s%s%s%sbridge=%s, script=%s%s%s%s%s%s", dev,
			v->has_mac ? "mac=" : "", mac, v->has_mac ? ", " : "",
			v->bridge[0] ? v->bridge : VIFSPEC_DEFAULT_BRIDGE,
			v->script[0] ? v->script : VIFSPEC_DEFAULT_SCRIPT, ips,
			rate, v->vifname[0] ? ", vifname=" : "", v->vifname,
			mtu);
}

uint64_t vifspec_bytes_per_interval(const struct vifspec *v)
{
	if (!v->rate_bytes_per_sec)
		return 0;
	return v->rate_bytes_per_sec * v->rate_interval_us / 1000000;
}

/* ---- the vif specification -------------------------------------------- */

/* Keys given so far, so that none is given twice. */
enum {
	VS_MAC = 1 << 0,
	VS_BRIDGE = 1 << 1,
	VS_VIFNAME = 1 << 2,
	VS_GATEWAYDEV = 1 << 3,
	VS_IP = 1 << 4,
	VS_SCRIPT = 1 << 5,
	VS_MODEL = 1 << 6,
	VS_BACKEND = 1 << 7,
	VS_VLAN = 1 << 8,
	VS_TYPE = 1 << 9,
	VS_MTU = 1 << 10,
	VS_RATE = 1 << 11,
	VS_DEVID = 1 << 12,
	VS_ACCEL = 1 << 13,
};

struct vifspec_parser {
	const char *spec;
	struct vifspec *vs;
	char *err;
	size_t errlen;
	unsigned given; /* VS_* */
};

static int vs_error(struct vifspec_parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int vs_error(struct vifspec_parser *ps, const char *fmt, ...)
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

/* Free text for scripts, models and names: printable ASCII without
 * blanks, which would split the value where the backend's scripts read
 * it.  NULL, or what is wrong. */
static const char *vs_bad_text(const char *v)
{
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (c <= ' ' || c >= 0x7f)
			return "blanks, control characters and non-ASCII "
			       "bytes are not allowed";
	}
	return NULL;
}

/* A Linux interface name (dev_valid_name): 1 to 15 bytes, not . or ..,
 * none of '/', ':' or blanks. */
static const char *vs_bad_ifname(const char *v)
{
	if (strlen(v) >= VIFSPEC_IFNAME_MAX)
		return "interface names have 15 bytes at most";
	if (!strcmp(v, ".") || !strcmp(v, ".."))
		return "not an interface name";
	if (strpbrk(v, "/:"))
		return "interface names contain no '/' or ':'";
	return vs_bad_text(v);
}

struct vs_key {
	const char *name;
	unsigned bit; /* VS_*, 0 for flags that may repeat */
	bool has_value;
	int (*set)(struct vifspec_parser *ps, const char *key,
		   const char *value);
};

static int vs_copy(struct vifspec_parser *ps, char *dst, size_t size,
		   const char *key, const char *value, bool ifname)
{
	const char *why = ifname ? vs_bad_ifname(value) : vs_bad_text(value);

	if (why)
		return vs_error(ps, "%s=%.40s%s: %s", key, value,
				strlen(value) > 40 ? "..." : "", why);
	if (strlen(value) >= size)
		return vs_error(ps, "%s longer than %zu bytes", key, size - 1);
	strcpy(dst, value);
	return 0;
}

static int vs_mac(struct vifspec_parser *ps, const char *key, const char *v)
{
	char msg[160];

	if (vifspec_parse_mac(v, ps->vs->mac, msg, sizeof(msg)))
		return vs_error(ps, "%s", msg);
	ps->vs->has_mac = true;
	return 0;
}

static int vs_bridge(struct vifspec_parser *ps, const char *key, const char *v)
{
	return vs_copy(ps, ps->vs->bridge, sizeof(ps->vs->bridge), key, v,
		       true);
}

static int vs_vifname(struct vifspec_parser *ps, const char *key, const char *v)
{
	return vs_copy(ps, ps->vs->vifname, sizeof(ps->vs->vifname), key, v,
		       true);
}

static int vs_gatewaydev(struct vifspec_parser *ps, const char *key,
			 const char *v)
{
	if (!strcmp(key, "netdev"))
		ps->vs->netdev = true;
	return vs_copy(ps, ps->vs->gatewaydev, sizeof(ps->vs->gatewaydev), key,
		       v, true);
}

/* One address, IPv4 or IPv6, with an optional prefix length. */
static int vs_one_ip(struct vifspec_parser *ps, const char *a, size_t len)
{
	char buf[VIFSPEC_IP_MAX], *slash;
	unsigned char bin[16];
	uint64_t prefix = 0;
	int af;

	if (len >= sizeof(buf))
		return vs_error(ps, "ip: '%.*s' is not an IP address",
				(int)(len > 40 ? 40 : len), a);
	memcpy(buf, a, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, bin) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, buf, bin) == 1)
		af = AF_INET6;
	else
		return vs_error(ps, "ip: '%.*s' is not an IP address", (int)len,
				a);
	if (slash) {
		const char *p = slash + 1;
		uint64_t max = af == AF_INET ? 32 : 128;

		if (vif_decimal(&p, max, &prefix) || *p ||
		    (p - slash > 2 && slash[1] == '0'))
			return vs_error(ps,
					"ip: '%.*s': the prefix length goes "
					"from 0 to %u",
					(int)len, a, (unsigned)max);
	}
	if (ps->vs->nr_ips == VIFSPEC_IPS_MAX)
		return vs_error(ps, "ip: %d addresses at most",
				VIFSPEC_IPS_MAX);
	memcpy(ps->vs->ips[ps->vs->nr_ips++], a, len);
	return 0;
}

/* ip= takes a blank-separated list, as xl's vif-route and vif-nat
 * scripts read it. */
static int vs_ip(struct vifspec_parser *ps, const char *key, const char *v)
{
	const char *p = v;

	while (*p) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, " \t");
		if (len) {
			int r = vs_one_ip(ps, p, len);

			if (r)
				return r;
		}
		p += len;
	}
	if (!ps->vs->nr_ips)
		return vs_error(ps, "ip: no address given");
	return 0;
}

static int vs_script(struct vifspec_parser *ps, const char *key, const char *v)
{
	return vs_copy(ps, ps->vs->script, sizeof(ps->vs->script), key, v,
		       false);
}

static int vs_model(struct vifspec_parser *ps, const char *key, const char *v)
{
	return vs_copy(ps, ps->vs->model, sizeof(ps->vs->model), key, v, false);
}

static int vs_backend(struct vifspec_parser *ps, const char *key, const char *v)
{
	return vs_copy(ps, ps->vs->backend_domain,
		       sizeof(ps->vs->backend_domain), key, v, false);
}

static int vs_vlan(struct vifspec_parser *ps, const char *key, const char *v)
{
	return vs_copy(ps, ps->vs->vlan, sizeof(ps->vs->vlan), key, v, false);
}

static int vs_type(struct vifspec_parser *ps, const char *key, const char *v)
{
	if (!strcmp(v, "vif"))
		ps->vs->type = VIFSPEC_TYPE_VIF;
	else if (!strcmp(v, "ioemu"))
		ps->vs->type = VIFSPEC_TYPE_IOEMU;
	else
		return vs_error(ps, "type: unknown type '%.40s' (vif or ioemu)",
				v);
	return 0;
}

static int vs_number(struct vifspec_parser *ps, const char *key, const char *v,
		     uint64_t min, uint64_t max, uint64_t *out)
{
	const char *p = v;
	int r = vif_decimal(&p, max, out);

	if (r == -EINVAL || *p)
		return vs_error(ps,
				"%s: expected a decimal number, found "
				"'%.40s'",
				key, v);
	if (r == -ERANGE || *out < min)
		return vs_error(ps, "%s: %.40s is out of range %llu..%llu", key,
				v, (unsigned long long)min,
				(unsigned long long)max);
	return 0;
}

static int vs_mtu(struct vifspec_parser *ps, const char *key, const char *v)
{
	uint64_t n = 0;
	/* 68: the least an IPv4 link may carry (RFC 791). */
	int r = vs_number(ps, key, v, 68, 65535, &n);

	ps->vs->mtu = (uint32_t)n;
	return r;
}

static int vs_devid(struct vifspec_parser *ps, const char *key, const char *v)
{
	uint64_t n = 0;
	int r = vs_number(ps, key, v, 0, VIFSPEC_DEVID_MAX, &n);

	ps->vs->devid = (int64_t)n;
	return r;
}

static int vs_rate(struct vifspec_parser *ps, const char *key, const char *v)
{
	char msg[224];

	if (vifspec_parse_rate(v, &ps->vs->rate_bytes_per_sec,
			       &ps->vs->rate_interval_us, msg, sizeof(msg)))
		return vs_error(ps, "%s", msg);
	return 0;
}

static int vs_accel(struct vifspec_parser *ps, const char *key, const char *v)
{
	ps->vs->accel = true;
	return 0;
}

static int vs_trusted(struct vifspec_parser *ps, const char *key, const char *v)
{
	ps->vs->trusted = !strcmp(key, "trusted");
	return 0;
}

static const struct vs_key vs_keys[] = {
    {"mac", VS_MAC, true, vs_mac},
    {"bridge", VS_BRIDGE, true, vs_bridge},
    {"vifname", VS_VIFNAME, true, vs_vifname},
    {"gatewaydev", VS_GATEWAYDEV, true, vs_gatewaydev},
    {"netdev", VS_GATEWAYDEV, true, vs_gatewaydev},
    {"ip", VS_IP, true, vs_ip},
    {"script", VS_SCRIPT, true, vs_script},
    {"model", VS_MODEL, true, vs_model},
    {"backend", VS_BACKEND, true, vs_backend},
    {"vlan", VS_VLAN, true, vs_vlan},
    {"type", VS_TYPE, true, vs_type},
    {"mtu", VS_MTU, true, vs_mtu},
    {"devid", VS_DEVID, true, vs_devid},
    {"rate", VS_RATE, true, vs_rate},
    {"accel", VS_ACCEL, true, vs_accel},
    {"trusted", 0, false, vs_trusted},
    {"untrusted", 0, false, vs_trusted},
};

static int vs_param(struct vifspec_parser *ps, char *tok)
{
	char *eq = strchr(tok, '=');
	const struct vs_key *k = NULL;

	if (eq)
		*eq = '\0';
	for (size_t i = 0; i < sizeof(vs_keys) / sizeof(*vs_keys); i++)
		if (!strcmp(vs_keys[i].name, tok))
			k = &vs_keys[i];
	if (!k) {
		if (!strncmp(tok, "colo_", 5) || !strcmp(tok, "forwarddev"))
			return vs_error(ps,
					"%.40s: COLO replication is not "
					"supported",
					tok);
		if (eq)
			return vs_error(ps, "unknown parameter '%.40s'", tok);
		return vs_error(ps,
				"unknown parameter '%.40s' (expected "
				"key=value)",
				tok);
	}
	if (!eq && k->has_value)
		return vs_error(ps, "%s needs a value (%s=...)", tok, tok);
	if (eq && !k->has_value)
		return vs_error(ps, "%s takes no value", tok);
	if (eq && !eq[1])
		return vs_error(ps, "%s= has an empty value", tok);
	if (k->bit & ps->given) {
		if (k->bit == VS_GATEWAYDEV)
			return vs_error(ps, "gatewaydev (or netdev) "
					    "specified twice");
		return vs_error(ps, "%s specified twice", tok);
	}
	ps->given |= k->bit;
	return k->set(ps, tok, eq ? eq + 1 : NULL);
}

static bool vs_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int vifspec_parse(const char *spec, struct vifspec *out, char *err,
		  size_t errlen)
{
	struct vifspec_parser ps = {
	    .spec = spec,
	    .vs = out,
	    .err = err,
	    .errlen = errlen,
	};
	char *copy, *p;
	int r = 0;

	memset(out, 0, sizeof(*out));
	out->devid = -1;
	out->trusted = true;
	if (errlen)
		err[0] = '\0';
	copy = strdup(spec);
	if (!copy) {
		vs_error(&ps, "out of memory");
		return -ENOMEM;
	}
	for (p = copy; !r && *p;) {
		char *tok = p, *end = strchr(p, ',');

		if (end) {
			*end = '\0';
			p = end + 1;
		} else {
			end = p + strlen(p);
			p = end;
		}
		while (vs_is_blank(*tok))
			tok++;
		while (end > tok && vs_is_blank(end[-1]))
			*--end = '\0';
		if (*tok)
			r = vs_param(&ps, tok);
	}
	free(copy);
	if (r) {
		/* No half-parsed vif for a caller that ignores errors. */
		memset(out, 0, sizeof(*out));
		out->devid = -1;
	}
	return r;
}

/* ---- clashes within one domain ---------------------------------------- */

int vifspec_conflict(const struct vifspec *a, const struct vifspec *b,
		     char *err, size_t errlen)
{
	char mac[18];

	if (errlen)
		err[0] = '\0';
	if (a->devid >= 0 && a->devid == b->devid) {
		if (errlen)
			snprintf(err, errlen, "both have devid %lld",
				 (long long)a->devid);
		return -EEXIST;
	}
	if (a->has_mac && b->has_mac && !memcmp(a->mac, b->mac, 6)) {
		vifspec_format_mac(a->mac, mac);
		if (errlen)
			snprintf(err, errlen, "both have MAC address %s", mac);
		return -EEXIST;
	}
	if (a->vifname[0] && !strcmp(a->vifname, b->vifname)) {
		if (errlen)
			snprintf(err, errlen, "both have vifname %s",
				 a->vifname);
		return -EEXIST;
	}
	return 0;
}

static bool vif_mac_taken(const struct vifspec *vifs, size_t n, size_t self,
			  const uint8_t mac[6])
{
	for (size_t i = 0; i < n; i++)
		if (i != self && vifs[i].has_mac &&
		    !memcmp(vifs[i].mac, mac, 6))
			return true;
	return false;
}

int vifspec_domain(struct vifspec *vifs, size_t n, const char *key, char *err,
		   size_t errlen)
{
	int64_t highest = -1;
	char msg[128];

	if (errlen)
		err[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (vifs[i].devid < 0) {
			if (highest >= (int64_t)VIFSPEC_DEVID_MAX) {
				if (errlen)
					snprintf(err, errlen,
						 "vif %zu: no devid left after "
						 "%lld",
						 i, (long long)highest);
				return -ERANGE;
			}
			vifs[i].devid = highest + 1;
		}
		if (vifs[i].devid > highest)
			highest = vifs[i].devid;
	}
	/* Given addresses first, so that a generated one never takes the
	 * address a later vif asks for. */
	for (size_t i = 0; i < n; i++) {
		unsigned attempt = 0;

		if (vifs[i].has_mac)
			continue;
		do
			vifspec_default_mac(key, (uint32_t)vifs[i].devid,
					    (uint8_t)attempt, vifs[i].mac);
		while (vif_mac_taken(vifs, n, i, vifs[i].mac) &&
		       ++attempt < 256);
		vifs[i].has_mac = true;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!vifspec_conflict(&vifs[j], &vifs[i], msg,
					      sizeof(msg)))
				continue;
			if (errlen)
				snprintf(err, errlen, "vif %zu and vif %zu: %s",
					 j, i, msg);
			return -EEXIST;
		}
	}
	return 0;
}
