/* Unit tests for kxl top's arithmetic and formats: the "stats" reply
 * parser (good lines and broken ones), CPU% between samples, xentop's
 * state letters, device sums, and the exact header and row text xentop -b
 * prints. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xl/dominfo.h"
#include "xl/toprow.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the "stats" reply ---- */

static void test_stats_parse(void **state)
{
	static struct kxl_domstats st;
	const char *line =
	    "ok mem_kb=261120 maxmem_kb=262144 vbds=2 "
	    "vbd0=51712,10,20,3,80,160 vbd1=51728,1,0,0,8,0 vifs=1 "
	    "vif0=0,5,3000,7,9000";

	(void)state;
	assert_int_equal(domstats_parse(line, &st), 0);
	assert_true(st.answered);
	assert_int_equal(st.mem_kb, 261120);
	assert_int_equal(st.maxmem_kb, 262144);
	assert_int_equal(st.nr_vbds, 2);
	assert_int_equal(st.vbd[0].devid, 51712);
	assert_int_equal(st.vbd[0].rd_req, 10);
	assert_int_equal(st.vbd[0].wr_req, 20);
	assert_int_equal(st.vbd[0].oo_req, 3);
	assert_int_equal(st.vbd[0].rd_sect, 80);
	assert_int_equal(st.vbd[0].wr_sect, 160);
	assert_int_equal(st.vbd[1].devid, 51728);
	assert_int_equal(st.nr_vifs, 1);
	assert_int_equal(st.vif[0].tx_packets, 5);
	assert_int_equal(st.vif[0].tx_bytes, 3000);
	assert_int_equal(st.vif[0].rx_packets, 7);
	assert_int_equal(st.vif[0].rx_bytes, 9000);
}

/* 64-bit counters survive the trip. */
static void test_stats_big(void **state)
{
	static struct kxl_domstats st;

	(void)state;
	assert_int_equal(
	    domstats_parse("ok mem_kb=1 maxmem_kb=1 vbds=1 "
			   "vbd0=1,18446744073709551615,0,0,0,0 vifs=0",
			   &st),
	    0);
	assert_true(st.vbd[0].rd_req == UINT64_MAX);
	assert_int_equal(st.nr_vifs, 0);
}

struct bad_case {
	const char *name;
	const char *line;
};

static const struct bad_case bad_cases[] = {
    {"stats: no mem_kb", "ok maxmem_kb=1 vbds=0 vifs=0"},
    {"stats: no vifs", "ok mem_kb=1 maxmem_kb=1 vbds=0"},
    {"stats: negative count", "ok mem_kb=1 maxmem_kb=1 vbds=-1 vifs=0"},
    {"stats: vbd missing", "ok mem_kb=1 maxmem_kb=1 vbds=1 vifs=0"},
    {"stats: vbd short", "ok mem_kb=1 maxmem_kb=1 vbds=1 vbd0=1,2,3 vifs=0"},
    {"stats: vbd long",
     "ok mem_kb=1 maxmem_kb=1 vbds=1 vbd0=1,2,3,4,5,6,7 vifs=0"},
    {"stats: vif not a number",
     "ok mem_kb=1 maxmem_kb=1 vbds=0 vifs=1 vif0=0,1,x,3,4"},
    {"stats: vif negative", "ok mem_kb=1 maxmem_kb=1 vbds=0 vifs=1 "
			    "vif0=0,-1,2,3,4"},
    {"stats: empty field", "ok mem_kb=1 maxmem_kb=1 vbds=0 vifs=1 "
			   "vif0=0,,2,3,4"},
    {"stats: overflow", "ok mem_kb=1 maxmem_kb=1 vbds=1 "
			"vbd0=1,18446744073709551616,0,0,0,0 vifs=0"},
    {"stats: devid too big", "ok mem_kb=1 maxmem_kb=1 vbds=1 "
			     "vbd0=4294967296,0,0,0,0,0 vifs=0"},
};

static void test_stats_bad(void **state)
{
	const struct bad_case *c = *state;
	static struct kxl_domstats st;

	assert_int_equal(domstats_parse(c->line, &st), -EINVAL);
}

/* More devices than kxl keeps: the first DOMSTATS_MAX_DEVS count. */
static void test_stats_many(void **state)
{
	static struct kxl_domstats st;
	char line[4096] = "ok mem_kb=1 maxmem_kb=1 vbds=40";
	size_t at = strlen(line);

	(void)state;
	for (unsigned i = 0; i < 40; i++)
		at += (size_t)snprintf(line + at, sizeof(line) - at,
				       " vbd%u=%u,1,1,0,8,8", i, i);
	snprintf(line + at, sizeof(line) - at, " vifs=0");
	assert_int_equal(domstats_parse(line, &st), 0);
	assert_int_equal(st.nr_vbds, DOMSTATS_MAX_DEVS);
	assert_int_equal(st.vbd[DOMSTATS_MAX_DEVS - 1].devid,
			 DOMSTATS_MAX_DEVS - 1);
}

/* ---- CPU% ---- */

struct pct_case {
	const char *name;
	double prev, now, wall, want;
};

static const struct pct_case pct_cases[] = {
    {"cpu%: half a CPU", 10.0, 10.5, 1.0, 50.0},
    {"cpu%: two busy vCPUs", 100.0, 106.0, 3.0, 200.0},
    {"cpu%: idle", 7.25, 7.25, 2.0, 0.0},
    {"cpu%: first sample (no interval)", 0.0, 42.0, 0.0, 0.0},
    {"cpu%: time went back (fresh counters)", 50.0, 1.0, 1.0, 0.0},
    {"cpu%: short interval", 1.0, 1.01, 0.1, 10.0},
};

static void test_pct(void **state)
{
	const struct pct_case *c = *state;

	assert_float_equal(top_cpu_pct(c->prev, c->now, c->wall), c->want,
			   1e-9);
}

/* ---- state letters ---- */

struct state_case {
	const char *name;
	const char *xl, *want;
};

static const struct state_case state_cases[] = {
    {"state: running", "r-----", "-----r"},
    {"state: blocked", "-b----", "--b---"},
    {"state: running and blocked", "rb----", "--b--r"},
    {"state: paused", "--p---", "----p-"},
    {"state: crashed, kept", "---sc-", "-s-c--"},
    {"state: powered off, kept", "---s--", "-s----"},
    {"state: rebooting (r letter of reason is not 'running')", "---sr-",
     "-s----"},
    {"state: dying", "-----d", "d-----"},
};

static void test_state(void **state)
{
	const struct state_case *c = *state;
	char out[7];

	top_state(c->xl, out);
	assert_string_equal(out, c->want);
}

/* ---- rows ---- */

static void test_header(void **state)
{
	struct top_widths w;
	char line[512];

	(void)state;
	top_widths(NULL, 0, &w);
	top_header(&w, line, sizeof(line));
	/* xentop 4.17's batch header, byte for byte. */
	assert_string_equal(
	    line, "      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  "
		  "MAXMEM(k) MAXMEM(%) VCPUS NETS NETTX(k) NETRX(k) VBDS   "
		  "VBD_OO   VBD_RD   VBD_WR  VBD_RSECT  VBD_WSECT SSID");
}

static void test_row(void **state)
{
	static struct kxl_domstats st;
	struct top_row r = {
	    .name = "web",
	    .state = "--b---",
	    .cpu_s = 12.9,
	    .cpu_pct = 3.25,
	    .mem_kb = 262144,
	    .maxmem_kb = 262144,
	    .vcpus = 2,
	};
	struct top_widths w;
	char line[512];

	(void)state;
	assert_int_equal(
	    domstats_parse("ok mem_kb=262144 maxmem_kb=262144 vbds=2 "
			   "vbd0=51712,100,50,2,800,400 "
			   "vbd1=51728,1,1,1,8,8 vifs=2 "
			   "vif0=0,10,2048,20,4096 vif1=1,1,1023,1,1023",
			   &st),
	    0);
	top_row_devices(&r, &st);
	assert_int_equal(r.nets, 2);
	assert_int_equal(r.net_tx_kb, 2); /* 3071 bytes: whole KiB */
	assert_int_equal(r.net_rx_kb, 4); /* 5119 bytes */
	assert_int_equal(r.vbds, 2);
	assert_int_equal(r.vbd_rd, 101);
	assert_int_equal(r.vbd_wr, 51);
	assert_int_equal(r.vbd_oo, 3);
	assert_int_equal(r.vbd_rsect, 808);
	assert_int_equal(r.vbd_wsect, 408);
	top_widths(&r, 1, &w);
	top_format_row(&r, &w, 1048576, line, sizeof(line));
	assert_string_equal(
	    line, "       web --b---         12    3.2     262144   25.0     "
		  "262144      25.0     2    2        2        4    2        3 "
		  "     101       51        808        408    0");
}

/* Domain-0's row: no memory limit; a long name cut to its column. */
static void test_row_dom0(void **state)
{
	struct top_row r = {
	    .name = "a-very-long-domain-name",
	    .state = "-----r",
	    .cpu_s = 5000.7,
	    .mem_kb = 1024,
	    .vcpus = 4,
	};
	struct top_widths w;
	char line[512];

	(void)state;
	top_widths(&r, 1, &w);
	top_format_row(&r, &w, 4096, line, sizeof(line));
	assert_string_equal(
	    line, "a-very-lon -----r       5000    0.0       1024   25.0   "
		  "no limit       n/a     4    0        0        0    0        "
		  "0        0        0          0          0    0");
}

/* Counters beyond their column widen it, in the header and every row,
 * so the columns stay aligned. */
static void test_widen(void **state)
{
	struct top_row r[2] = {
	    {.name = "small", .state = "------"},
	    {.name = "big",
	     .state = "--b---",
	     .vbd_rsect = 12345678901ull,
	     .net_tx_kb = 123456789},
	};
	struct top_widths w;
	char head[512], l0[512], l1[512];

	(void)state;
	top_widths(r, 2, &w);
	assert_int_equal(w.vbd_rsect, 11);
	assert_int_equal(w.net_tx, 9);
	assert_int_equal(w.vbd_rd, 8);
	top_header(&w, head, sizeof(head));
	top_format_row(&r[0], &w, 1, l0, sizeof(l0));
	top_format_row(&r[1], &w, 1, l1, sizeof(l1));
	assert_int_equal(strlen(head), strlen(l0));
	assert_int_equal(strlen(head), strlen(l1));
	assert_non_null(strstr(head, "  NETTX(k)"));
	assert_non_null(strstr(head, "   VBD_RSECT"));
	assert_non_null(strstr(l1, " 123456789 "));
	assert_non_null(strstr(l1, " 12345678901 "));
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(bad_cases) + ARRAY_SIZE(pct_cases) +
				ARRAY_SIZE(state_cases) + 7];
	size_t n = 0;

#define ADD(table, fn)                                                         \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                         \
		tests[n++] = (struct CMUnitTest){table[i].name, fn, NULL,      \
						 NULL, (void *)&table[i]};
	ADD(bad_cases, test_stats_bad)
	ADD(pct_cases, test_pct)
	ADD(state_cases, test_state)
#undef ADD
#define ONE(name, fn)                                                          \
	tests[n++] = (struct CMUnitTest){name, fn, NULL, NULL, NULL}
	ONE("stats: a full reply", test_stats_parse);
	ONE("stats: 64-bit counters", test_stats_big);
	ONE("stats: more devices than kept", test_stats_many);
	ONE("header: xentop's", test_header);
	ONE("row: a guest with disks and vifs", test_row);
	ONE("row: no limit, long name", test_row_dom0);
	ONE("row: wide counters widen their columns", test_widen);
#undef ONE
	return _cmocka_run_group_tests("toprow", tests, n, NULL, NULL);
}
