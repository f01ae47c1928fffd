#!/usr/bin/env python3
"""Host half of tests/guest/test_net_hostile.sh: frames on a vif's TAP.

  nethost.py capture IFACE OUT SECONDS   every frame seen on IFACE, one line each:
                                         "<pkttype> <hex>" (4: sent to the guest), for at
                                         most SECONDS; OUT.ready appears once listening
  nethost.py inject IFACE MAC K LEN      sends frame K of LEN bytes to the guest (MAC)
  nethost.py check OUT MAC K:LEN...      the guest's good frames K (LEN bytes, from MAC)
                                         must each be in OUT, byte for byte; no frame may
                                         hold "NETH-BAD" or the sentinel "NETH-SENTINEL"

Frames follow tests/guest/tools/nethostile.c's rule: destination, source, type 0x88B5,
a 16-byte tag padded with '.', then byte i = (i * 31 + k * 7) & 0xFF.
"""
import os
import socket
import sys
import time

ETH_P_ALL = 3
PACKET_OUTGOING = 4
BCAST = b"\xff" * 6
INJECT_SRC = b"\xfe\xff\xff\xff\xff\xff"


def frame(dst, src, tag, k, n):
    head = dst + src + b"\x88\xb5" + tag.encode().ljust(16, b".")[:16]
    return bytes(head[i] if i < 30 else (i * 31 + k * 7) & 0xFF for i in range(n))


def mac_bytes(s):
    return bytes(int(x, 16) for x in s.split(":"))


def capture(iface, out, seconds):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, ETH_P_ALL))
    s.settimeout(0.5)
    end = time.monotonic() + seconds
    with open(out, "w") as f:
        open(out + ".ready", "w").close()
        while time.monotonic() < end:
            try:
                data, addr = s.recvfrom(70000)
            except socket.timeout:
                continue
            f.write("%d %s\n" % (addr[2], data.hex()))
            f.flush()


def inject(iface, mac, k, n):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.send(frame(mac_bytes(mac), INJECT_SRC, "NETH-RX-%03d" % k, k, n))


def check(out, mac, wanted):
    src = mac_bytes(mac)
    frames = []
    with open(out) as f:
        for line in f:
            kind, _, hx = line.strip().partition(" ")
            frames.append((int(kind), bytes.fromhex(hx)))
    from_guest = [d for kind, d in frames if kind != PACKET_OUTGOING]
    have = set(from_guest)
    missing = []
    for kl in wanted:
        k, n = (int(x) for x in kl.split(":"))
        if frame(BCAST, src, "NETH-GOOD-%03d" % k, k, n) not in have:
            missing.append(kl)
    leaked = [d[:40].hex() for _, d in frames if b"NETH-BAD" in d or b"NETH-SENTINEL" in d]
    print("frames=%d from_guest=%d wanted=%d missing=%s leaked=%d %s" % (
        len(frames), len(from_guest), len(wanted), ",".join(missing) or "none",
        len(leaked), " ".join(leaked[:3])))
    return 0 if not missing and not leaked and wanted else 1


def main(argv):
    if len(argv) >= 4 and argv[0] == "capture":
        capture(argv[1], argv[2], float(argv[3]))
        return 0
    if len(argv) == 5 and argv[0] == "inject":
        inject(argv[1], argv[2], int(argv[3]), int(argv[4]))
        return 0
    if len(argv) >= 3 and argv[0] == "check":
        return check(argv[1], argv[2], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
