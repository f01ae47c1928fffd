/* kxl's use of xenstore beyond devices: opening it, and cleaning up after
 * a domain process that died without doing it itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "xl/kxl.h"

struct xs_handle *kxl_xs_open(void)
{
	struct xs_handle *h = xs_open(0);

	if (!h) {
		const char *p = getenv("XENSTORED_PATH");

		fprintf(stderr,
			"kxl: cannot reach xenstore at %s: %s (is kxend "
			"running?)\n",
			p && *p ? p : "/var/run/xenstored/socket",
			strerror(errno));
	}
	return h;
}

void kxl_store_cleanup(uint32_t domid, const char *uuid)
{
	struct xs_handle *h = xs_open(0);
	char path[96];

	if (!h)
		return; /* no store: nothing was written there */
	/* What the domain process removes on a normal exit: its tree, its
	 * devices' backend directories, its /vm entry; then kxend forgets
	 * the domain (its ring and watches). */
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(h, XBT_NULL, path);
	snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u", domid);
	xs_rm(h, XBT_NULL, path);
	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", domid);
	xs_rm(h, XBT_NULL, path);
	if (uuid && *uuid) {
		snprintf(path, sizeof(path), "/vm/%s", uuid);
		xs_rm(h, XBT_NULL, path);
	}
	xs_release_domain(h, domid);
	xs_close(h);
}
