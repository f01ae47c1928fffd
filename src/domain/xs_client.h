/* The domain process's connection to kxend, the xenstore daemon.
 *
 * At build time the domain process plays xl's part for its own domain: it
 * sets up the guest's store ring page and event channel, introduces the
 * guest to kxend (XS_INTRODUCE with the guest-RAM memfd and two eventfds
 * over SCM_RIGHTS; kxend maps only the ring page), and writes the domain's
 * tree (/local/domain/<id>, /vm/<uuid>) as libxl does.  At teardown it
 * removes the tree and releases the domain.  If kxend restarts, the
 * connection drops; xs_client_poll() reconnects and introduces the guest
 * again, so the running guest keeps its store.
 *
 * kxend is found at $XENSTORED_PATH, else libxenstore's default socket.
 * With no kxend the domain runs without a store (a warning says so). */
#ifndef KXEN_DOMAIN_XS_CLIENT_H
#define KXEN_DOMAIN_XS_CLIENT_H

#include <stdint.h>

struct domain;

/* Sets up the ring and, if kxend answers, introduces the domain and writes
 * its tree.  Returns 0 (also when running without a store) or -errno for a
 * failure that must stop the build. */
int xs_client_attach(struct domain *d);
/* Removes the tree, releases the domain, closes the connection. */
void xs_client_detach(struct domain *d);
/* Reconnects after a lost connection when due; returns the monotonic ns of
 * the next retry, or 0 if none is pending. */
uint64_t xs_client_poll(struct domain *d, uint64_t now);

#endif
