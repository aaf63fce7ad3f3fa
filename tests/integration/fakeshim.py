# SPDX-License-Identifier: GPL-2.0-or-later
"""The rendezvous as common/rendezvous/rendezvous.h describes it, spoken by the tests.

A test plays either side: the login shim (to hand the plugin a forged or
replayed WELCOME) or the plugin (to hand a login shim a forged HELLO).  On
the wire each message is "SJR1", a 4-byte big-endian length and a MUNGE
credential; inside are the line "sjrdv=5" and one JSON object with the
message's "type" and fields.  The credentials are made and opened with the
munge and unmunge commands, as the test user or (through sj-inspect) as
sjother.  encode_v4 writes the previous release's messages, to show that
they are refused by name.
"""
import json
import secrets
import socket
import struct
import subprocess
import threading

from conftest import INSPECT, LOGIN_ADDR, MY_UID

MAGIC = b"SJR1"


def encode(kind, fields):
    return "sjrdv=5\n" + json.dumps({"type": kind, **fields})


def decode(text):
    version, body = text.split("\n", 1)
    assert version == "sjrdv=5", text
    return json.loads(body)


def encode_v4(kind, fields):
    """The previous release's text: "key=value" lines, %XX escapes."""
    def escape(value):
        return "".join(c if c != "%" and 0x20 <= ord(c) < 0x7f
                       else "%%%02X" % ord(c) for c in value)
    return (f"sjrdv=4\ntype={kind}\n" +
            "".join(f"{k}={escape(str(v))}\n" for k, v in fields.items()))


def public_key():
    """A link key as the rendezvous carries it: any 32 bytes, in hex."""
    return secrets.token_hex(32)


def seal(payload, by_other=False, ttl=None):
    """A credential only the test user can open, made by the test user or
    by sjother."""
    cmd = ["munge", "-u", str(MY_UID)]
    if ttl is not None:
        cmd += ["-t", str(ttl)]
    if by_other:
        cmd = INSPECT + ["as-other"] + cmd
    r = subprocess.run(cmd, input=payload, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, f"{cmd}: {r.stderr}"
    return r.stdout.strip()


def unseal(cred):
    r = subprocess.run(["unmunge", "-m", "/dev/null"], input=cred,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"unmunge: {r.stderr}"
    return r.stdout


def send_frame(sock, cred):
    data = cred.encode()
    sock.sendall(MAGIC + struct.pack(">I", len(data)) + data)


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"peer closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def recv_frame(sock):
    head = _recv_exact(sock, 8)
    assert head[:4] == MAGIC, head
    return _recv_exact(sock, struct.unpack(">I", head[4:])[0]).decode()


def nonce():
    return secrets.token_hex(16)


def welcome_fields(hello, nonce_=None):
    return {
        "nonce": nonce_ or hello["nonce"],
        "node_nonce": hello["node_nonce"],
        "key": "0123456789abcdef-fake-hmac-key",
        "signature_scheme": "hmac-sha256",
        "client_key": public_key(),
        "transport": "default",
    }


def welcome_for(hello, nonce_=None):
    """The WELCOME a login shim would send in answer to hello."""
    return encode("welcome", welcome_fields(hello, nonce_))


def hello_fields(node="n3", nonce_=None):
    return {
        "nonce": nonce_ or nonce(), "node_nonce": nonce(), "node": node,
        "addr": f"10.77.0.{10 + int(node[1:])}",
        "relay_port": 40001,
        "server_key": public_key(),
        "job_id": 1, "step_id": 0,
    }


def hello(node="n3", nonce_=None):
    """A HELLO as a plugin on node would send it."""
    return encode("hello", hello_fields(node, nonce_))


class Step:
    """srun --jupyter-kernel=LOGIN:PORT:NONCE hostname, with this test as
    the login shim: answer(hello) gives the credential to send back."""

    def __init__(self, answer, node="n1", nonce_=None):
        self.answer, self.node = answer, node
        self.nonce = nonce_ or nonce()
        self.hello = None
        self.error = None

    def _serve(self, listener):
        try:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(60)
                self.hello = decode(unseal(recv_frame(conn)))
                send_frame(conn, self.answer(self.hello))
                try:
                    while conn.recv(4096):  # until the plugin hangs up
                        pass
                except ConnectionResetError:
                    pass
        except Exception as e:              # reported by run()
            self.error = e

    def run(self):
        with socket.create_server((LOGIN_ADDR, 0)) as listener:
            listener.settimeout(60)
            port = listener.getsockname()[1]
            t = threading.Thread(target=self._serve, args=(listener,))
            t.start()
            try:
                r = subprocess.run(
                    ["srun", "-N1", "-n1", "-w", self.node,
                     f"--jupyter-kernel={LOGIN_ADDR}:{port}:{self.nonce}",
                     "hostname"],
                    capture_output=True, text=True, timeout=120)
            finally:
                t.join(90)
        assert self.error is None, f"fake login shim: {self.error!r}"
        assert self.hello is not None, \
            f"the plugin never called back: {r.stderr}"
        return r
