/* kxl top's rows (see toprow.h).  Pure. */
#include "xl/toprow.h"

#include <stdio.h>
#include <string.h>

#include "xl/dominfo.h"

void top_state(const char xl[7], char out[7])
{
	out[0] = xl[5] == 'd' ? 'd' : '-';
	out[1] = xl[3] == 's' ? 's' : '-';
	out[2] = xl[1] == 'b' ? 'b' : '-';
	out[3] = xl[4] == 'c' ? 'c' : '-'; /* the shutdown reason's letter */
	out[4] = xl[2] == 'p' ? 'p' : '-';
	out[5] = xl[0] == 'r' ? 'r' : '-';
	out[6] = '\0';
}

double top_cpu_pct(double cpu_prev, double cpu_now, double wall)
{
	if (wall <= 0 || cpu_now < cpu_prev)
		return 0;
	return 100.0 * (cpu_now - cpu_prev) / wall;
}

void top_row_devices(struct top_row *row, const struct kxl_domstats *st)
{
	uint64_t tx = 0, rx = 0;

	row->nets = st->nr_vifs;
	for (unsigned i = 0; i < st->nr_vifs; i++) {
		tx += st->vif[i].tx_bytes;
		rx += st->vif[i].rx_bytes;
	}
	row->net_tx_kb = tx / 1024;
	row->net_rx_kb = rx / 1024;
	row->vbds = st->nr_vbds;
	row->vbd_oo = row->vbd_rd = row->vbd_wr = 0;
	row->vbd_rsect = row->vbd_wsect = 0;
	for (unsigned i = 0; i < st->nr_vbds; i++) {
		row->vbd_oo += st->vbd[i].oo_req;
		row->vbd_rd += st->vbd[i].rd_req;
		row->vbd_wr += st->vbd[i].wr_req;
		row->vbd_rsect += st->vbd[i].rd_sect;
		row->vbd_wsect += st->vbd[i].wr_sect;
	}
}

static int top_digits(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static void top_widen(int *w, uint64_t v)
{
	if (top_digits(v) > *w)
		*w = top_digits(v);
}

void top_widths(const struct top_row *rows, unsigned n, struct top_widths *w)
{
	*w = (struct top_widths){8, 8, 8, 8, 10, 10};
	for (unsigned i = 0; i < n; i++) {
		top_widen(&w->net_tx, rows[i].net_tx_kb);
		top_widen(&w->net_rx, rows[i].net_rx_kb);
		top_widen(&w->vbd_rd, rows[i].vbd_rd);
		top_widen(&w->vbd_wr, rows[i].vbd_wr);
		top_widen(&w->vbd_rsect, rows[i].vbd_rsect);
		top_widen(&w->vbd_wsect, rows[i].vbd_wsect);
	}
}

void top_header(const struct top_widths *w, char *out, size_t len)
{
	snprintf(out, len,
		 "%10s %6s %10s %6s %10s %6s %10s %9s %5s %4s %*s %*s %4s %8s "
		 "%*s %*s %*s %*s %4s",
		 "NAME", "STATE", "CPU(sec)", "CPU(%)", "MEM(k)", "MEM(%)",
		 "MAXMEM(k)", "MAXMEM(%)", "VCPUS", "NETS", w->net_tx,
		 "NETTX(k)", w->net_rx, "NETRX(k)", "VBDS", "VBD_OO", w->vbd_rd,
		 "VBD_RD", w->vbd_wr, "VBD_WR", w->vbd_rsect, "VBD_RSECT",
		 w->vbd_wsect, "VBD_WSECT", "SSID");
}

static double top_pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

void top_format_row(const struct top_row *r, const struct top_widths *w,
		    uint64_t host_kb, char *out, size_t len)
{
	char maxmem[24], maxpct[24];

	if (r->maxmem_kb) {
		snprintf(maxmem, sizeof(maxmem), "%10llu",
			 (unsigned long long)r->maxmem_kb);
		snprintf(maxpct, sizeof(maxpct), "%9.1f",
			 top_pct(r->maxmem_kb, host_kb));
	} else {
		snprintf(maxmem, sizeof(maxmem), "%10s", "no limit");
		snprintf(maxpct, sizeof(maxpct), "%9s", "n/a");
	}
	/* xentop cuts the name to its column. */
	snprintf(out, len,
		 "%10.10s %6s %10llu %6.1f %10llu %6.1f %s %s %5u %4u %*llu "
		 "%*llu %4u %8llu %*llu %*llu %*llu %*llu %4u",
		 r->name, r->state, (unsigned long long)r->cpu_s, r->cpu_pct,
		 (unsigned long long)r->mem_kb, top_pct(r->mem_kb, host_kb),
		 maxmem, maxpct, r->vcpus, r->nets, w->net_tx,
		 (unsigned long long)r->net_tx_kb, w->net_rx,
		 (unsigned long long)r->net_rx_kb, r->vbds,
		 (unsigned long long)r->vbd_oo, w->vbd_rd,
		 (unsigned long long)r->vbd_rd, w->vbd_wr,
		 (unsigned long long)r->vbd_wr, w->vbd_rsect,
		 (unsigned long long)r->vbd_rsect, w->vbd_wsect,
		 (unsigned long long)r->vbd_wsect, 0u);
}
