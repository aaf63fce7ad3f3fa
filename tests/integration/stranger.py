# SPDX-License-Identifier: GPL-2.0-or-later
"""What another user on the login node can do to a kernel's login shim.

Run as that user (sj-inspect as-other), or as the kernel's owner to show
that the same script does reach an open port.  Prints one JSON object.

  stranger.py probe UID           every TCP port UID listens on (read from
                                  /proc/net/tcp, as any user can): the
                                  bytes each sent before it closed
  stranger.py listen PORT SECONDS subscribes to everything on the iopub
                                  port for SECONDS; the messages it got
  stranger.py knock ADDR PORT     connects, sends a link greeting, and
                                  reports what came back before the close
  stranger.py ask ADDR PORT SCHEME N
                                  sends N kernel_info_requests to a shell
                                  port, signed with the key read from
                                  stdin; the replies that came in 20 s
  stranger.py big ADDR PORT MIB   sends one message of MIB MiB to a shell
                                  port; whether it was disconnected
  stranger.py stream ADDR PORT MIB
                                  sends MIB MiB of junk; how much went out
                                  before the other end closed
"""
import concurrent.futures
import json
import socket
import sys
import time

import zmq


def listening_ports(uid):
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                local, state, owner = fields[1], fields[3], int(fields[7])
                if state == "0A" and owner == uid:
                    ports.append(int(local.rsplit(":", 1)[1], 16))
    return sorted(set(ports))


def probe(port, addr="127.0.0.1", send=b""):
    """Bytes the port sends a client, and whether it then closed."""
    s = socket.create_connection((addr, port), timeout=5)
    got, closed = b"", False
    try:
        s.sendall(send)
        while True:
            d = s.recv(4096)
            if not d:
                closed = True
                break
            got += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    finally:
        s.close()
    return {"bytes": len(got), "closed": closed}


def stream(addr, port, mib):
    junk = bytes(range(256)) * 4096		# 1 MiB
    sent = 0
    s = socket.create_connection((addr, port), timeout=10)
    try:
        for _ in range(mib):
            s.sendall(junk)
            sent += len(junk)
    except OSError:
        pass
    finally:
        s.close()
    return {"sent_mib": sent >> 20}


def ask(addr, port, scheme, n):
    """Replies to n signed requests, and whether the server disconnected
    us, within 20 s."""
    from jupyter_client.session import Session
    from zmq.utils.monitor import recv_monitor_message
    key = sys.stdin.readline().strip().encode()
    session = Session(key=key, signature_scheme=scheme)
    ctx = zmq.Context()
    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    mon = dealer.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    dealer.connect(f"tcp://{addr}:{port}")
    for _ in range(n):
        session.send(dealer, "kernel_info_request", {})
    replies, disconnected = [], False
    poller = zmq.Poller()
    poller.register(dealer, zmq.POLLIN)
    poller.register(mon, zmq.POLLIN)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(replies) < n and \
            not disconnected:
        for sock, _ in poller.poll(100):
            if sock is mon:
                recv_monitor_message(mon)
                disconnected = True
            else:
                _, msg = session.feed_identities(dealer.recv_multipart())
                replies.append(session.deserialize(msg)["msg_type"])
    dealer.disable_monitor()
    mon.close()
    dealer.close()
    ctx.term()
    return {"replies": replies, "disconnected": disconnected}


def big(addr, port, mib):
    from zmq.utils.monitor import recv_monitor_message
    ctx = zmq.Context()
    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    mon = dealer.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    dealer.connect(f"tcp://{addr}:{port}")
    dealer.send_multipart([b"<IDS|MSG>", b"x" * (mib << 20)])
    disconnected = mon.poll(20000) != 0
    if disconnected:
        recv_monitor_message(mon)
    dealer.disable_monitor()
    mon.close()
    dealer.close()
    ctx.term()
    return {"disconnected": disconnected}


def listen(port, seconds):
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(f"tcp://127.0.0.1:{port}")
    got = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sub.poll(100):
            got.append([f.decode("utf-8", "replace")[:200]
                        for f in sub.recv_multipart()])
    sub.close()
    ctx.term()
    return got


if __name__ == "__main__":
    if sys.argv[1] == "probe":
        ports = listening_ports(int(sys.argv[2]))
        with concurrent.futures.ThreadPoolExecutor(len(ports) or 1) as ex:
            print(json.dumps(dict(zip(ports, ex.map(probe, ports)))))
    elif sys.argv[1] == "big":
        print(json.dumps(big(sys.argv[2], int(sys.argv[3]),
                             int(sys.argv[4]))))
    elif sys.argv[1] == "ask":
        print(json.dumps(ask(sys.argv[2], int(sys.argv[3]), sys.argv[4],
                             int(sys.argv[5]))))
    elif sys.argv[1] == "stream":
        print(json.dumps(stream(sys.argv[2], int(sys.argv[3]),
                                int(sys.argv[4]))))
    elif sys.argv[1] == "knock":
        print(json.dumps(probe(int(sys.argv[3]), sys.argv[2],
                               b"SJL3" + bytes(50))))
    else:
        print(json.dumps(listen(int(sys.argv[2]), float(sys.argv[3]))))
