#!/usr/bin/env python3
# A fake domain process's control socket (src/common/ctl_wire.h) for
# tests/host/test_top.sh: answers "info" and "stats" with fixed lines, and
# "dump-core" by writing FAKE-CORE into the descriptor sent with it (or an
# error when none came).  Usage: fake_domctl.py SOCKET_PATH
import array
import os
import socket
import sys

INFO = ("ok name=web domid=3 vcpus=2 memory=256 paused=0 shutdown=-1 boots=1 "
        "boot_time=1 pty=- cpu_exited_ns=7000000000")
STATS = ("ok mem_kb=261120 maxmem_kb=262144 vbds=2 vbd0=51712,100,50,2,800,400 "
         "vbd1=51728,1,1,1,8,8 vifs=1 vif0=0,10,204800,20,409600")

path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)
while True:
    conn, _ = srv.accept()
    fds = array.array("i")
    data = b""
    while not data.endswith(b"\n"):
        msg, anc, _, _ = conn.recvmsg(512, socket.CMSG_SPACE(4 * fds.itemsize))
        if not msg:
            break
        data += msg
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(cdata[:len(cdata) - len(cdata) % fds.itemsize])
    verb = data.decode().strip()
    if verb == "info":
        reply = INFO
    elif verb == "stats":
        reply = STATS
    elif verb == "dump-core" and len(fds) == 1:
        os.write(fds[0], b"FAKE-CORE\n")
        reply = "ok bytes=10 vcpus=2"
    elif verb == "dump-core":
        reply = "error 9 no file descriptor sent with the request"
    else:
        reply = "error 38 unknown request"
    for fd in fds:
        os.close(fd)
    conn.sendall((reply + "\n").encode())
    conn.close()
