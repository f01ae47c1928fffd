/* Client side of kxend's host socket, for kxen's own host programs: where
 * the socket is, and the INTRODUCE-with-file-descriptors handshake that
 * connects a guest's store ring (used by kxen-domain and the tests).
 * Ordinary requests are better made with libxenstore (xs_open()).
 *
 * The introduction protocol
 * -------------------------
 * A privileged socket client sends one XS_INTRODUCE message, payload
 * "<domid>\0<gfn>\0<port>\0", in a single sendmsg() carrying SCM_RIGHTS
 * with exactly three descriptors:
 *   [0] a memfd holding the guest's RAM; the ring page (struct
 *       xenstore_domain_interface) is at file offset gfn * 4096;
 *   [1] the "kick" eventfd: readable when the guest notified the store
 *       (kxend reads it to clear it);
 *   [2] the "notify" eventfd: kxend writes 1 to it to raise the guest's
 *       store event channel.
 * kxend maps only that page, serves the guest as domain <domid>, and
 * answers "OK" (or an error: EINVAL for a bad payload or missing or bad
 * descriptors).  The descriptors are kxend's copies; the sender keeps and
 * later closes its own.  <port> is informational (the guest's event
 * channel number); it must not be 0.
 *
 * Restart contract: kxend persists the tree, permissions and each guest's
 * watches.  If kxend dies, the socket the domain process introduced on is
 * closed: the domain process reconnects (retrying until the new kxend
 * listens) and sends the same INTRODUCE again.  kxend then adopts the ring
 * as it finds it (no index is reset), gives the guest its watches back and
 * fires each of them once, so the guest re-reads what may have changed.
 * Requests the guest writes while no kxend runs are answered after the
 * restart; transactions open at the time are gone (ENOENT on their next
 * use).  Not covered (xenstored has the same window): a request kxend had
 * taken but not yet answered when it was killed is lost, and a kill in the
 * middle of a message leaves the guest's byte stream cut.
 *
 * RELEASE <domid> ends the domain's life in the store: its connection,
 * watches and transactions go, nodes it owns (and its entries in other
 * nodes' permissions) are removed and @releaseDomain fires. */
#ifndef KXEN_XENSTORE_CLIENT_H
#define KXEN_XENSTORE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* The socket path libxenstore uses: $XENSTORED_PATH, else
 * $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket.  Copies it into
 * buf; -ENAMETOOLONG when it does not fit. */
int xs_client_default_path(char *buf, size_t len);

/* Connects to the socket at path (NULL: the default).  fd or -errno. */
int xs_client_connect(const char *path);

/* Sends INTRODUCE with the three descriptors on connected socket fd and
 * waits for the reply (watch events arriving meanwhile are skipped).
 * 0 or -errno (the reply's error, or a socket error; -EPROTO for a
 * malformed reply). */
int xs_client_introduce(int fd, uint32_t domid, uint64_t gfn, uint32_t port,
			int memfd, int kickfd, int notifyfd);

/* Sends RELEASE <domid> and waits for the reply.  0 or -errno. */
int xs_client_release(int fd, uint32_t domid);

#endif
