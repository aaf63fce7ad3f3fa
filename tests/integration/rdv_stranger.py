# SPDX-License-Identifier: GPL-2.0-or-later
"""Another user (run as sjother) against a kernel that is starting: he reads
the rendezvous port in the argv of the victim's srun, as anyone may, and
tries to stall the rendezvous.

    python3 rdv_stranger.py VICTIM_UID ADDR

1. Waits (60 s at most) for an srun of VICTIM_UID with --jupyter-kernel=
   HOST:PORT:NONCE in its argv; prints "port PORT".
2. Sends three frames that are no HELLO, one connection each, one after the
   other, and waits until the shim closes each: garbage, a frame header
   announcing 4 GiB, one announcing 5000 bytes (with 100 of them).
3. Opens SILENT connections that send nothing; prints "ready".
4. Keeps SILENT connections open until its stdin closes, opening a new one
   whenever the shim closes one (until the port is closed), and prints
   "renewed" the first time; at the end he prints "opened N" (every connection
   it opened) and exits.
"""
import os
import select
import socket
import struct
import sys
import time

SILENT = 5
JUNK = (b"GET / HTTP/1.0\r\n\r\n",
        b"SJR1\xff\xff\xff\xff",
        b"SJR1" + struct.pack(">I", 5000) + b"x" * 100)


def find_port(uid):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.stat(f"/proc/{pid}").st_uid != uid:
                    continue
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if not argv or os.path.basename(argv[0]) != b"srun":
                continue
            for a in argv:
                if a.startswith(b"--jupyter-kernel="):
                    return int(a.rsplit(b":", 2)[1])
        time.sleep(0.01)
    sys.exit("no srun with --jupyter-kernel= appeared")


def closed_by_peer(sock):
    """Waits until the peer closes; fails if it answers anything."""
    sock.settimeout(60)
    try:
        data = sock.recv(4096)
    except ConnectionResetError:
        return
    if data:
        sys.exit(f"the shim answered junk: {data[:80]!r}")


def main():
    uid, addr = int(sys.argv[1]), sys.argv[2]
    port = find_port(uid)
    print("port", port, flush=True)
    opened = 0
    for junk in JUNK:
        with socket.create_connection((addr, port), timeout=60) as s:
            opened += 1
            s.sendall(junk)
            closed_by_peer(s)
    silent = []
    over = False
    said_ready = said_renewed = False
    while True:
        while len(silent) < SILENT and not over:
            try:
                silent.append(socket.create_connection((addr, port),
                                                       timeout=60))
                opened += 1
            except ConnectionRefusedError:
                over = True     # the rendezvous is over: port closed
        if not said_ready:
            print("ready", flush=True)
            said_ready = True
        ready, _, _ = select.select([sys.stdin] + silent, [], [])
        if sys.stdin in ready and not sys.stdin.read(1):
            break
        for s in ready:
            if s is not sys.stdin:
                # The shim closed it (or reset it): open another.
                silent.remove(s)
                s.close()
                if not said_renewed:
                    print("renewed", flush=True)
                    said_renewed = True
    for s in silent:
        s.close()
    print("opened", opened, flush=True)


if __name__ == "__main__":
    main()
