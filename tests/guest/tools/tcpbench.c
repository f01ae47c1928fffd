/* tcpbench: one TCP stream for bench/net.sh, the same static binary in the
 * guest and in the test host (busybox has no iperf).
 *   tcpbench listen PORT send|recv [SECS]
 *   tcpbench connect HOST PORT send|recv [SECS]
 * One connection: the sending side writes 128 KiB blocks for SECS seconds
 * (default 5) and closes; the receiving side reads to EOF and prints
 *   TCPBENCH bytes=N ms=M MBps=R
 * timed from its first byte to EOF.  connect retries for 60 s. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: tcpbench listen PORT send|recv [SECS]\n"
			"       tcpbench connect HOST PORT send|recv [SECS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static char buf[128 * 1024];
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd, one = 1, a;
	const char *mode;
	double secs = 5, t0 = 0, t1;
	unsigned long long total = 0;

	if (argc >= 4 && !strcmp(argv[1], "listen")) {
		a = 3;
		sa.sin_port = htons((unsigned short)atoi(argv[2]));
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (argc >= 5 && !strcmp(argv[1], "connect")) {
		a = 4;
		sa.sin_port = htons((unsigned short)atoi(argv[3]));
		if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1)
			return usage();
	} else {
		return usage();
	}
	mode = argv[a];
	if (argc > a + 1)
		secs = atof(argv[a + 1]);
	if (strcmp(mode, "send") && strcmp(mode, "recv"))
		return usage();
	if (a == 3) {
		int l = socket(AF_INET, SOCK_STREAM, 0);

		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(l, 1)) {
			perror("tcpbench: listen");
			return 1;
		}
		fd = accept(l, NULL, NULL);
		close(l);
		if (fd < 0) {
			perror("tcpbench: accept");
			return 1;
		}
	} else {
		double until = now() + 60;

		for (;;) {
			fd = socket(AF_INET, SOCK_STREAM, 0);
			if (fd >= 0 &&
			    !connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
				break;
			if (fd >= 0)
				close(fd);
			if (now() > until) {
				perror("tcpbench: connect");
				return 1;
			}
			usleep(100000);
		}
	}
	if (!strcmp(mode, "send")) {
		double end = now() + secs;

		memset(buf, 0x5a, sizeof(buf));
		while (now() < end) {
			ssize_t n = write(fd, buf, sizeof(buf));

			if (n <= 0) {
				perror("tcpbench: write");
				return 1;
			}
		}
		close(fd);
		return 0;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0) {
			perror("tcpbench: read");
			return 1;
		}
		if (n == 0)
			break;
		if (!total)
			t0 = now();
		total += (unsigned long long)n;
	}
	t1 = now();
	close(fd);
	printf("TCPBENCH bytes=%llu ms=%.0f MBps=%.1f\n", total,
	       (t1 - t0) * 1000, t1 > t0 ? (double)total / (t1 - t0) / 1e6 : 0);
	return 0;
}
