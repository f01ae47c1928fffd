/* kxl top's table: one row per domain in xentop's columns, and the
 * arithmetic behind them.  Pure (tests/unit/test_toprow.c); src/xl/top.c
 * gathers the figures and draws.
 *
 * The columns, as xentop prints them (xentop -b's header, one line,
 * fields right-aligned to these widths, one space apart; cut in two here):
 *
 *       NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k)
 *   MAXMEM(%) VCPUS NETS NETTX(k) NETRX(k) VBDS   VBD_OO   VBD_RD
 *     VBD_WR  VBD_RSECT  VBD_WSECT SSID
 *
 * STATE is xentop's six letters "dsbcpr" (dying, shutdown, blocked,
 * crashed, paused, running), each '-' when not so.  CPU(%) is the CPU time
 * the domain used between two refreshes over the wall-clock time between
 * them (above 100 with several vCPUs busy); NETTX/NETRX are KiB the guest
 * sent/received over all its vifs; VBD_* are sums over its disks (requests,
 * and 512-byte sectors).  SSID is always 0 (no XSM/FLASK).  As xentop
 * does, the counter columns (NETTX to VBD_WSECT) widen to the largest
 * number of the table, so that the columns stay aligned. */
#ifndef KXEN_XL_TOPROW_H
#define KXEN_XL_TOPROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kxl_domstats;

struct top_row {
	char name[64];
	char state[7];	    /* "dsbcpr" letters */
	double cpu_s;	    /* CPU seconds used so far */
	double cpu_pct;	    /* over the last interval; 0 on the first */
	uint64_t mem_kb;    /* MEM(k) */
	uint64_t maxmem_kb; /* MAXMEM(k); 0 prints "no limit" */
	unsigned vcpus;
	unsigned nets;
	uint64_t net_tx_kb, net_rx_kb;
	unsigned vbds;
	uint64_t vbd_oo, vbd_rd, vbd_wr, vbd_rsect, vbd_wsect;
};

/* xentop's STATE from xl's "rbpscd" letters (dominfo_state): out[7]. */
void top_state(const char xl[7], char out[7]);

/* CPU% between two samples: 100 * (cpu_now - cpu_prev) / wall seconds.
 * 0 when the interval is not positive or the CPU time went back (the
 * domain rebooted into a fresh process's counters). */
double top_cpu_pct(double cpu_prev, double cpu_now, double wall);

/* Fills the device columns of row from st (sums over its devices). */
void top_row_devices(struct top_row *row, const struct kxl_domstats *st);

/* Widths of the columns that widen. */
struct top_widths {
	int net_tx, net_rx, vbd_rd, vbd_wr, vbd_rsect, vbd_wsect;
};

/* xentop's widths (8, 8, 8, 8, 10, 10), widened where a row's numbers
 * need more. */
void top_widths(const struct top_row *rows, unsigned n, struct top_widths *w);

/* The header line and one row, in xentop's format (no newline), into
 * out.  host_kb: the host's RAM, for MEM(%) and MAXMEM(%). */
void top_header(const struct top_widths *w, char *out, size_t len);
void top_format_row(const struct top_row *row, const struct top_widths *w,
		    uint64_t host_kb, char *out, size_t len);

#endif
