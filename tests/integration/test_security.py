# SPDX-License-Identifier: GPL-2.0-or-later
"""What another user on the cluster can reach of a running kernel: nothing.

The kernel listens on loopback or ipc only; the relay that faces the
cluster network accepts only the login shim's link key; the kernel's
connection file sits in a directory only its owner can enter; the HMAC key
is in no process's argv or environment.
"""
import os
import re
import resource
import shutil
import socket
import struct

import nacl.bindings as nacl
from dissononce.cipher.chachapoly import ChaChaPolyCipher
from dissononce.dh.x25519.private import PrivateKey
from dissononce.dh.x25519.public import PublicKey
from dissononce.dh.x25519.x25519 import X25519DH
from dissononce.hash.blake2b import Blake2bHash
from dissononce.processing.handshakepatterns.interactive.KK import \
    KKHandshakePattern
from dissononce.processing.impl.cipherstate import CipherState
from dissononce.processing.impl.handshakestate import HandshakeState
from dissononce.processing.impl.symmetricstate import SymmetricState
from jupyter_client.session import Session

from conftest import (LOGIN_ADDR, LOGIN_HOST, ME, MY_UID, RUNTIME_DIR,
                      as_other, inspect, is_loopback, kernel_json, listeners,
                      node_addr, run_cell, runtime_listing, wait_until)

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
    assert len(relay) == 1, "the relay's one port:\n" + \
        "\n".join(s.line for s in exposed)


LINK_MAGIC = b"SJL3"


def link_prologue(relay):
    """Noise's prologue (docs/link.md): the rendezvous that keyed the link,
    as relay.json carries it."""
    return (b"spank-jupyter link" + LINK_MAGIC + bytes.fromhex(relay["nonce"])
            + bytes.fromhex(relay["node_nonce"])
            + struct.pack(">II", relay["job_id"], relay["step_id"]))


def recv_all(sock, limit=1 << 20):
    """Everything the peer sends until it closes (or 30 s pass)."""
    sock.settimeout(30)
    got = b""
    try:
        while len(got) < limit:
            d = sock.recv(65536)
            if not d:
                break
            got += d
    except (socket.timeout, ConnectionResetError):
        pass
    return got


def foreign_link_client(addr, port, relay):
    """The link protocol (docs/link.md) spoken right by another
    implementation of Noise (dissononce), with the relay's public key and
    the rendezvous's prologue but a static key pair of its own: what
    another user who read relay.json's public part could do.  Returns what
    the relay sent back before it closed."""
    static_pub, static_sec = nacl.crypto_box_keypair()
    dh = X25519DH()
    hs = HandshakeState(
        SymmetricState(CipherState(ChaChaPolyCipher()), Blake2bHash()), dh)
    hs.initialize(KKHandshakePattern(), True, link_prologue(relay),
                  s=dh.generate_keypair(PrivateKey(static_sec)),
                  rs=PublicKey(bytes.fromhex(relay["server_public"])))
    msg1 = bytearray()
    hs.write_message(b"", msg1)
    sock = socket.create_connection((addr, port), timeout=30)
    try:
        sock.sendall(LINK_MAGIC + struct.pack(">H", len(msg1)) + msg1)
        return recv_all(sock)
    finally:
        sock.close()


def raw_client(addr, port, data):
    sock = socket.create_connection((addr, port), timeout=30)
    try:
        sock.sendall(data)
        return recv_all(sock)
    finally:
        sock.close()


def frames_record(channel, frames):
    return bytes([channel]) + b"".join(struct.pack(">I", len(f)) + f
                                       for f in frames)


def test_relay_refuses_strangers(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("stranger", ["-w", "n2"]))
    step_dir = k.step_dir()
    # The user may read her own relay.json: it names the relay's port and
    # public key (what the login shim learnt in the rendezvous).
    relay = kernel_json(k.kc, f"json.load(open({step_dir + '/relay.json'!r}))")
    assert relay["address"] == node_addr("n2")
    listening = {s.port for s in listeners("n2")
                 if s.kind == "tcp" and s.addr == node_addr("n2") and
                 {c for c, _ in s.procs} == {"slurm-jupyter-s"}}
    assert listening == {relay["port"]}
    addr, port = relay["address"], relay["port"]

    # A kernel_info_request signed with the kernel's real HMAC key: only
    # the link's key stands in the way.
    session = Session(key=k.km.session.key,
                      signature_scheme=k.km.session.signature_scheme)
    msg = session.msg("kernel_info_request", {})
    request = frames_record(0, session.serialize(msg))

    got = foreign_link_client(addr, port, relay)
    # Its greeting, then nothing: Noise's first message did not open, and
    # the connection was dropped before a second one.
    assert got == LINK_MAGIC, got[:80]
    # Straight to business without a handshake: refused by its size alone.
    got = raw_client(addr, port, LINK_MAGIC + struct.pack(">H", len(request))
                     + request)
    assert got == LINK_MAGIC, got[:80]
    # Not the link protocol at all: a ZMTP greeting, an HTTP request.
    zmtp = b"\xff" + b"\0" * 8 + b"\x7f\x03\x00CURVE" + b"\0" * 47
    for junk in (zmtp, b"GET / HTTP/1.0\r\nHost: n2\r\nAccept: */*\r\n\r\n"):
        got = raw_client(addr, port, junk)
        assert got == LINK_MAGIC, got[:80]
    # A login shim of the previous version of the protocol.
    got = raw_client(addr, port, b"SJL2" + bytes(32))
    assert got == LINK_MAGIC, got[:80]

    # The real client still works, and the server log says what happened.
    assert k.kc.kernel_info(reply=True, timeout=30)["content"]["status"] == \
        "ok"
    content, out, _ = run_cell(k.kc, "print(6 * 7)")
    assert out == "42\n"
    stranger = r"refused " + re.escape(LOGIN_ADDR) + r":\d+: "

    def refusals():
        log = k.shim_log()
        keyless = re.findall(stranger + "it does not hold the login shim's "
                             "key", log)
        no_hello = re.findall(stranger + r"a message of \d+ bytes", log)
        junk = re.findall(stranger + "not the link protocol", log)
        other = re.findall(stranger + "it speaks version 2 of the link "
                           "protocol, this shim version 3 [(]install the "
                           "same spank-jupyter on login and compute nodes",
                           log)
        return log if (len(keyless), len(no_hello), len(junk),
                       len(other)) == (1, 1, 2, 1) else None

    try:
        log = wait_until(refusals, 30, "the five refusals in the shim's log")
    except AssertionError as e:
        raise AssertionError(f"{e}\nshim log:\n{k.shim_log()}") from None
    assert "login side reconnected" not in log


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


# Where older shims kept the allocation locks without XDG_RUNTIME_DIR: any
# user could make it first.
OLD_LOCK_DIR = f"/tmp/slurm-jupyter-{MY_UID}"


def test_lock_dir_strangers_cannot_block(kernelspecs, start_kernel):
    """The tests run without XDG_RUNTIME_DIR: the shim falls back.  Another
    user fills every place of it he can reach; our kernel starts all the
    same, its lock where he cannot reach."""
    home = os.environ["HOME"]
    # Left by an older shim of ours, it is no longer used: make room.
    if os.path.lexists(OLD_LOCK_DIR):
        if os.lstat(OLD_LOCK_DIR).st_uid == MY_UID:
            shutil.rmtree(OLD_LOCK_DIR)
        else:
            assert as_other("rm", "-rf", OLD_LOCK_DIR).returncode == 0
    planted = as_other("sh", "-c", f"""
        mkdir -m 0777 {OLD_LOCK_DIR} && cd {OLD_LOCK_DIR} &&
        echo junk >1.lock && ln -s /etc/passwd 2.lock &&
        ln -s {home}/.cache slurm-jupyter && chmod 0777 1.lock""")
    try:
        assert planted.returncode == 0, planted.stderr
        # The places the shim uses now are out of his reach.
        run_user = f"/run/user/{MY_UID}"
        if not os.path.exists(run_user):
            r = as_other("mkdir", "-m", "0700", run_user)
            assert r.returncode != 0 and not os.path.exists(run_user), r
        r = as_other("mkdir", f"{home}/.cache-of-sjother")
        assert r.returncode != 0 and "Permission denied" in r.stderr, r

        k = start_kernel(kernelspecs.add("lockdir", ["-w", "n3"]))
        _, job, _ = k.where()
        _, out, _ = run_cell(k.kc, "print(6 * 7)")
        assert out == "42\n"

        if os.path.isdir(run_user):
            lock_dir = run_user + "/slurm-jupyter"
        else:
            lock_dir = f"{home}/.cache/slurm-jupyter/{LOGIN_HOST.split('.')[0]}"
        st = os.lstat(lock_dir)
        assert st.st_uid == MY_UID and (st.st_mode & 0o7777) == 0o700, \
            f"{lock_dir}: {oct(st.st_mode)} uid {st.st_uid}"
        lock = os.lstat(f"{lock_dir}/{job}.lock")
        assert lock.st_uid == MY_UID and (lock.st_mode & 0o777) == 0o600
        # Nothing of ours went into the stranger's directory.
        r = as_other("ls", "-A", OLD_LOCK_DIR)
        assert sorted(r.stdout.split()) == ["1.lock", "2.lock",
                                            "slurm-jupyter"], r
    finally:
        assert as_other("rm", "-rf", OLD_LOCK_DIR).returncode == 0


def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return re.search(rf"^{field}:\s+(.*)$", f.read(), re.M).group(1)


def core_limit(pid):
    """The soft core file size limit of a process, as /proc shows it."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4]
    raise AssertionError(f"no core limit in /proc/{pid}/limits")


def test_shims_not_dumpable(kernelspecs, start_kernel):
    """The shims hold the kernel's key: the user's other processes cannot
    read their memory or environment and they leave no core.  What they
    run (srun, the kernel) is the user's as usual, with the user's core
    limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    assert hard != 0, "a core limit to hand on is needed"
    given = 1 << 20 if hard == resource.RLIM_INFINITY else min(hard, 1 << 20)
    resource.setrlimit(resource.RLIMIT_CORE, (given, hard))
    try:
        k = start_kernel(kernelspecs.add("dump", ["-w", "n1"]))
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))
    kernel = kernel_pid(k)
    node_shim = int(proc_status(kernel, "PPid"))
    with open(f"/proc/{node_shim}/cmdline", "rb") as f:
        assert b"\0--node\0" in f.read()
    with open(f"/proc/{k.shim_pid}/cmdline", "rb") as f:
        login_cmd = f.read()
    janitors = []
    for p in os.listdir("/proc"):
        if p.isdigit() and int(p) != k.shim_pid:
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    if f.read() == login_cmd:
                        janitors.append(int(p))
            except OSError:
                pass
    assert len(janitors) == 1, janitors
    shims = {"login shim": k.shim_pid, "janitor": janitors[0],
             "node shim": node_shim}

    for name, pid in shims.items():
        assert proc_status(pid, "Uid").split()[0] == str(MY_UID), name
        # Not dumpable: the kernel gives its private /proc files to root
        # (the directory itself stays the user's) ...
        assert os.stat(f"/proc/{pid}/environ").st_uid == 0, name
        # ... and refuses the same user its environment and memory.
        for what in ("environ", "mem"):
            try:
                with open(f"/proc/{pid}/{what}", "rb") as f:
                    f.read(1)
            except PermissionError:
                continue
            raise AssertionError(f"{name}: /proc/{pid}/{what} readable")
        assert core_limit(pid) == "0", name

    # The kernel is an ordinary process of the user again.
    assert os.stat(f"/proc/{kernel}/environ").st_uid == MY_UID
    with open(f"/proc/{kernel}/environ", "rb") as f:
        assert f.read()
    assert core_limit(kernel) == str(given)
