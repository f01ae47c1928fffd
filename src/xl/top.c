/* kxl top: xentop for kxen.  Every interval, the domains' state and CPU
 * time (dominfo_get, as kxl list) and their memory and device counters
 * (the control channel's "stats", domstats_get) become one row each in
 * xentop's columns (toprow.h); Domain-0 is the host.  Drawn with ncurses,
 * or printed as a table per interval with -b, as xentop -b does. */
#include <errno.h>
#include <getopt.h>
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/version.h"
#include "xl/dominfo.h"
#include "xl/kxl.h"
#include "xl/toprow.h"

#define TOP_MAX 256
#define TOP_TIMEOUT_MS 1000 /* a domain process busy rebuilding */

/* The previous sample of a domain's CPU time, for CPU(%). */
struct top_prev {
	uint32_t domid;
	pid_t pid;
	double cpu_s;
};

struct top_state {
	struct top_row rows[TOP_MAX + 1]; /* Domain-0 first */
	unsigned nr_rows;
	struct top_prev prev[TOP_MAX + 1], cur[TOP_MAX + 1];
	unsigned nr_prev, nr_cur;
	double prev_wall; /* monotonic seconds of the previous sample; 0 */
	uint64_t host_kb;
	/* Totals for the interactive summary. */
	unsigned running, blocked, paused, crashed, dying, shutdown;
};

static double top_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU(%) of (domid, pid) now at cpu_s seconds, and the sample kept. */
static double top_sample(struct top_state *t, uint32_t domid, pid_t pid,
			 double cpu_s, double wall)
{
	double pct = 0;

	for (unsigned i = 0; i < t->nr_prev; i++)
		if (t->prev[i].domid == domid && t->prev[i].pid == pid)
			pct = top_cpu_pct(t->prev[i].cpu_s, cpu_s, wall);
	if (t->nr_cur < TOP_MAX + 1)
		t->cur[t->nr_cur++] = (struct top_prev){domid, pid, cpu_s};
	return pct;
}

/* The summary counts each domain once, by its first state of: running,
 * blocked, paused, shut down, crashed, dying (as xentop). */
static void top_count(struct top_state *t, const char *s)
{
	if (s[5] == 'r')
		t->running++;
	else if (s[2] == 'b')
		t->blocked++;
	else if (s[4] == 'p')
		t->paused++;
	else if (s[1] == 's')
		t->shutdown++;
	else if (s[3] == 'c')
		t->crashed++;
	else if (s[0] == 'd')
		t->dying++;
}

/* One sample of every domain into t->rows. */
static void top_collect(struct top_state *t)
{
	static struct kxl_dom doms[TOP_MAX];
	static struct kxl_dominfo one;
	static struct kxl_domstats st;
	struct kxl_dominfo *all;
	double now = top_now(),
	       wall = t->prev_wall > 0 ? now - t->prev_wall : 0;
	struct top_row *r = &t->rows[0];
	char xl[7];
	int n = reg_list(doms, TOP_MAX);

	t->nr_cur = 0;
	t->running = t->blocked = t->paused = 0;
	t->crashed = t->dying = t->shutdown = 0;
	t->host_kb = (uint64_t)dom0_memory_mb() * 1024;

	/* Domain-0: the host, as kxl list shows it. */
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "Domain-0");
	strcpy(r->state, "-----r");
	r->cpu_s = dom0_cpu_seconds(-1);
	r->cpu_pct = top_sample(t, 0, 0, r->cpu_s, wall);
	r->mem_kb = t->host_kb;
	r->vcpus = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	top_count(t, r->state);
	t->nr_rows = 1;

	/* Every domain asked at once, as kxl list does (dominfo_get_all). */
	all = dominfo_get_all(doms, n, TOP_TIMEOUT_MS);
	for (int i = 0; i < n; i++) {
		struct kxl_dominfo *info = all ? &all[i] : &one;

		r = &t->rows[t->nr_rows++];
		memset(r, 0, sizeof(*r));
		if (!all)
			dominfo_get(&doms[i], &one, TOP_TIMEOUT_MS);
		domstats_get(&doms[i], &st, TOP_TIMEOUT_MS);
		snprintf(r->name, sizeof(r->name), "%s", doms[i].name);
		dominfo_state(info, xl);
		top_state(xl, r->state);
		r->cpu_s = dominfo_cpu_seconds(info);
		r->cpu_pct =
		    top_sample(t, doms[i].domid, doms[i].pid, r->cpu_s, wall);
		/* Without an answer, what the registry knows. */
		r->maxmem_kb =
		    st.answered ? st.maxmem_kb : doms[i].memory_mb * 1024;
		r->mem_kb = st.answered ? st.mem_kb : r->maxmem_kb;
		r->vcpus = doms[i].vcpus;
		top_row_devices(r, &st);
		top_count(t, r->state);
	}
	free(all);
	memcpy(t->prev, t->cur, sizeof(t->cur[0]) * t->nr_cur);
	t->nr_prev = t->nr_cur;
	t->prev_wall = now;
}

static void top_print(const struct top_state *t, FILE *out)
{
	struct top_widths w;
	char line[512];

	top_widths(t->rows, t->nr_rows, &w);
	top_header(&w, line, sizeof(line));
	fprintf(out, "%s\n", line);
	for (unsigned i = 0; i < t->nr_rows; i++) {
		top_format_row(&t->rows[i], &w, t->host_kb, line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
	fflush(out);
}

static void top_sleep(double secs)
{
	struct timespec ts = {.tv_sec = (time_t)secs,
			      .tv_nsec =
				  (long)((secs - (double)(time_t)secs) * 1e9)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- interactive ---- */

static void top_draw(const struct top_state *t, double delay)
{
	unsigned long long total = 0, avail = 0;
	char line[512], clock[16], key[32];
	time_t now = time(NULL);
	struct top_widths w;
	int rows, cols, y = 0;
	FILE *f;

	getmaxyx(stdscr, rows, cols);
	(void)cols;
	erase();
	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
	mvprintw(y++, 0, "kxl top - %s   Xen %d.%d%s", clock, KXEN_XEN_MAJOR,
		 KXEN_XEN_MINOR, KXEN_EXTRAVERSION);
	mvprintw(y++, 0,
		 "%u domains: %u running, %u blocked, %u paused, %u crashed, "
		 "%u dying, %u shutdown",
		 t->nr_rows, t->running, t->blocked, t->paused, t->crashed,
		 t->dying, t->shutdown);
	f = fopen("/proc/meminfo", "r");
	while (f && fscanf(f, "%31s %llu kB ", key, &avail) == 2)
		if (!strcmp(key, "MemTotal:"))
			total = avail;
		else if (!strcmp(key, "MemAvailable:"))
			break;
	if (f)
		fclose(f);
	if (avail > total)
		avail = total;
	mvprintw(y++, 0,
		 "Mem: %lluk total, %lluk used, %lluk free    CPUs: %ld    "
		 "Delay: %g s",
		 total, total - avail, avail, sysconf(_SC_NPROCESSORS_ONLN),
		 delay);
	y++;
	top_widths(t->rows, t->nr_rows, &w);
	top_header(&w, line, sizeof(line));
	attron(A_REVERSE);
	mvprintw(y++, 0, "%s", line);
	attroff(A_REVERSE);
	for (unsigned i = 0; i < t->nr_rows && y < rows - 1; i++) {
		top_format_row(&t->rows[i], &w, t->host_kb, line, sizeof(line));
		mvprintw(y++, 0, "%s", line);
	}
	move(rows - 1, 2);
	addch(A_REVERSE | 'Q');
	addstr("uit");
	refresh();
}

static int top_interactive(struct top_state *t, double delay, long iterations)
{
	SCREEN *scr;
	long done = 0;

	/* newterm rather than initscr: a terminal that cannot be used is a
	 * message, not an exit from inside ncurses. */
	scr = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO)
		  ? newterm(NULL, stdout, stdin)
		  : NULL;
	if (!scr) {
		fprintf(stderr,
			"kxl top: needs a terminal (TERM=%s); use -b "
			"for batch output\n",
			getenv("TERM") ? getenv("TERM") : "");
		return EXIT_FAILURE;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	for (;;) {
		int ch;

		top_collect(t);
		top_draw(t, delay);
		if (iterations && ++done >= iterations)
			break;
		/* Wait for a key or the delay; a resize redraws at once. */
		timeout((int)(delay * 1000));
		ch = getch();
		if (ch == 'q' || ch == 'Q' || ch == 27) /* 27: Escape */
			break;
	}
	endwin();
	delscreen(scr);
	return EXIT_SUCCESS;
}

/* ---- the command ---- */

static void top_usage(FILE *f)
{
	fprintf(f, "Usage: kxl top [-b] [-d SECONDS] [-i ITERATIONS] [-h]\n"
		   "  -b  batch mode: print the table every interval, no "
		   "curses\n"
		   "  -d  seconds between refreshes (default 3)\n"
		   "  -i  number of refreshes before exiting (default: until "
		   "q, or for ever with -b)\n");
}

int main_top(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"batch", 0, NULL, 'b'},	  {"delay", 1, NULL, 'd'},
	    {"iterations", 1, NULL, 'i'}, {"help", 0, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct top_state t;
	double delay = 3;
	long iterations = 0;
	bool batch = false;
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "bd:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			batch = true;
			break;
		case 'd':
			delay = strtod(optarg, &end);
			if (*end || end == optarg || !(delay > 0) ||
			    delay > 86400) {
				fprintf(stderr, "kxl top: bad delay '%s'\n",
					optarg);
				return EXIT_FAILURE;
			}
			break;
		case 'i':
			iterations = strtol(optarg, &end, 10);
			if (*end || end == optarg || iterations < 1) {
				fprintf(stderr,
					"kxl top: bad iteration count '%s'\n",
					optarg);
				return EXIT_FAILURE;
			}
			break;
		case 'h':
			top_usage(stdout);
			return EXIT_SUCCESS;
		default:
			top_usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind < argc) {
		top_usage(stderr);
		return EXIT_FAILURE;
	}
	if (!batch)
		return top_interactive(&t, delay, iterations);
	for (long i = 0; !iterations || i < iterations; i++) {
		if (i)
			top_sleep(delay);
		top_collect(&t);
		top_print(&t, stdout);
	}
	return EXIT_SUCCESS;
}
