/* Network interface specifications: one element of an xl.cfg `vif = [ ... ]`
 * list, in the syntax of xl-network-configuration(5) and of xm/xend, parsed
 * into a struct vifspec; MAC addresses generated stably per domain and
 * device; clashes between the vifs of one domain.
 *
 * Pure: no I/O, no allocation that outlives a call.  Every error is
 * returned as -errno with a message for the user in err. */
#ifndef KXEN_XL_VIFSPEC_H
#define KXEN_XL_VIFSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIFSPEC_IFNAME_MAX 16 /* Linux's IFNAMSIZ, with the NUL */
#define VIFSPEC_NAME_MAX 256  /* script, model, backend domain, vlan */
#define VIFSPEC_IPS_MAX 8     /* addresses in one ip= */
#define VIFSPEC_IP_MAX 50     /* an IPv6 address and "/128", with the NUL */
#define VIFSPEC_DEVID_MAX 0x7fffffffU
#define VIFSPEC_MTU_DEFAULT 1500
#define VIFSPEC_RATE_INTERVAL_DEFAULT 50000 /* µs, as xl */
#define VIFSPEC_DEFAULT_BRIDGE "xenbr0"	    /* libxl's defaults */
#define VIFSPEC_DEFAULT_SCRIPT "vif-bridge"

/* type=: what the guest sees.  A PV or PVH guest only ever has the Xen PV
 * interface (vif); ioemu is an emulated card for HVM guests. */
enum vifspec_type {
	VIFSPEC_TYPE_DEFAULT, /* not given */
	VIFSPEC_TYPE_VIF,
	VIFSPEC_TYPE_IOEMU,
};

struct vifspec {
	int64_t devid; /* -1: not given (vifspec_domain assigns one) */
	bool has_mac;  /* mac= given, or assigned by vifspec_domain */
	uint8_t mac[6];
	char bridge[VIFSPEC_IFNAME_MAX];     /* "": the default, xenbr0 */
	char vifname[VIFSPEC_IFNAME_MAX];    /* "": the backend's vifD.N */
	char gatewaydev[VIFSPEC_IFNAME_MAX]; /* "": none (vif-route, vif-nat) */
	char ips[VIFSPEC_IPS_MAX][VIFSPEC_IP_MAX]; /* as written, checked */
	unsigned nr_ips;
	char script[VIFSPEC_NAME_MAX];	       /* "": the default, vif-bridge */
	char model[VIFSPEC_NAME_MAX];	       /* "": not given */
	char backend_domain[VIFSPEC_NAME_MAX]; /* "": dom0 */
	char vlan[VIFSPEC_NAME_MAX];	       /* "": none (vif-openvswitch) */
	enum vifspec_type type;
	uint32_t mtu;		     /* 0: not given (VIFSPEC_MTU_DEFAULT) */
	uint64_t rate_bytes_per_sec; /* 0: unlimited */
	uint32_t rate_interval_us;   /* with a rate: the credit period */
	bool trusted;		     /* default true; untrusted clears it */
	/* Given but without effect; the caller says so to the user. */
	bool accel;  /* accel=: xl ignores it too */
	bool netdev; /* netdev=: xm's name for gatewaydev= */
};

/* Parses spec, one VIFSPEC, into *out (overwritten entirely).
 *
 * A VIFSPEC is a comma-separated list of key=value parameters, blanks
 * around each ignored, empty ones skipped (so '' is a vif with every
 * default, as in xm configs); each key at most once.  Keys, as
 * xl-network-configuration(5) describes them:
 *   mac=XX:XX:XX:XX:XX:XX   (1 or 2 hex digits a byte, ':' or '-'; unicast,
 *                            not all zero)
 *   bridge= vifname= gatewaydev= (netdev=, deprecated)
 *                           Linux interface names: 1 to 15 bytes, no '/',
 *                           ':', blank or control character, not . or ..
 *   ip=ADDR[/PREFIX][ ADDR...] IPv4 or IPv6, VIFSPEC_IPS_MAX at most
 *   script= model= backend= vlan=   free text without blanks or controls
 *   type=vif|ioemu   mtu=68..65535   devid=0..VIFSPEC_DEVID_MAX (decimal)
 *   rate=RATE (vifspec_parse_rate)   accel= (recorded, without effect)
 * and the flags trusted and untrusted.  COLO parameters (colo_*,
 * forwarddev=) are refused as unsupported.  Unlike xl, which prints
 * "unrecognized argument" and carries on, an unknown parameter is an
 * error: a misspelt bridge= would otherwise put the guest on xenbr0.
 *
 * Returns 0; -EINVAL with "'SPEC': what is wrong" in err (SPEC cut to 80
 * bytes and "..."; the message names the offending key; the whole
 * truncated to errlen; err may be NULL when errlen is 0); -ENOMEM. */
int vifspec_parse(const char *spec, struct vifspec *out, char *err,
		  size_t errlen);

/* Parses a MAC address as mac= takes it into mac.  0, or -EINVAL with
 * "mac 'TEXT': why" in err (NULL when errlen is 0). */
int vifspec_parse_mac(const char *text, uint8_t mac[6], char *err,
		      size_t errlen);

/* Writes mac as "00:16:3e:0a:0b:0c" into out. */
void vifspec_format_mac(const uint8_t mac[6], char out[18]);

/* Parses a rate in Xen's syntax, RATE/s[@INTERVAL]:
 *   RATE     decimal digits, an optional multiplier G, M or K (powers of
 *            1000), then B (bytes) or b (bits), as in 10Mb/s or 1GB/s;
 *   INTERVAL decimal digits and an optional unit s, ms or us (m and u
 *            alone are accepted too); without a unit, seconds, as xl
 *            reads it.  Default VIFSPEC_RATE_INTERVAL_DEFAULT µs.
 * The number before the multiplier and the interval in µs must each be
 * 1 to 2^32-1, as in xl; the rate must come to at least one byte per
 * interval.  0, or -EINVAL with "rate 'TEXT': why" in err (NULL when
 * errlen is 0); *bytes_per_sec and *interval_us are set only on success. */
int vifspec_parse_rate(const char *text, uint64_t *bytes_per_sec,
		       uint32_t *interval_us, char *err, size_t errlen);

/* Writes v back as a VIFSPEC that vifspec_parse reads into the same
 * devid, MAC, bridge (default filled in), script (default filled in),
 * vifname, ips, mtu and rate (as NB/s with the largest of G, M, K that
 * divides it, @Nus): what kxl hands the domain process.  A rate that
 * cannot be written exactly (over 2^32-1 units of every multiplier) is
 * rounded down to whole K.  Fields a backend does not use (model, type,
 * backend, vlan, gatewaydev, trust) are left out.  The length it needed,
 * as snprintf. */
int vifspec_format(const struct vifspec *v, char *out, size_t len);

/* The bytes the vif may send in one interval (libxl's
 * rate_bytes_per_interval); 0 when it has no rate. */
uint64_t vifspec_bytes_per_interval(const struct vifspec *v);

/* The MAC address kxen gives device devid of the domain identified by key
 * (its UUID, in lower case, when the configuration sets one, else its
 * name), so that a guest keeps its addresses from one boot to the next.
 * libxl draws them at random instead; both use Xen's OUI 00:16:3e and keep
 * the top bit of the fourth byte clear.
 *
 * Derivation: h = FNV-1a-64 over the bytes of key, a zero byte, the four
 * bytes of devid (least significant first) and the byte attempt; then
 * MurmurHash3's 64-bit finaliser
 *     h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33;
 *     h *= 0xc4ceb9fe1a85ec53; h ^= h >> 33;
 * and mac = 00:16:3e:(h >> 16 & 0x7f):(h >> 8 & 0xff):(h & 0xff).
 * attempt is 0 unless that address is taken (vifspec_domain tries 1,
 * 2, ... then).  Worked example: key "demo", devid 0 gives
 * 00:16:3e:36:e4:c0, devid 1 gives 00:16:3e:20:28:2c, and devid 0 with
 * attempt 1 gives 00:16:3e:26:ca:e7. */
void vifspec_default_mac(const char *key, uint32_t devid, uint8_t attempt,
			 uint8_t mac[6]);

/* Whether vifs a and b may belong to one domain: -EEXIST with the reason
 * in err (NULL when errlen is 0) when they have the same devid, the same
 * MAC address or the same vifname; else 0.  Unset fields (devid -1, no
 * MAC, no vifname) never clash. */
int vifspec_conflict(const struct vifspec *a, const struct vifspec *b,
		     char *err, size_t errlen);

/* Completes the n vifs of one domain, in order: a vif without devid gets
 * one more than the highest devid so far (0 for the first), as libxl
 * numbers devices; one without MAC gets vifspec_default_mac(key, devid),
 * with the next attempt while another vif of the domain has that address.
 * Then checks every pair with vifspec_conflict.  0, or -EEXIST with
 * "vif N and vif M: reason" (N, M counting from 0, in list order) in err
 * (NULL when errlen is 0); -ERANGE when a devid would pass
 * VIFSPEC_DEVID_MAX. */
int vifspec_domain(struct vifspec *vifs, size_t n, const char *key, char *err,
		   size_t errlen);

#endif
