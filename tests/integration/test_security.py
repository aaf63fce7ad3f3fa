"""What another user on the cluster can reach of a running kernel: nothing.

The kernel listens on loopback or ipc only; the relay that faces the
cluster network accepts only the login shim's CURVE key; the kernel's
connection file sits in a directory only its owner can enter; the HMAC key
is in no process's argv or environment.
"""
import json
import re
import time

import zmq
from jupyter_client.session import Session
from zmq.utils.monitor import recv_monitor_message

from conftest import (LOGIN_ADDR, ME, RUNTIME_DIR, as_other, inspect,
                      is_loopback, kernel_json, listeners, node_addr,
                      run_cell, runtime_listing, wait_until)

CHANNELS = ("shell", "iopub", "stdin", "control", "hb")
# Who may listen where the cluster network reaches (ss shows the first 15
# characters of a process name).
CLUSTER_FACING = {"slurm-jupyter-s", "slurmd", "slurmstepd"}


def kernel_pid(k):
    return kernel_json(k.kc, "os.getpid()")


def test_kernel_ports_loopback_or_ipc_only(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("ports", ["-w", "n2"]))
    pid = kernel_pid(k)
    step_dir = k.step_dir()
    socks = listeners("n2")

    mine = [s for s in socks if pid in (p for _, p in s.procs)]
    assert mine, "the kernel listens somewhere:\n" + \
        "\n".join(s.line for s in socks)
    for s in mine:
        if s.kind == "tcp":
            assert is_loopback(s.addr), f"kernel port on the network: {s.line}"
        else:
            assert s.addr.startswith(step_dir + "/"), \
                f"kernel ipc socket outside its private directory: {s.line}"

    # Whatever the cluster network can reach on the node.
    exposed = [s for s in socks
               if s.kind == "tcp" and not is_loopback(s.addr)]
    for s in exposed:
        assert s.addr in (node_addr("n2"), "0.0.0.0", "::", "*"), s.line
        names = {c for c, _ in s.procs}
        assert names and names <= CLUSTER_FACING, \
            f"not the relay or Slurm on the cluster network: {s.line}"
    relay = [s for s in exposed if s.addr == node_addr("n2") and
             {c for c, _ in s.procs} == {"slurm-jupyter-s"}]
    assert len(relay) == 5, "the relay's five ports:\n" + \
        "\n".join(s.line for s in exposed)


class Probe:
    """A connection to one relay port that is not the login shim's."""

    def __init__(self, ctx, channel, endpoint, server_key=None):
        kind = {"iopub": zmq.SUB, "hb": zmq.REQ}.get(channel, zmq.DEALER)
        self.channel, self.endpoint = channel, endpoint
        self.sock = ctx.socket(kind)
        self.sock.linger = 0
        self.mon = self.sock.get_monitor_socket()
        self.events, self.received = [], []
        if server_key is not None:
            pub, sec = zmq.curve_keypair()      # a client key of our own
            self.sock.curve_publickey = pub
            self.sock.curve_secretkey = sec
            self.sock.curve_serverkey = server_key
        if kind == zmq.SUB:
            self.sock.setsockopt(zmq.SUBSCRIBE, b"")
        self.sock.connect(endpoint)

    def send_request(self, session):
        if self.sock.type == zmq.REQ:
            self.sock.send(b"ping")
        elif self.sock.type == zmq.DEALER:
            session.send(self.sock, "kernel_info_request", {})

    def pump(self):
        while self.mon.poll(0):
            e = recv_monitor_message(self.mon)
            self.events.append(e["event"])
        while self.sock.poll(0):
            self.received.append(self.sock.recv_multipart())

    def failed_handshake(self):
        return any(e in (zmq.EVENT_HANDSHAKE_FAILED_AUTH,
                         zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                         zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
                   for e in self.events)

    def close(self):
        self.sock.disable_monitor()
        self.mon.close()
        self.sock.close()

    def __repr__(self):
        return (f"<{self.channel} {self.endpoint}: events "
                f"{[zmq.Event(e).name for e in self.events]}, "
                f"{len(self.received)} messages>")


def watch(probes, session, settle=3.0, limit=30.0):
    """Sends each probe's request, then watches until every probe has seen
    its handshake fail (or `limit` passes), and at least `settle` seconds
    for anything that might still arrive."""
    for p in probes:
        p.send_request(session)
    start = time.monotonic()
    while True:
        for p in probes:
            p.pump()
        elapsed = time.monotonic() - start
        if elapsed > limit or (elapsed > settle and
                               all(p.failed_handshake() for p in probes)):
            return
        time.sleep(0.05)


def test_relay_refuses_wrong_curve_key(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("curve", ["-w", "n2"]))
    step_dir = k.step_dir()
    # The user may read her own relay.json: it names the relay's ports and
    # public key (what the login shim learnt in the rendezvous).
    relay = kernel_json(k.kc, f"json.load(open({step_dir + '/relay.json'!r}))")
    assert relay["address"] == node_addr("n2")
    listening = {s.port for s in listeners("n2")
                 if s.kind == "tcp" and s.addr == node_addr("n2") and
                 {c for c, _ in s.procs} == {"slurm-jupyter-s"}}
    assert set(relay["ports"].values()) == listening

    # Signed with the kernel's real HMAC key: only CURVE stands in the way.
    session = Session(key=k.km.session.key,
                      signature_scheme=k.km.session.signature_scheme)
    ctx = zmq.Context()
    try:
        cases = {
            "right server key, foreign client key":
                relay["server_public"].encode(),
            "random server key": zmq.curve_keypair()[0],
            "no encryption": None,
        }
        probes = {name: [Probe(ctx, ch, f"tcp://{relay['address']}:"
                               f"{relay['ports'][ch]}", key)
                         for ch in CHANNELS]
                  for name, key in cases.items()}
        watch([p for ps in probes.values() for p in ps], session)
        for name, ps in probes.items():
            for p in ps:
                assert p.received == [], f"{name}: relay answered: {p}"
                assert zmq.EVENT_HANDSHAKE_SUCCEEDED not in p.events, \
                    f"{name}: handshake succeeded: {p}"
                assert p.failed_handshake(), f"{name}: {p}"
        # With the right server key the relay itself says no (ZAP).
        for p in probes["right server key, foreign client key"]:
            assert zmq.EVENT_HANDSHAKE_FAILED_AUTH in p.events, p

        # The same probe, on the port Jupyter uses, gets its answer: the
        # silence above is the relay's doing, not the probe's.
        info = json.load(open(k.km.connection_file))
        control = Probe(ctx, "shell",
                        f"tcp://{info['ip']}:{info['shell_port']}")
        control.send_request(session)
        deadline = time.monotonic() + 30
        while not control.received and time.monotonic() < deadline:
            control.pump()
            time.sleep(0.05)
        assert control.received, f"no answer through the shim: {control}"
        _, reply = session.feed_identities(control.received[0])
        assert session.deserialize(reply)["msg_type"] == "kernel_info_reply"
        for p in [control] + [p for ps in probes.values() for p in ps]:
            p.close()
    finally:
        ctx.destroy(linger=0)

    # The real client still works, and the server log says what happened.
    assert k.kc.kernel_info(reply=True, timeout=30)["content"]["status"] == \
        "ok"
    content, out, _ = run_cell(k.kc, "print(6 * 7)")
    assert out == "42\n"
    wait_until(lambda: re.search(r"refused.*" + re.escape(LOGIN_ADDR),
                                 k.shim_log()),
               30, "the refusal in the shim's log")


def test_connection_file_private(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("private", ["-w", "n1"]))
    step_dir = k.step_dir()
    step = step_dir.rsplit("/", 1)[1]
    tree = runtime_listing()

    base_mode, base_owner = tree[RUNTIME_DIR]["."]
    assert base_owner == "root" and base_mode[5] == "-" and \
        base_mode[8] == "-", f"{RUNTIME_DIR}: {base_mode} {base_owner}"
    mode, owner = tree[RUNTIME_DIR][step]
    assert owner == ME
    # Owner only; a sticky bit (T, without x for others) is harmless.
    assert mode[:7] == "drwx---" and mode[7:9] == "--" and mode[9] in "-T", \
        f"{step_dir}: {mode}"
    files = {name: m for name, (m, o) in tree[step_dir].items()
             if m.startswith("-")}
    assert {"kernel.json", "relay.json"} <= set(files)
    for name, m in files.items():
        assert m == "-rw-------", f"{step_dir}/{name}: {m}"
    assert all(o == ME for name, (m, o) in tree[step_dir].items()
               if name != "..")

    # The owner reads it (from the kernel, on the node): it is the real
    # connection file, with the key Jupyter holds.
    conn = kernel_json(k.kc, f"json.load(open({step_dir + '/kernel.json'!r}))")
    assert conn["key"] == k.km.session.key.decode()

    # Another user gets nowhere.
    r = as_other("cat", f"{step_dir}/kernel.json")
    assert r.returncode != 0 and "Permission denied" in r.stderr, r
    assert conn["key"] not in r.stdout
    r = as_other("ls", step_dir)
    assert r.returncode != 0 and "Permission denied" in r.stderr, r


def test_key_not_in_argv_or_env(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("key", ["-w", "n2"]))
    step_dir = k.step_dir()
    key = k.km.session.key.decode()
    assert len(key) >= 16

    def holders(needle):
        return inspect("procs-grep", "-", stdin=needle + "\n").splitlines()

    # The scan sees the login shim and the kernel on the node (by their
    # connection files' paths, which are in their argv) ...
    login_side = holders(k.km.connection_file)
    assert any(line.split()[0] == str(k.shim_pid) for line in login_side), \
        login_side
    node_side = holders(step_dir + "/kernel.json")
    assert any(line.split()[2] == "python3" for line in node_side), node_side
    # ... and finds the key in no process's argv or environment.
    assert holders(key) == []


def test_kernel_transport_tcp_is_loopback(kernelspecs, start_kernel):
    # For kernels without ipc: the kernelspec asks for tcp; still loopback.
    k = start_kernel(kernelspecs.add(
        "tcp", ["-w", "n1"],
        shim_args=["--linger=0", "--kernel-transport=tcp"]))
    d = k.step_dir()
    cf = kernel_json(k.kc, f"json.load(open({d + '/kernel.json'!r}))")
    assert cf["transport"] == "tcp" and cf["ip"] == "127.0.0.1"
    pid = kernel_pid(k)
    kernel = [s for s in listeners("n1") if pid in (p for _, p in s.procs)]
    tcp = {(s.addr, s.port) for s in kernel if s.kind == "tcp"}
    for name in CHANNELS:
        assert ("127.0.0.1", cf[name + "_port"]) in tcp
    assert all(addr == "127.0.0.1" for addr, _ in tcp), tcp
    assert [s.line for s in kernel if s.kind == "unix"] == []
    content, out, _ = run_cell(k.kc, "print(6 * 7)")
    assert out == "42\n"
