/* Unit tests for the vif specification parser: the forms of xl and xm
 * configs, Xen's rate syntax, MAC addresses (given and generated), clashes
 * within a domain, and errors with their exact messages, hostile input
 * included. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xl/vifspec.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- vif specifications ---- */

/* One line for everything a spec sets, defaults left out:
 * [devid=N] [mac=M] [bridge=B] [vifname=V] [gatewaydev=G] [ip=A|B]
 * [script=S] [model=M] [type=vif|ioemu] [backend=D] [vlan=V] [mtu=N]
 * [rate=BYTES/s@USus] [untrusted] [accel] [netdev]; "-" for none. */
static void vifspec_describe(const struct vifspec *v, char *buf, size_t len)
{
	size_t n = 0;

#define PUT(...) n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__)
	buf[0] = '\0';
	if (v->devid >= 0)
		PUT(" devid=%lld", (long long)v->devid);
	if (v->has_mac) {
		char mac[18];

		vifspec_format_mac(v->mac, mac);
		PUT(" mac=%s", mac);
	}
	if (v->bridge[0])
		PUT(" bridge=%s", v->bridge);
	if (v->vifname[0])
		PUT(" vifname=%s", v->vifname);
	if (v->gatewaydev[0])
		PUT(" gatewaydev=%s", v->gatewaydev);
	for (unsigned i = 0; i < v->nr_ips; i++)
		PUT("%s%s", i ? "|" : " ip=", v->ips[i]);
	if (v->script[0])
		PUT(" script=%s", v->script);
	if (v->model[0])
		PUT(" model=%s", v->model);
	if (v->type != VIFSPEC_TYPE_DEFAULT)
		PUT(" type=%s", v->type == VIFSPEC_TYPE_VIF ? "vif" : "ioemu");
	if (v->backend_domain[0])
		PUT(" backend=%s", v->backend_domain);
	if (v->vlan[0])
		PUT(" vlan=%s", v->vlan);
	if (v->mtu)
		PUT(" mtu=%u", v->mtu);
	if (v->rate_bytes_per_sec)
		PUT(" rate=%llu/s@%uus",
		    (unsigned long long)v->rate_bytes_per_sec,
		    v->rate_interval_us);
	if (!v->trusted)
		PUT(" untrusted");
	if (v->accel)
		PUT(" accel");
	if (v->netdev)
		PUT(" netdev");
#undef PUT
	if (!buf[0])
		snprintf(buf, len, " -");
	memmove(buf, buf + 1, strlen(buf));
}

struct spec_case {
	const char *name;
	const char *spec;
	const char *expect; /* vifspec_describe, or the exact error */
};

static const struct spec_case good_cases[] = {
    /* xm configs from the Xen books */
    {"xm empty: every default", "", "-"},
    {"xm mac and bridge", "mac=00:16:3e:aa:bb:cc, bridge=xenbr1",
     "mac=00:16:3e:aa:bb:cc bridge=xenbr1"},
    {"xm bridge only", "bridge=xenbr0", "bridge=xenbr0"},
    {"xm HVM card",
     "type=ioemu, mac=00:16:3e:11:22:33, bridge=xenbr0, model=rtl8139",
     "mac=00:16:3e:11:22:33 bridge=xenbr0 model=rtl8139 type=ioemu"},
    {"xm routed", "ip=192.168.1.10, script=vif-route",
     "ip=192.168.1.10 script=vif-route"},
    {"xm nat with netdev", "script=vif-nat, ip=10.0.0.2, netdev=eth0",
     "gatewaydev=eth0 ip=10.0.0.2 script=vif-nat netdev"},
    /* xl-network-configuration(5) */
    {"doc rate 10Mb/s", "rate=10Mb/s", "rate=1250000/s@50000us"},
    {"doc rate 250KB/s", "rate=250KB/s", "rate=250000/s@50000us"},
    {"doc rate 1MB/s@20ms", "rate=1MB/s@20ms", "rate=1000000/s@20000us"},
    {"rate 1GB/s", "rate=1GB/s", "rate=1000000000/s@50000us"},
    {"rate in bytes", "rate=100B/s@1s", "rate=100/s@1000000us"},
    {"rate interval us", "rate=1GB/s@100us", "rate=1000000000/s@100us"},
    {"rate interval without unit is seconds", "rate=8B/s@5",
     "rate=8/s@5000000us"},
    {"rate interval m means ms", "rate=1MB/s@5m", "rate=1000000/s@5000us"},
    {"rate interval u means us", "rate=1GB/s@7u", "rate=1000000000/s@7us"},
    {"rate highest number", "rate=4294967295B/s", "rate=4294967295/s@50000us"},
    {"rate of 8 bits", "rate=8b/s@1s", "rate=1/s@1000000us"},
    {"gatewaydev", "script=vif-route,gatewaydev=eth1",
     "gatewaydev=eth1 script=vif-route"},
    {"vifname", "vifname=web0", "vifname=web0"},
    {"vifname of 15 bytes", "vifname=abcdefghijklmno",
     "vifname=abcdefghijklmno"},
    {"two addresses", "ip=10.0.0.2 10.0.0.3", "ip=10.0.0.2|10.0.0.3"},
    {"addresses with tabs", "ip=\t10.0.0.2\t 10.0.0.3 ",
     "ip=10.0.0.2|10.0.0.3"},
    {"IPv6 with prefix", "ip=2001:db8::1/64", "ip=2001:db8::1/64"},
    {"IPv4 with prefix", "ip=10.0.0.1/24 10.0.0.2/0",
     "ip=10.0.0.1/24|10.0.0.2/0"},
    {"eight addresses",
     "ip=1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 "
     "1.1.1.6 1.1.1.7 1.1.1.8",
     "ip=1.1.1.1|1.1.1.2|1.1.1.3|1.1.1.4|1.1.1.5|1.1.1.6|1.1.1.7|1.1.1.8"},
    {"mac in capitals", "mac=00:16:3E:AA:BB:CC", "mac=00:16:3e:aa:bb:cc"},
    {"mac with single digits", "mac=0:16:3e:a:b:c", "mac=00:16:3e:0a:0b:0c"},
    {"mac with dashes", "mac=00-16-3e-01-02-03", "mac=00:16:3e:01:02:03"},
    {"locally administered mac", "mac=02:00:00:00:00:01",
     "mac=02:00:00:00:00:01"},
    {"type vif", "type=vif", "type=vif"},
    {"model alone", "model=e1000", "model=e1000"},
    {"mtu", "mtu=9000", "mtu=9000"},
    {"mtu lowest", "mtu=68", "mtu=68"},
    {"mtu highest", "mtu=65535", "mtu=65535"},
    {"devid", "devid=3", "devid=3"},
    {"devid 0", "devid=0", "devid=0"},
    {"devid highest", "devid=2147483647", "devid=2147483647"},
    {"backend and vlan", "backend=netdom,vlan=10", "backend=netdom vlan=10"},
    {"script path", "script=/etc/xen/scripts/vif-openvswitch",
     "script=/etc/xen/scripts/vif-openvswitch"},
    {"accel recorded", "accel=netfront", "accel"},
    {"untrusted", "untrusted", "untrusted"},
    {"trusted then untrusted", "trusted,untrusted", "untrusted"},
    {"untrusted then trusted", "untrusted,trusted", "-"},
    {"blanks around parameters", "  bridge=xenbr1 ,\tvifname=v1 ",
     "bridge=xenbr1 vifname=v1"},
    {"empty parameters skipped", ",,bridge=xenbr1,,", "bridge=xenbr1"},
    {"only blanks", "  \t ", "-"},
    {"everything",
     "devid=2, mac=00:16:3e:00:00:01, bridge=br-lan, vifname=vm1.0, "
     "gatewaydev=eth0, ip=10.1.1.1, script=vif-bridge, model=virtio, "
     "type=vif, backend=0, vlan=5, mtu=1400, rate=5MB/s@10ms, untrusted",
     "devid=2 mac=00:16:3e:00:00:01 bridge=br-lan vifname=vm1.0 "
     "gatewaydev=eth0 ip=10.1.1.1 script=vif-bridge model=virtio type=vif "
     "backend=0 vlan=5 mtu=1400 rate=5000000/s@10000us untrusted"},
};

static void test_good_spec(void **state)
{
	const struct spec_case *c = *state;
	struct vifspec vs;
	char err[256] = "x", buf[512];

	assert_int_equal(vifspec_parse(c->spec, &vs, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	vifspec_describe(&vs, buf, sizeof(buf));
	assert_string_equal(buf, c->expect);
	/* Without room for messages it parses the same. */
	assert_int_equal(vifspec_parse(c->spec, &vs, NULL, 0), 0);
	vifspec_describe(&vs, buf, sizeof(buf));
	assert_string_equal(buf, c->expect);
}

#define E(spec, msg) spec, "'" spec "': " msg
#define MAC_SYNTAX                                                             \
	"expected six hex bytes separated by ':', as in 00:16:3e:01:02:03"
#define RATE_SYNTAX                                                            \
	"expected RATE/s[@INTERVAL], RATE a number, optionally G, M or K, "    \
	"then B (bytes) or b (bits), as in 10Mb/s or 1MB/s@20ms"
#define BLANKS "blanks, control characters and non-ASCII bytes are not allowed"

static const struct spec_case bad_cases[] = {
    /* keys */
    {"misspelt key", E("brigde=xenbr1", "unknown parameter 'brigde'")},
    {"bare word",
     E("xenbr0", "unknown parameter 'xenbr0' (expected key=value)")},
    {"key without value", E("mac", "mac needs a value (mac=...)")},
    {"empty value", E("mac=", "mac= has an empty value")},
    {"empty ip", E("ip= ", "ip= has an empty value")},
    {"flag with value", E("trusted=1", "trusted takes no value")},
    {"no key", E("=xenbr0", "unknown parameter ''")},
    {"key twice", E("bridge=a,bridge=b", "bridge specified twice")},
    {"mac twice",
     E("mac=00:16:3e:aa:bb:cc, mac=00:16:3e:aa:bb:cd", "mac specified twice")},
    {"gatewaydev and netdev", E("gatewaydev=eth0,netdev=eth1",
				"gatewaydev (or netdev) specified twice")},
    {"colo", E("colo_sock_mirror_id=1",
	       "colo_sock_mirror_id: COLO replication is not supported")},
    {"forwarddev",
     E("forwarddev=eth0", "forwarddev: COLO replication is not supported")},
    {"upper-case key", E("MAC=00:16:3e:aa:bb:cc", "unknown parameter 'MAC'")},
    {"error after good keys",
     E("bridge=xenbr0, mac=00:16:3e:aa:bb:cc, rat=1MB/s",
       "unknown parameter 'rat'")},
    /* mac */
    {"mac of five bytes",
     E("mac=00:16:3e:aa:bb", "mac '00:16:3e:aa:bb': " MAC_SYNTAX)},
    {"mac of seven bytes",
     E("mac=00:16:3e:aa:bb:cc:dd", "mac '00:16:3e:aa:bb:cc:dd': " MAC_SYNTAX)},
    {"mac not hex",
     E("mac=00:16:3e:aa:bb:cg", "mac '00:16:3e:aa:bb:cg': " MAC_SYNTAX)},
    {"mac three digits",
     E("mac=001:16:3e:aa:bb:cc", "mac '001:16:3e:aa:bb:cc': " MAC_SYNTAX)},
    {"mac mixed separators",
     E("mac=00:16-3e:aa:bb:cc", "mac '00:16-3e:aa:bb:cc': " MAC_SYNTAX)},
    {"mac without separators",
     E("mac=00163eaabbcc", "mac '00163eaabbcc': " MAC_SYNTAX)},
    {"mac trailing colon",
     E("mac=00:16:3e:aa:bb:cc:", "mac '00:16:3e:aa:bb:cc:': " MAC_SYNTAX)},
    {"mac empty byte",
     E("mac=00::3e:aa:bb:cc", "mac '00::3e:aa:bb:cc': " MAC_SYNTAX)},
    {"mac signed",
     E("mac=-0:16:3e:aa:bb:cc", "mac '-0:16:3e:aa:bb:cc': " MAC_SYNTAX)},
    {"multicast mac",
     E("mac=01:00:5e:00:00:01",
       "mac '01:00:5e:00:00:01': a multicast address, not an interface's "
       "(the first byte must be even)")},
    {"broadcast mac",
     E("mac=ff:ff:ff:ff:ff:ff",
       "mac 'ff:ff:ff:ff:ff:ff': a multicast address, not an interface's "
       "(the first byte must be even)")},
    {"zero mac",
     E("mac=00:00:00:00:00:00",
       "mac '00:00:00:00:00:00': the all-zero address is no interface's")},
    /* interface names */
    {"bridge with blank", E("bridge=xen br0", "bridge=xen br0: " BLANKS)},
    {"bridge of 16 bytes",
     E("bridge=abcdefghijklmnop",
       "bridge=abcdefghijklmnop: interface names have 15 bytes at most")},
    {"bridge with slash",
     E("bridge=a/b", "bridge=a/b: interface names contain no '/' or ':'")},
    {"vifname alias",
     E("vifname=eth0:1",
       "vifname=eth0:1: interface names contain no '/' or ':'")},
    {"vifname ..", E("vifname=..", "vifname=..: not an interface name")},
    {"gatewaydev control",
     E("gatewaydev=eth\x01", "gatewaydev=eth\x01: " BLANKS)},
    {"vifname non-ASCII",
     E("vifname=\xc3\xa9th0", "vifname=\xc3\xa9th0: " BLANKS)},
    /* ip */
    {"ip octet 300", E("ip=300.1.1.1", "ip: '300.1.1.1' is not an IP address")},
    {"ip name", E("ip=gateway.lan", "ip: 'gateway.lan' is not an IP address")},
    {"ip second bad",
     E("ip=10.0.0.1 10.0.0", "ip: '10.0.0' is not an IP address")},
    {"ip prefix 33",
     E("ip=10.0.0.1/33",
       "ip: '10.0.0.1/33': the prefix length goes from 0 to 32")},
    {"ipv6 prefix 129",
     E("ip=::1/129", "ip: '::1/129': the prefix length goes from 0 to 128")},
    {"ip empty prefix",
     E("ip=10.0.0.1/", "ip: '10.0.0.1/': the prefix length goes from 0 to 32")},
    {"ip prefix leading zero",
     E("ip=10.0.0.1/024",
       "ip: '10.0.0.1/024': the prefix length goes from 0 to 32")},
    {"nine addresses", E("ip=1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 "
			 "1.1.1.7 1.1.1.8 1.1.1.9",
			 "ip: 8 addresses at most")},
    {"ip too long to be one",
     E("ip=10.0.0.1000000000000000000000000000000000000000000000000",
       "ip: '10.0.0.100000000000000000000000000000000' is not an IP "
       "address")},
    /* rate */
    {"rate without /s", E("rate=10Mb", "rate '10Mb': " RATE_SYNTAX)},
    {"rate lower-case multiplier",
     E("rate=10mb/s", "rate '10mb/s': " RATE_SYNTAX)},
    {"rate without unit", E("rate=10/s", "rate '10/s': " RATE_SYNTAX)},
    {"rate per minute", E("rate=10MB/m", "rate '10MB/m': " RATE_SYNTAX)},
    {"rate with blank", E("rate=10 MB/s", "rate '10 MB/s': " RATE_SYNTAX)},
    {"rate negative", E("rate=-1MB/s", "rate '-1MB/s': " RATE_SYNTAX)},
    {"rate hex", E("rate=0x10MB/s", "rate '0x10MB/s': " RATE_SYNTAX)},
    {"rate only interval", E("rate=@20ms", "rate '@20ms': " RATE_SYNTAX)},
    {"rate zero",
     E("rate=0MB/s", "rate '0MB/s': a rate of zero would stop all traffic")},
    {"rate under a byte",
     E("rate=7b/s", "rate '7b/s': less than one byte per second")},
    {"rate number too big",
     E("rate=4294967296B/s",
       "rate '4294967296B/s': the number goes up to 4294967295")},
    {"rate interval missing",
     E("rate=10MB/s@",
       "rate '10MB/s@': expected an interval after '@', as in @20ms (s, ms "
       "or us)")},
    {"rate interval unit",
     E("rate=10MB/s@20xs",
       "rate '10MB/s@20xs': unknown interval unit in '20xs' (s, ms or us)")},
    {"rate interval two units",
     E("rate=10MB/s@20mss",
       "rate '10MB/s@20mss': unknown interval unit in '20mss' (s, ms or "
       "us)")},
    {"rate interval zero",
     E("rate=10MB/s@0ms", "rate '10MB/s@0ms': the interval must not be zero")},
    {"rate interval too long",
     E("rate=10MB/s@5000s",
       "rate '10MB/s@5000s': the interval goes up to 4294967295 us")},
    {"rate interval number too big",
     E("rate=10MB/s@99999999999us",
       "rate '10MB/s@99999999999us': the interval goes up to 4294967295 "
       "us")},
    {"rate under a byte per interval",
     E("rate=1B/s@1ms", "rate '1B/s@1ms': less than one byte per interval")},
    {"rate overflowing the interval",
     E("rate=4294967295GB/s@4294967295us",
       "rate '4294967295GB/s@4294967295us': too high for that interval")},
    /* numbers and names */
    {"type unknown",
     E("type=netfront", "type: unknown type 'netfront' (vif or ioemu)")},
    {"mtu too small", E("mtu=67", "mtu: 67 is out of range 68..65535")},
    {"mtu too big", E("mtu=65536", "mtu: 65536 is out of range 68..65535")},
    {"mtu huge", E("mtu=99999999999999999999999",
		   "mtu: 99999999999999999999999 is out of range 68..65535")},
    {"mtu with text",
     E("mtu=1500x", "mtu: expected a decimal number, found '1500x'")},
    {"mtu negative", E("mtu=-1", "mtu: expected a decimal number, found '-1'")},
    {"devid too big",
     E("devid=2147483648", "devid: 2147483648 is out of range 0..2147483647")},
    {"devid hex", E("devid=0x10", "devid: expected a decimal number, found "
				  "'0x10'")},
    {"script with blank", E("script=vif bridge", "script=vif bridge: " BLANKS)},
    {"model with control", E("model=e1000\x7f", "model=e1000\x7f: " BLANKS)},
    {"backend with newline", E("backend=dom\n1", "backend=dom\n1: " BLANKS)},
};

static void test_bad_spec(void **state)
{
	const struct spec_case *c = *state;
	struct vifspec vs;
	char err[512] = "";

	assert_int_equal(vifspec_parse(c->spec, &vs, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, c->expect);
	/* Nothing half-parsed is left for a caller that ignores errors. */
	assert_int_equal(vs.devid, -1);
	assert_false(vs.has_mac);
	assert_int_equal(vs.bridge[0], '\0');
	/* No room for a message is no reason to crash. */
	assert_int_equal(vifspec_parse(c->spec, &vs, NULL, 0), -EINVAL);
	/* A short buffer gets a truncated, terminated message. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(vifspec_parse(c->spec, &vs, err, 8), -EINVAL);
	assert_int_equal(strlen(err),
			 strlen(c->expect) < 7 ? strlen(c->expect) : 7);
}

/* ---- hostile input ---- */

static void test_long_input(void **state)
{
	size_t big = 1 << 20;
	char *spec = malloc(big + 64), want[256], err[256];
	struct vifspec vs;

	(void)state;
	assert_non_null(spec);
	/* A megabyte of commas and blanks is an empty spec. */
	for (size_t i = 0; i < big; i++)
		spec[i] = i % 3 ? ',' : ' ';
	spec[big] = '\0';
	assert_int_equal(vifspec_parse(spec, &vs, err, sizeof(err)), 0);
	assert_int_equal(vs.devid, -1);
	/* A megabyte-long key is quoted in part. */
	memset(spec, 'k', big);
	strcpy(spec + big, "=1");
	assert_int_equal(vifspec_parse(spec, &vs, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "'%.80s...': unknown parameter '%.40s'",
		 spec, spec);
	assert_string_equal(err, want);
	/* Values one byte over each field's size. */
	strcpy(spec, "script=");
	memset(spec + 7, 's', VIFSPEC_NAME_MAX);
	spec[7 + VIFSPEC_NAME_MAX] = '\0';
	assert_int_equal(vifspec_parse(spec, &vs, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "'%.80s...': script longer than 255 bytes",
		 spec);
	assert_string_equal(err, want);
	spec[7 + VIFSPEC_NAME_MAX - 1] = '\0';
	assert_int_equal(vifspec_parse(spec, &vs, err, sizeof(err)), 0);
	assert_int_equal(strlen(vs.script), VIFSPEC_NAME_MAX - 1);
	/* A huge ip= list. */
	strcpy(spec, "ip=");
	for (size_t i = 3; i + 9 < big; i += 9)
		memcpy(spec + i, "10.0.0.1 ", 10);
	assert_int_equal(vifspec_parse(spec, &vs, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ip: 8 addresses at most"));
	free(spec);
}

static void test_every_byte(void **state)
{
	char spec[32], err[256];
	struct vifspec vs;

	(void)state;
	/* No byte in a value crashes the parser or slips through into an
	 * interface name unless it is allowed there. */
	for (int c = 1; c < 256; c++) {
		int r;

		snprintf(spec, sizeof(spec), "bridge=br%c0", c);
		r = vifspec_parse(spec, &vs, err, sizeof(err));
		if (c == ',') {
			/* "br" and a bare "0": an unknown parameter. */
			assert_int_equal(r, -EINVAL);
			continue;
		}
		if (c > ' ' && c < 0x7f && c != '/' && c != ':') {
			assert_int_equal(r, 0);
			assert_int_equal((unsigned char)vs.bridge[2], c);
		} else {
			assert_int_equal(r, -EINVAL);
		}
	}
}

/* ---- rates ---- */

static void test_rate_api(void **state)
{
	uint64_t bps = 77;
	uint32_t us = 77;
	struct vifspec vs;
	char err[256];

	(void)state;
	assert_int_equal(
	    vifspec_parse_rate("1MB/s@20ms", &bps, &us, err, sizeof(err)), 0);
	assert_int_equal(bps, 1000000);
	assert_int_equal(us, 20000);
	/* Untouched on error. */
	bps = 77;
	us = 77;
	assert_int_equal(vifspec_parse_rate("1MB", &bps, &us, NULL, 0),
			 -EINVAL);
	assert_int_equal(bps, 77);
	assert_int_equal(us, 77);
	/* xl-network-configuration(5): 1MB/s@20ms is 20,000 bytes every
	 * 20,000 us. */
	assert_int_equal(
	    vifspec_parse("rate=1MB/s@20ms", &vs, err, sizeof(err)), 0);
	assert_int_equal(vifspec_bytes_per_interval(&vs), 20000);
	assert_int_equal(vifspec_parse("rate=10Mb/s", &vs, err, sizeof(err)),
			 0);
	assert_int_equal(vifspec_bytes_per_interval(&vs), 62500);
	assert_int_equal(vifspec_parse("", &vs, err, sizeof(err)), 0);
	assert_int_equal(vifspec_bytes_per_interval(&vs), 0);
	assert_int_equal(
	    vifspec_parse("rate=4294967295GB/s@4294967295us", &vs, NULL, 0),
	    -EINVAL);
	/* The largest that fits, and one microsecond more. */
	assert_int_equal(
	    vifspec_parse("rate=4294967295GB/s@4us", &vs, err, sizeof(err)), 0);
	assert_int_equal(vifspec_bytes_per_interval(&vs), 17179869180000ULL);
	assert_int_equal(vifspec_parse("rate=4294967295GB/s@5us", &vs, NULL, 0),
			 -EINVAL);
}

/* ---- MAC addresses ---- */

struct mac_case {
	const char *name;
	const char *key;
	uint32_t devid;
	uint8_t attempt;
	const char *mac;
};

/* Worked out independently from the derivation in vifspec.h. */
static const struct mac_case mac_cases[] = {
    {"demo devid 0", "demo", 0, 0, "00:16:3e:36:e4:c0"},
    {"demo devid 1", "demo", 1, 0, "00:16:3e:20:28:2c"},
    {"demo devid 0 attempt 1", "demo", 0, 1, "00:16:3e:26:ca:e7"},
    {"names keep their case", "DEMO", 0, 0, "00:16:3e:76:3b:f2"},
    {"uuid devid 0", "6b1e5c2a-0f3d-4c1e-9a77-3f2b8c9d0e11", 0, 0,
     "00:16:3e:6a:d2:c4"},
    {"uuid devid 2", "6b1e5c2a-0f3d-4c1e-9a77-3f2b8c9d0e11", 2, 0,
     "00:16:3e:15:4e:af"},
    {"empty key", "", 0, 0, "00:16:3e:37:85:1a"},
};

static void test_default_mac(void **state)
{
	const struct mac_case *c = *state;
	uint8_t mac[6];
	char text[18];

	vifspec_default_mac(c->key, c->devid, c->attempt, mac);
	vifspec_format_mac(mac, text);
	assert_string_equal(text, c->mac);
}

static void test_default_mac_spread(void **state)
{
	static uint8_t seen[1 << 20]; /* one bit per value of 23 bits */
	unsigned distinct = 0;
	uint8_t mac[6], again[6];

	(void)state;
	memset(seen, 0, sizeof(seen));
	for (uint32_t devid = 0; devid < 20000; devid++) {
		uint32_t v;

		vifspec_default_mac("guest", devid, 0, mac);
		/* Xen's OUI, unicast, top bit of the fourth byte clear. */
		assert_int_equal(mac[0], 0x00);
		assert_int_equal(mac[1], 0x16);
		assert_int_equal(mac[2], 0x3e);
		assert_int_equal(mac[3] & 0x80, 0);
		vifspec_default_mac("guest", devid, 0, again);
		assert_memory_equal(mac, again, 6);
		v = (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5];
		if (!(seen[v >> 3] & (1 << (v & 7))))
			distinct++;
		seen[v >> 3] |= (uint8_t)(1 << (v & 7));
	}
	/* 20000 draws from 2^23 values: about 24 collisions expected. */
	assert_true(distinct > 19900);
}

static void test_mac_format(void **state)
{
	uint8_t mac[6];
	char text[18];

	(void)state;
	assert_int_equal(vifspec_parse_mac("AA:bb:0C:d:E:f", mac, NULL, 0), 0);
	vifspec_format_mac(mac, text);
	assert_string_equal(text, "aa:bb:0c:0d:0e:0f");
	memset(mac, 0x55, sizeof(mac));
	assert_int_equal(vifspec_parse_mac("", mac, text, sizeof(text)),
			 -EINVAL);
	assert_int_equal(mac[0], 0x55); /* untouched on error */
}

/* ---- a domain's vifs ---- */

struct domain_case {
	const char *name;
	const char *specs[4]; /* NULL-terminated */
	int rc;
	const char *expect; /* each vif's "devid mac", joined by ';', or the
			     * error */
};

static const struct domain_case domain_cases[] = {
    {"two defaults",
     {"", "", NULL},
     0,
     "0 00:16:3e:36:e4:c0;1 00:16:3e:20:28:2c"},
    {"given devid, then the next",
     {"devid=5", "bridge=xenbr1", NULL},
     0,
     "5 00:16:3e:41:9f:ef;6 00:16:3e:10:ee:c5"},
    {"given mac kept",
     {"mac=00:16:3e:aa:bb:cc", "", NULL},
     0,
     "0 00:16:3e:aa:bb:cc;1 00:16:3e:20:28:2c"},
    {"a later vif asks for the generated address",
     {"", "mac=00:16:3e:36:e4:c0", NULL},
     0,
     "0 00:16:3e:26:ca:e7;1 00:16:3e:36:e4:c0"},
    {"no vifs", {NULL}, 0, ""},
    {"same devid",
     {"", "devid=0", NULL},
     -EEXIST,
     "vif 0 and vif 1: both have devid 0"},
    {"same mac",
     {"bridge=xenbr0", "mac=00:16:3e:aa:bb:cc", "mac=00:16:3E:AA:BB:CC", NULL},
     -EEXIST,
     "vif 1 and vif 2: both have MAC address 00:16:3e:aa:bb:cc"},
    {"same vifname",
     {"vifname=web", "vifname=db", "vifname=web", NULL},
     -EEXIST,
     "vif 0 and vif 2: both have vifname web"},
    {"no devid left",
     {"devid=2147483647", "", NULL},
     -ERANGE,
     "vif 1: no devid left after 2147483647"},
};

static void test_domain(void **state)
{
	const struct domain_case *c = *state;
	struct vifspec vifs[4];
	char err[256] = "x", got[256] = "";
	size_t n = 0;

	for (; c->specs[n]; n++)
		assert_int_equal(
		    vifspec_parse(c->specs[n], &vifs[n], err, sizeof(err)), 0);
	assert_int_equal(vifspec_domain(vifs, n, "demo", err, sizeof(err)),
			 c->rc);
	if (c->rc) {
		assert_string_equal(err, c->expect);
		return;
	}
	assert_string_equal(err, "");
	for (size_t i = 0; i < n; i++) {
		char mac[18];

		assert_true(vifs[i].has_mac);
		vifspec_format_mac(vifs[i].mac, mac);
		snprintf(got + strlen(got), sizeof(got) - strlen(got),
			 "%s%lld %s", i ? ";" : "", (long long)vifs[i].devid,
			 mac);
	}
	assert_string_equal(got, c->expect);
}

static void test_conflict_pair(void **state)
{
	struct vifspec a, b;
	char err[128] = "x";

	(void)state;
	/* Unset devids, MACs and vifnames never clash. */
	assert_int_equal(vifspec_parse("bridge=a", &a, NULL, 0), 0);
	assert_int_equal(vifspec_parse("bridge=a", &b, NULL, 0), 0);
	assert_int_equal(vifspec_conflict(&a, &b, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(
	    vifspec_parse("devid=1,mac=00:16:3e:00:00:01", &a, NULL, 0), 0);
	assert_int_equal(
	    vifspec_parse("devid=2,mac=00:16:3e:00:00:01", &b, NULL, 0), 0);
	assert_int_equal(vifspec_conflict(&a, &b, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "both have MAC address 00:16:3e:00:00:01");
	assert_int_equal(vifspec_conflict(&b, &a, NULL, 0), -EEXIST);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(good_cases) + ARRAY_SIZE(bad_cases) +
				ARRAY_SIZE(mac_cases) +
				ARRAY_SIZE(domain_cases) + 8];
	size_t n = 0;

#define ADD(table, fn)                                                         \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                         \
		tests[n++] = (struct CMUnitTest){table[i].name, fn, NULL,      \
						 NULL, (void *)&table[i]};
#define ONE(name, fn)                                                          \
	tests[n++] = (struct CMUnitTest){name, fn, NULL, NULL, NULL};
	ADD(good_cases, test_good_spec)
	ADD(bad_cases, test_bad_spec)
	ADD(mac_cases, test_default_mac)
	ADD(domain_cases, test_domain)
	ONE("long and repeated input", test_long_input)
	ONE("every byte in an interface name", test_every_byte)
	ONE("rate API and bytes per interval", test_rate_api)
	ONE("generated MACs: OUI, unicast, stable, spread",
	    test_default_mac_spread)
	ONE("MAC parse and format", test_mac_format)
	ONE("conflict between two vifs", test_conflict_pair)
#undef ONE
#undef ADD
	return _cmocka_run_group_tests("vifspec", tests, n, NULL, NULL);
}
