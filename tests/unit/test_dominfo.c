/* Unit tests for what kxl learns about a domain and how it prints it: the
 * control channel's line format (escaping, key lookup), /proc stat lines,
 * xl's state letters, uptime and CPU-map formats. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/ctl_wire.h"
#include "xl/dominfo.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the control line format ---- */

struct wire_case {
	const char *name;
	const char *value;
	const char *escaped; /* as it travels */
};

static const struct wire_case wire_cases[] = {
    {"plain word", "web", "web"},
    {"empty", "", ""},
    {"spaces", "console=hvc0 quiet", "console=hvc0%20quiet"},
    {"percent", "100%", "100%25"},
    {"newline and tab", "a\nb\tc", "a%0Ab%09c"},
    {"equals kept", "a=b", "a=b"},
    {"high bytes", "caf\xc3\xa9", "caf%C3%A9"},
    {"path", "/dev/pts/3", "/dev/pts/3"},
};

static void test_wire(void **state)
{
	const struct wire_case *c = *state;
	char line[256] = "ok", want[256], out[64];

	assert_int_equal(ctl_put(line, sizeof(line), "k", c->value), 0);
	assert_int_equal(ctl_put(line, sizeof(line), "next", "x"), 0);
	snprintf(want, sizeof(want), "ok k=%s next=x", c->escaped);
	assert_string_equal(line, want);
	assert_int_equal(ctl_get(line, "k", out, sizeof(out)), 0);
	assert_string_equal(out, c->value);
	assert_int_equal(ctl_get(line, "next", out, sizeof(out)), 0);
	assert_string_equal(out, "x");
}

static void test_wire_errors(void **state)
{
	char line[32] = "ok", out[8];
	long long n;

	(void)state;
	/* Too long: refused, the line unchanged. */
	assert_int_equal(ctl_put(line, sizeof(line), "key",
				 "a value far too long for the line"),
			 -ENOSPC);
	assert_string_equal(line, "ok");
	assert_int_equal(ctl_put_num(line, sizeof(line), "n", -12), 0);
	assert_int_equal(ctl_get_num(line, "n", &n), 0);
	assert_int_equal(n, -12);
	/* Keys match whole words only: "n" is not "nn", "ok" not a key. */
	assert_int_equal(ctl_get("ok nn=1", "n", out, sizeof(out)), -ENOENT);
	assert_int_equal(ctl_get("ok=1 x=2", "ok", out, sizeof(out)), -ENOENT);
	/* A value too long for out: truncated and said so. */
	assert_int_equal(ctl_get("ok k=123456789", "k", out, sizeof(out)),
			 -ENOSPC);
	assert_string_equal(out, "1234567");
	assert_int_equal(ctl_get("ok k=a%2", "k", out, sizeof(out)), -EINVAL);
	assert_int_equal(ctl_get("ok k=a%zz", "k", out, sizeof(out)), -EINVAL);
	assert_int_equal(ctl_get_num("ok n=12x", "n", &n), -EINVAL);
	assert_int_equal(ctl_get_num("ok n=", "n", &n), -EINVAL);
	assert_int_equal(ctl_get_num("ok", "n", &n), -ENOENT);
}

static void test_paths(void **state)
{
	char path[128];

	(void)state;
	setenv("KXEN_RUN_DIR", "/tmp/kx", 1);
	assert_int_equal(ctl_path(7, "sock", path, sizeof(path)), 0);
	assert_string_equal(path, "/tmp/kx/domain-7.sock");
	unsetenv("KXEN_RUN_DIR");
	assert_int_equal(ctl_path(32752, "dying", path, sizeof(path)), 0);
	assert_string_equal(path, "/run/kxen/domain-32752.dying");
	/* A socket path must fit sockaddr_un. */
	setenv("KXEN_RUN_DIR",
	       "/a/run/directory/whose/name/is/far/too/long/for/a/unix/socket/"
	       "address/to/hold/it/and/more/and/more/still",
	       1);
	assert_int_equal(ctl_path(1, "sock", path, sizeof(path)),
			 -ENAMETOOLONG);
	unsetenv("KXEN_RUN_DIR");
}

/* ---- /proc stat lines ---- */

struct stat_case {
	const char *name;
	const char *line;
	int ret;
	pid_t tid;
	const char *comm;
	char state;
	uint64_t ticks;
	int cpu;
};

/* Fields 1-39 as Linux 6.1 writes them (utime 14 = 250, stime 15 = 31,
 * processor 39 = 1), and the odd ones. */
#define STAT_TAIL                                                              \
	" 1 140 140 0 -1 4194368 0 0 0 0 250 31 0 0 20 0 4 0 1830 "            \
	"312918016 1601 18446744073709551615 1 1 0 0 0 0 2 0 0 0 0 0 17 1 0 "  \
	"0 0 0 0 0 0 0 0 0 0"

static const struct stat_case stat_cases[] = {
    {"vCPU thread running", "142 (vcpu0) R" STAT_TAIL, 0, 142, "vcpu0", 'R',
     281, 1},
    {"vCPU thread sleeping", "143 (vcpu1) S" STAT_TAIL, 0, 143, "vcpu1", 'S',
     281, 1},
    {"comm with spaces and parens", "9 (a (b) c) D" STAT_TAIL, 0, 9, "a (b) c",
     'D', 281, 1},
    {"comm cut at 15", "9 (kxen-domain-long) S" STAT_TAIL, 0, 9,
     "kxen-domain-lon", 'S', 281, 1},
    {"short line: no processor", "9 (x) S 1 2 3 4 5 6 7 8 9 10 11 5 6", 0, 9,
     "x", 'S', 16, -1},
    {"too short", "9 (x) S 1 2 3", -EINVAL, 0, "", 0, 0, -1},
    {"no comm", "9 x S 1 2 3 4 5 6 7 8 9 10 11 5 6", -EINVAL, 0, "", 0, 0, -1},
    {"empty", "", -EINVAL, 0, "", 0, 0, -1},
};

static void test_stat(void **state)
{
	const struct stat_case *c = *state;
	struct proc_task t;

	assert_int_equal(procstat_parse(c->line, &t), c->ret);
	if (c->ret)
		return;
	assert_int_equal(t.tid, c->tid);
	assert_string_equal(t.comm, c->comm);
	assert_int_equal(t.state, c->state);
	assert_int_equal(t.ticks, c->ticks);
	assert_int_equal(t.cpu, c->cpu);
}

/* ---- xl's state letters ---- */

struct state_case {
	const char *name;
	const char *threads; /* one state letter per vCPU thread, '.' none */
	unsigned paused;
	int shutdown;
	bool dying;
	const char *want;
};

static const struct state_case state_cases[] = {
    {"one running, one blocked", "RS", 0, -1, false, "rb----"},
    {"all blocked", "SS", 0, -1, false, "-b----"},
    {"running", "R", 0, -1, false, "r-----"},
    {"uninterruptible counts as blocked", "D", 0, -1, false, "-b----"},
    {"paused hides r and b", "RS", 1, -1, false, "--p---"},
    {"paused twice", "S", 2, -1, false, "--p---"},
    {"powered off, preserved", "..", 0, 0, false, "---s--"},
    {"crashed, preserved", "..", 0, 3, false, "---sc-"},
    {"rebooting", "..", 0, 1, false, "---sr-"},
    {"watchdog", "..", 0, 4, false, "---sw-"},
    {"unknown reason", "..", 0, 9, false, "---s?-"},
    {"dying", "SS", 0, -1, true, "-----d"},
    {"no threads yet", "", 0, -1, false, "------"},
    {"stopped thread is neither", "T", 0, -1, false, "------"},
};

static void test_state(void **state)
{
	const struct state_case *c = *state;
	static struct kxl_dominfo info;
	char out[7];

	memset(&info, 0, sizeof(info));
	info.paused = c->paused;
	info.shutdown = c->shutdown;
	info.dying = c->dying;
	info.nr_vcpus = (unsigned)strlen(c->threads);
	for (unsigned i = 0; i < info.nr_vcpus; i++) {
		if (c->threads[i] == '.')
			continue;
		info.vcpu[i].tid = (pid_t)(100 + i);
		info.vcpu[i].state = c->threads[i];
	}
	dominfo_state(&info, out);
	assert_string_equal(out, c->want);
}

static void test_cpu_seconds(void **state)
{
	static struct kxl_dominfo info;
	long hz = sysconf(_SC_CLK_TCK);

	(void)state;
	memset(&info, 0, sizeof(info));
	info.nr_vcpus = 2;
	info.vcpu[0].tid = 1;
	info.vcpu[0].ticks = (uint64_t)hz * 3;
	info.vcpu[1].tid = 2;
	info.vcpu[1].ticks = (uint64_t)hz / 2;
	info.cpu_exited_ns = 1500000000ull;
	assert_true(dominfo_cpu_seconds(&info) > 4.999 &&
		    dominfo_cpu_seconds(&info) < 5.001);
	assert_true(dominfo_vcpu_seconds(&info, 1) > 0.499 &&
		    dominfo_vcpu_seconds(&info, 1) < 0.501);
}

/* ---- uptime and CPU maps ---- */

struct uptime_case {
	const char *name;
	unsigned long secs;
	const char *full, *brief;
};

static const struct uptime_case uptime_cases[] = {
    {"zero", 0, " 0:00:00", " 0:00"},
    {"minutes", 125, " 0:02:05", " 0:02"},
    {"hours", 36000 + 61, "10:01:01", "10:01"},
    {"one day", 86400 + 3600, "1 day,  1:00:00", "1 day,  1:00"},
    {"days", 3 * 86400 + 59, "3 days,  0:00:59", "3 days,  0:00"},
};

static void test_uptime(void **state)
{
	const struct uptime_case *c = *state;
	char out[64];

	uptime_format(c->secs, false, out, sizeof(out));
	assert_string_equal(out, c->full);
	uptime_format(c->secs, true, out, sizeof(out));
	assert_string_equal(out, c->brief);
}

struct cpumap_case {
	const char *name;
	const char *cpus; /* '1' per CPU in the set */
	const char *want;
};

static const struct cpumap_case cpumap_cases[] = {
    {"every CPU", "1111", "all"},
    {"none", "0000", "none"},
    {"one", "0100", "1"},
    {"a range", "11100000", "0-2"},
    {"ranges and singles", "1101110001", "0-1,3-5,9"},
    {"last CPU", "0001", "3"},
};

static void test_cpumap(void **state)
{
	const struct cpumap_case *c = *state;
	cpu_set_t set;
	char out[64];

	CPU_ZERO(&set);
	for (unsigned i = 0; c->cpus[i]; i++)
		if (c->cpus[i] == '1')
			CPU_SET(i, &set);
	cpumap_format(&set, (unsigned)strlen(c->cpus), out, sizeof(out));
	assert_string_equal(out, c->want);
}

int main(void)
{
	struct CMUnitTest
	    tests[ARRAY_SIZE(wire_cases) + ARRAY_SIZE(stat_cases) +
		  ARRAY_SIZE(state_cases) + ARRAY_SIZE(uptime_cases) +
		  ARRAY_SIZE(cpumap_cases) + 3];
	size_t n = 0;

#define ADD(table, fn)                                                         \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                         \
		tests[n++] = (struct CMUnitTest){table[i].name, fn, NULL,      \
						 NULL, (void *)&table[i]};
	ADD(wire_cases, test_wire)
	ADD(stat_cases, test_stat)
	ADD(state_cases, test_state)
	ADD(uptime_cases, test_uptime)
	ADD(cpumap_cases, test_cpumap)
#undef ADD
	tests[n++] = (struct CMUnitTest){"wire errors", test_wire_errors, NULL,
					 NULL, NULL};
	tests[n++] =
	    (struct CMUnitTest){"socket paths", test_paths, NULL, NULL, NULL};
	tests[n++] = (struct CMUnitTest){"CPU seconds", test_cpu_seconds, NULL,
					 NULL, NULL};
	return _cmocka_run_group_tests("dominfo", tests, n, NULL, NULL);
}
