/* Unit tests for the toolstack's vif directories (devnodes_vif_add: every
 * key libxl writes, in both directories, with their owners) and for the
 * canonical vif spec kxl hands the domain process (vifspec_format: parsed
 * back into the same device). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xl/devnodes.h"
#include "xl/vifspec.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a recording writer ---- */

struct store {
	char lines[64][256]; /* "path=value" or "perms path owner reader" */
	unsigned n;
	int fail_at; /* the write that fails with -EIO; -1 never */
};

static int rec_write(void *arg, const char *path, const char *value)
{
	struct store *s = arg;

	if ((int)s->n == s->fail_at)
		return -EIO;
	assert_true(s->n < ARRAY_SIZE(s->lines));
	snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s=%s", path, value);
	return 0;
}

static int rec_perms(void *arg, const char *path, uint32_t owner,
		     uint32_t reader)
{
	struct store *s = arg;

	assert_true(s->n < ARRAY_SIZE(s->lines));
	snprintf(s->lines[s->n++], sizeof(s->lines[0]), "perms %s %u %u", path,
		 owner, reader);
	return 0;
}

static bool has(const struct store *s, const char *line)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!strcmp(s->lines[i], line))
			return true;
	return false;
}

static bool has_prefix(const struct store *s, const char *prefix)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!strncmp(s->lines[i], prefix, strlen(prefix)))
			return true;
	return false;
}

static void parse_complete(const char *text, struct vifspec *v)
{
	char err[256];

	assert_int_equal(vifspec_parse(text, v, err, sizeof(err)), 0);
	assert_int_equal(vifspec_domain(v, 1, "demo", err, sizeof(err)), 0);
}

static void test_vif_keys(void **state)
{
	struct store *s = calloc(1, sizeof(*s));
	struct devnodes_writer w = {rec_write, rec_perms, s};
	struct vifspec v;
	const char *be = "/local/domain/0/backend/vif/7/2";
	const char *fe = "/local/domain/7/device/vif/2";
	static const char *const want[] = {
	    "perms /local/domain/0/backend/vif/7/2 0 7",
	    "/local/domain/0/backend/vif/7/2/frontend=/local/domain/7/device/"
	    "vif/2",
	    "/local/domain/0/backend/vif/7/2/frontend-id=7",
	    "/local/domain/0/backend/vif/7/2/online=1",
	    "/local/domain/0/backend/vif/7/2/state=1",
	    "/local/domain/0/backend/vif/7/2/script=vif-bridge",
	    "/local/domain/0/backend/vif/7/2/mac=00:16:3e:01:02:03",
	    "/local/domain/0/backend/vif/7/2/bridge=br1",
	    "/local/domain/0/backend/vif/7/2/ip=10.0.0.2 10.0.0.3",
	    "/local/domain/0/backend/vif/7/2/rate=50000,50000",
	    "/local/domain/0/backend/vif/7/2/handle=2",
	    "/local/domain/0/backend/vif/7/2/type=vif",
	    "/local/domain/0/backend/vif/7/2/vifname=web0",
	    "/local/domain/0/backend/vif/7/2/mtu=9000",
	    "perms /local/domain/7/device/vif/2 7 0",
	    "/local/domain/7/device/vif/2/backend=/local/domain/0/backend/vif/"
	    "7/2",
	    "/local/domain/7/device/vif/2/backend-id=0",
	    "/local/domain/7/device/vif/2/state=1",
	    "/local/domain/7/device/vif/2/handle=2",
	    "/local/domain/7/device/vif/2/mac=00:16:3e:01:02:03",
	};
	char buf[128];

	(void)state;
	s->fail_at = -1;
	parse_complete(
	    "devid=2, mac=00:16:3e:01:02:03, bridge=br1, "
	    "ip=10.0.0.2 10.0.0.3, rate=1MB/s, vifname=web0, mtu=9000",
	    &v);
	assert_int_equal(devnodes_vif_add(&w, 7, &v), 0);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (!has(s, want[i]))
			fail_msg("missing: %s", want[i]);
	devnodes_vif_paths(7, 2, buf, sizeof(buf), buf + 64, 64);
	assert_string_equal(buf, be);
	assert_string_equal(buf + 64, fe);
	free(s);
}

static void test_vif_defaults(void **state)
{
	struct store *s = calloc(1, sizeof(*s));
	struct devnodes_writer w = {rec_write, rec_perms, s};
	struct vifspec v;

	(void)state;
	s->fail_at = -1;
	parse_complete("", &v);
	assert_int_equal(devnodes_vif_add(&w, 3, &v), 0);
	assert_true(has(s, "/local/domain/0/backend/vif/3/0/bridge=xenbr0"));
	assert_true(
	    has(s, "/local/domain/0/backend/vif/3/0/script=vif-bridge"));
	assert_true(has(s, "/local/domain/0/backend/vif/3/0/mtu=1500"));
	assert_true(
	    has(s, "/local/domain/0/backend/vif/3/0/mac=00:16:3e:36:e4:c0"));
	/* Keys that only exist when given. */
	assert_false(has_prefix(s, "/local/domain/0/backend/vif/3/0/ip="));
	assert_false(has_prefix(s, "/local/domain/0/backend/vif/3/0/rate="));
	assert_false(has_prefix(s, "/local/domain/0/backend/vif/3/0/vifname="));
	free(s);
}

static void test_vif_errors(void **state)
{
	struct store *s = calloc(1, sizeof(*s));
	struct devnodes_writer w = {rec_write, rec_perms, s};
	struct vifspec v;
	char err[128];

	(void)state;
	s->fail_at = -1;
	/* Not completed by vifspec_domain: no devid, no MAC. */
	assert_int_equal(vifspec_parse("bridge=br0", &v, err, sizeof(err)), 0);
	assert_int_equal(devnodes_vif_add(&w, 3, &v), -EINVAL);
	assert_int_equal(s->n, 0);
	/* The first failing write is returned and nothing after it made. */
	parse_complete("", &v);
	s->fail_at = 4;
	assert_int_equal(devnodes_vif_add(&w, 3, &v), -EIO);
	assert_int_equal(s->n, 4);
	free(s);
}

/* ---- vifspec_format round trips ---- */

static const struct {
	const char *name;
	const char *spec;
	const char *want; /* what vifspec_format writes */
} fmt_cases[] = {
    {"defaults", "",
     "devid=0, mac=00:16:3e:36:e4:c0, bridge=xenbr0, "
     "script=vif-bridge"},
    {"everything",
     "mac=00:16:3e:0a:0b:0c, bridge=br9, ip=10.1.2.3/24 fe80::1, "
     "script=vif-route, vifname=v0, mtu=1400, devid=5, "
     "rate=10Mb/s@20ms",
     "devid=5, mac=00:16:3e:0a:0b:0c, bridge=br9, script=vif-route, "
     "ip=10.1.2.3/24 fe80::1, rate=1250KB/s@20000us, vifname=v0, mtu=1400"},
    {"rate in G", "rate=5GB/s",
     "devid=0, mac=00:16:3e:36:e4:c0, "
     "bridge=xenbr0, script=vif-bridge, "
     "rate=5GB/s@50000us"},
    {"rate in bytes", "rate=12345B/s@1s",
     "devid=0, mac=00:16:3e:36:e4:c0, bridge=xenbr0, script=vif-bridge, "
     "rate=12345B/s@1000000us"},
    {"rate over 2^32 bytes", "rate=4294967295KB/s@1us",
     "devid=0, mac=00:16:3e:36:e4:c0, bridge=xenbr0, script=vif-bridge, "
     "rate=4294967295KB/s@1us"},
};

static void test_format(void **state)
{
	const typeof(fmt_cases[0]) *c = *state;
	struct vifspec a, b;
	char out[512], err[256];
	int n;

	parse_complete(c->spec, &a);
	n = vifspec_format(&a, out, sizeof(out));
	assert_int_equal(n, (int)strlen(out));
	assert_int_equal(vifspec_format(&a, NULL, 0), n);
	assert_string_equal(out, c->want);
	if (vifspec_parse(out, &b, err, sizeof(err)))
		fail_msg("'%s' does not parse back: %s", out, err);
	assert_int_equal(b.devid, a.devid);
	assert_memory_equal(b.mac, a.mac, 6);
	assert_string_equal(b.vifname, a.vifname);
	assert_int_equal(b.nr_ips, a.nr_ips);
	for (unsigned i = 0; i < a.nr_ips; i++)
		assert_string_equal(b.ips[i], a.ips[i]);
	assert_int_equal(b.mtu, a.mtu);
	assert_true(b.rate_bytes_per_sec == a.rate_bytes_per_sec);
	assert_int_equal(b.rate_interval_us, a.rate_interval_us);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(fmt_cases) + 3];
	size_t n = 0;

	tests[n++] = (struct CMUnitTest){"vif: every key, both directories",
					 test_vif_keys, NULL, NULL, NULL};
	tests[n++] = (struct CMUnitTest){"vif: defaults, optional keys absent",
					 test_vif_defaults, NULL, NULL, NULL};
	tests[n++] = (struct CMUnitTest){"vif: incomplete spec, failing write",
					 test_vif_errors, NULL, NULL, NULL};
	for (size_t i = 0; i < ARRAY_SIZE(fmt_cases); i++)
		tests[n++] =
		    (struct CMUnitTest){fmt_cases[i].name, test_format, NULL,
					NULL, (void *)&fmt_cases[i]};
	return _cmocka_run_group_tests("devnodes", tests, n, NULL, NULL);
}
