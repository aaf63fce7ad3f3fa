"""Nobody but the user reaches the kernel, its key or its files."""
import json
import os
import re
import socket
import struct
import subprocess
import threading

import pytest
import zmq
from jupyter_client.session import Session

from conftest import inspect, run_cell

NODE_ADDR = {"n1": "10.77.0.11", "n2": "10.77.0.12", "n3": "10.77.0.13"}


def listening(node):
    """[(kind, local address, process name)] in the node's namespace."""
    sockets = []
    for line in inspect("listen", node).splitlines():
        m = re.search(r'users:\(\("([^"]+)"', line)
        proc = m.group(1) if m else "?"
        fields = line.split()
        if fields[0] == "u_str" or fields[0] == "u_seq":
            sockets.append(("unix", fields[4], proc))
        else:
            sockets.append(("tcp", fields[3], proc))
    return sockets


def step_dir(k):
    _, job, step = k.where()
    return f"/run/spank-jupyter/{job}.{step}"


def test_kernel_ports_loopback_or_ipc_only(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("ports", ["-w", "n2"]))
    d = step_dir(k)
    socks = listening("n2")
    kernel = [s for s in socks if s[2] == "python3"]
    # The kernel's five channels are unix sockets in its private directory.
    assert sorted(s[1] for s in kernel if s[0] == "unix") == \
        [f"{d}/kernel-{i}" for i in range(1, 6)]
    # Whatever else the kernel listens on is loopback only.
    for kind, addr, _ in kernel:
        if kind == "tcp":
            assert addr.startswith(("127.0.0.1:", "[::1]:")), addr
    # On the cluster network: the relay (five ports) and Slurm, nothing else.
    public = [s for s in socks if s[0] == "tcp" and
              not s[1].startswith(("127.", "[::1]"))]
    assert {p for _, _, p in public} <= {"slurm-jupyter-s", "slurmd",
                                         "slurmstepd"}
    relay = [a for _, a, p in public if p == "slurm-jupyter-s"]
    assert len(relay) == 5
    assert all(a.startswith(NODE_ADDR["n2"] + ":") for a in relay)


def relay_ports(node):
    return [int(a.rsplit(":", 1)[1]) for kind, a, p in listening(node)
            if kind == "tcp" and p == "slurm-jupyter-s"]


def no_reply(endpoint, key, curve=None):
    """Sends a signed kernel_info_request; True if nothing comes back."""
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    if curve is not None:
        pub, sec = zmq.curve_keypair()
        s.curve_serverkey = curve
        s.curve_publickey = pub
        s.curve_secretkey = sec
    s.connect(endpoint)
    Session(key=key).send(s, "kernel_info_request", {})
    got = s.poll(3000)
    s.close()
    return got == 0


def test_relay_refuses_wrong_curve_key(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("curve", ["-w", "n2"]))
    d = step_dir(k)
    # Even knowing the relay's public key (the user can read it) and the
    # kernel's HMAC key, a client without the login shim's key gets nothing.
    with open(f"{d}/relay.json") as f:
        server_key = json.load(f)["server_public"].encode()
    key = k.km.session.key
    for port in relay_ports("n2"):
        ep = f"tcp://{NODE_ADDR['n2']}:{port}"
        assert no_reply(ep, key, curve=server_key), f"{ep} answered"
        assert no_reply(ep, key), f"{ep} answered a plain client"
    assert "relay: refused a connection from" in k.shim_log()
    # The real client is unaffected.
    content, out, _ = run_cell(k.kc, "print('still mine')")
    assert out == "still mine\n"


def test_connection_file_private(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("private", ["-w", "n1"]))
    d = step_dir(k)
    name = os.path.basename(d)
    listing = inspect("ls-runtime")
    dir_line = [line for line in listing.splitlines()
                if line.split()[-1:] == [name]]
    # No access for group or others.  (The kernel's jupyter_client adds the
    # sticky bit, 'T', to the directory of its connection file.)
    assert dir_line and re.match(r"drwx-----[-T] ", dir_line[0]), dir_line
    assert dir_line[0].split()[2:4] == ["sjtest", "sjtest"]
    for f in ("kernel.json", "relay.json"):
        lines = [line for line in listing.splitlines()
                 if line.split()[-1:] == [f]]
        assert lines and lines[0].startswith("-rw------- "), lines
    r = subprocess.run(["sudo", "-n", "/var/lib/spank-jupyter-cluster/bin/"
                        "sj-inspect", "as-other", "cat", f"{d}/kernel.json"],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "Permission denied" in r.stderr
    assert k.km.session.key.decode() not in r.stdout


def test_key_not_in_argv_or_env(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("secret", ["-w", "n3"]))
    run_cell(k.kc, "x = 1")
    key = k.km.session.key.decode()
    assert len(key) >= 16
    found = inspect("procs-grep", "-", stdin=key + "\n")
    assert found == "", f"the HMAC key is visible in:\n{found}"


class FakeShim:
    """A rendezvous listener that answers with a given credential."""

    def __init__(self, reply):
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.hellos = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                c.settimeout(20)
                head = c.recv(8, socket.MSG_WAITALL)
                if len(head) == 8 and head[:4] == b"SJR1":
                    n = struct.unpack(">I", head[4:])[0]
                    c.recv(n, socket.MSG_WAITALL)
                    self.hellos += 1
                    cred = self.reply(self.hellos).encode()
                    c.sendall(b"SJR1" + struct.pack(">I", len(cred)) + cred)

    def close(self):
        self.sock.close()


def srun_rendezvous(port, node="n1"):
    spec = f"10.77.0.1:{port}:" + "ab" * 16
    return subprocess.run(["srun", "-N1", "-n1", "-w", node, "--time=2",
                           f"--jupyter-kernel={spec}", "true"],
                          capture_output=True, text=True, timeout=120)


def munge_as(user_cmd, payload=""):
    """A MUNGE credential decodable only by sjtest (uid 1001 or ours)."""
    uid = str(os.getuid())
    argv = ["munge", "-s", payload, "-u", uid]
    if user_cmd == "sjother":
        return inspect("as-other", *argv).strip()
    return subprocess.run(argv, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_rendezvous_from_another_uid_refused():
    forged = munge_as("sjother", "sjrdv=1\ntype=welcome\n")
    shim = FakeShim(lambda n: forged)
    try:
        r = srun_rendezvous(shim.port)
    finally:
        shim.close()
    assert shim.hellos == 1
    assert r.returncode != 0
    assert "spank_jupyter" in r.stderr
    assert re.search(r"credential made by uid \d+, expected", r.stderr), \
        r.stderr


def test_replayed_rendezvous_refused():
    cred = munge_as("sjtest", "sjrdv=1\ntype=welcome\n")
    shim = FakeShim(lambda n: cred)
    try:
        first = srun_rendezvous(shim.port, "n1")
        second = srun_rendezvous(shim.port, "n2")
    finally:
        shim.close()
    assert shim.hellos == 2
    assert first.returncode != 0 and second.returncode != 0
    # The first decodes (and is refused for its content), the second is
    # refused by MUNGE itself.
    assert "replayed" not in first.stderr
    assert "credential replayed" in second.stderr, second.stderr
