# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/client.py - the raw Jupyter client the figures are timed with:
pyzmq sockets and jupyter_client's Session, readiness as a Jupyter server
sees it, and one cell executed."""
import json

import zmq
from jupyter_client.session import Session

from config import CELL_TIMEOUT, mono


class RawClient:
    """Shell, iopub and control sockets with Jupyter's message signing."""

    def __init__(self, ctx, info):
        key = info["key"]
        self.session = Session(key=key if isinstance(key, bytes)
                               else key.encode(),
                               signature_scheme=info["signature_scheme"])
        if info.get("transport", "tcp") == "ipc":
            url = lambda port: f"ipc://{info['ip']}-{port}"     # noqa: E731
        else:
            url = lambda port: f"tcp://{info['ip']}:{port}"     # noqa: E731
        self.shell = ctx.socket(zmq.DEALER)
        self.control = ctx.socket(zmq.DEALER)
        self.iopub = ctx.socket(zmq.SUB)
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        for s, port in ((self.shell, "shell_port"),
                        (self.control, "control_port"),
                        (self.iopub, "iopub_port")):
            s.setsockopt(zmq.LINGER, 0)
            s.connect(url(info[port]))

    def close(self):
        for s in (self.shell, self.control, self.iopub):
            s.close(0)

    def send(self, sock, msg_type, content):
        msg = self.session.msg(msg_type, content)
        self.session.send(sock, msg)
        return msg["header"]["msg_id"]

    def recv(self, sock, flags=0):
        frames = sock.recv_multipart(flags, copy=True)
        _, frames = self.session.feed_identities(frames, copy=True)
        return self.session.deserialize(frames, content=True, copy=True)

    def drain(self, sock):
        """Every message waiting on sock."""
        while True:
            try:
                yield self.recv(sock, zmq.NOBLOCK)
            except zmq.Again:
                return


class Ready:
    """Readiness of one kernel.  Ready is the first kernel_info reply on
    shell (the request waits in ZMQ's queues until the kernel listens;
    it is repeated every second anyway, as jupyter_client does).  Then,
    like jupyter_server's "nudge", kernel_info is repeated every 50 ms
    until one of its status messages arrives on iopub: a PUB socket drops
    what it publishes before the subscription has reached it, and a
    front end is not really ready before its iopub is."""

    RESEND_S = 1.0
    NUDGE_S = 0.05

    def __init__(self, client):
        self.c = client
        self.sent = set()
        self.next_send = 0.0
        self.t_reply = self.t_iopub = None

    @property
    def t_ready(self):
        """Both seen (the wait is over)."""
        if self.t_reply is None or self.t_iopub is None:
            return None
        return max(self.t_reply, self.t_iopub)

    def tick(self, now):
        if self.t_ready is None and now >= self.next_send:
            self.sent.add(self.c.send(self.c.shell, "kernel_info_request",
                                      {}))
            self.next_send = now + (self.RESEND_S if self.t_reply is None
                                    else self.NUDGE_S)

    def on_shell(self, msg, now):
        if (self.t_reply is None and
                msg["msg_type"] == "kernel_info_reply" and
                msg["parent_header"].get("msg_id") in self.sent):
            self.t_reply = now
            self.next_send = now

    def on_iopub(self, msg, now):
        if (self.t_iopub is None and msg["msg_type"] == "status" and
                msg["parent_header"].get("msg_id") in self.sent):
            self.t_iopub = now


def wait_ready_many(items, timeout, alive):
    """items: [(Ready, ...)]; waits until all are ready.  alive(i) says
    whether kernel i's process still runs."""
    poller = zmq.Poller()
    owner = {}
    for i, r in enumerate(items):
        for s in (r.c.shell, r.c.iopub):
            poller.register(s, zmq.POLLIN)
            owner[s] = (i, s is r.c.shell)
    deadline = mono() + timeout
    last_alive_check = 0.0
    while True:
        now = mono()
        pending = [r for r in items if r.t_ready is None]
        if not pending:
            return
        for r in pending:
            r.tick(now)
        wake = min(r.next_send for r in pending)
        wait_ms = max(0, min(wake, deadline) - mono()) * 1000
        for sock, _ in poller.poll(wait_ms):
            i, is_shell = owner[sock]
            r = items[i]
            for msg in r.c.drain(sock):
                (r.on_shell if is_shell else r.on_iopub)(msg, mono())
        now = mono()
        if now - last_alive_check > 0.5:
            last_alive_check = now
            for i, r in enumerate(items):
                if r.t_ready is None and not alive(i):
                    raise RuntimeError(f"kernel {i} exited before it was "
                                       "ready")
        if now > deadline:
            n = sum(1 for r in items if r.t_ready is None)
            raise RuntimeError(f"{n} kernel(s) not ready after {timeout} s")


def execute(c, code, timeout=CELL_TIMEOUT, on_stream=None):
    """Runs code; returns (seconds to reply and idle, reply content)."""
    t0 = mono()
    msg_id = c.send(c.shell, "execute_request", {
        "code": code, "silent": False, "store_history": False,
        "user_expressions": {}, "allow_stdin": False,
        "stop_on_error": True})
    reply = idle = None
    poller = zmq.Poller()
    poller.register(c.shell, zmq.POLLIN)
    poller.register(c.iopub, zmq.POLLIN)
    deadline = t0 + timeout
    while reply is None or idle is None:
        left = deadline - mono()
        if left <= 0:
            raise RuntimeError(f"cell did not finish in {timeout} s: "
                               f"{code[:60]!r}")
        for sock, _ in poller.poll(left * 1000):
            for msg in c.drain(sock):
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                t = msg["msg_type"]
                if sock is c.shell and t == "execute_reply":
                    reply = msg["content"]
                elif t == "stream" and on_stream is not None:
                    on_stream(msg["content"])
                elif (t == "status" and
                      msg["content"]["execution_state"] == "idle"):
                    idle = True
    return mono() - t0, reply


def cell_value(c, expr):
    out = []
    _, reply = execute(c, f"import json as _j, os\nprint(_j.dumps({expr}))",
                       on_stream=lambda m: out.append(m["text"]))
    if reply["status"] != "ok":
        raise RuntimeError(f"cell failed: {reply.get('ename')}: "
                           f"{reply.get('evalue')}")
    return json.loads("".join(out))
