/* kxl dump-core: the guest's memory as an ELF core file, as xl dump-core.
 * kxl creates the file with its user's rights and hands the descriptor to
 * the domain process, which writes it (src/domain/dumpcore.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl/dominfo.h"
#include "xl/kxl.h"

/* Writing is bounded by the disk: 10 minutes is a generous limit for a
 * guest's RAM. */
#define DUMP_TIMEOUT_MS (10 * 60 * 1000)

int main_dump_core(int argc, char **argv)
{
	char line[CTL_LINE_MAX];
	struct kxl_dom d;
	int file = -1, sock = -1, ret, rc = EXIT_FAILURE;

	if (argc != 3 || argv[1][0] == '-') {
		fprintf(stderr, "Usage: kxl dump-core <Domain> <filename>\n");
		return argc == 2 && !strcmp(argv[1], "-h") ? EXIT_SUCCESS
							   : EXIT_FAILURE;
	}
	if (reg_find(argv[1], &d) < 0) {
		fprintf(stderr, "kxl: domain '%s' does not exist\n", argv[1]);
		return EXIT_FAILURE;
	}
	/* 0600: a guest's memory holds its secrets. */
	file = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (file < 0) {
		fprintf(stderr, "kxl: cannot create %s: %s\n", argv[2],
			strerror(errno));
		return EXIT_FAILURE;
	}
	sock = domctl_connect(d.domid);
	ret = sock < 0 ? sock : domctl_send_fd(sock, "dump-core", file);
	if (!ret)
		ret = domctl_recv(sock, line, sizeof(line), DUMP_TIMEOUT_MS);
	if (ret < 0)
		fprintf(stderr, "kxl: cannot dump the core of domain %u: %s\n",
			d.domid,
			ret == -ENOENT ? "its control channel is gone"
				       : strerror(-ret));
	else if (ret > 0)
		fprintf(stderr, "kxl: cannot dump the core of domain %u: %s\n",
			d.domid, domctl_error_text(line));
	else
		rc = EXIT_SUCCESS;
	if (rc != EXIT_SUCCESS)
		unlink(argv[2]);
	if (sock >= 0)
		close(sock);
	close(file);
	return rc;
}
