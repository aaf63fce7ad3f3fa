# SPDX-License-Identifier: GPL-2.0-or-later
"""The link is Noise_KK_25519_ChaChaPoly_BLAKE2b: another implementation of
Noise (dissononce, Debian's python3-dissononce) plays the login shim against
the real node shim's relay on a compute node.

The test is the login shim from the rendezvous on (fakeshim): it answers
the plugin's HELLO with a WELCOME that names a static key of its own, so it
holds what the login shim would hold.  It then speaks the link of
docs/link.md with dissononce doing every part that is Noise's, asks the
kernel for its kernel_info and reads the answer; and with a static key the
node shim was not told of, it is refused at Noise's first message.
"""
import socket
import struct
import subprocess
import threading

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

import fakeshim
from conftest import LOGIN_ADDR, PYTHON_KERNEL, SHIM, wait_until

MAGIC = b"SJL3"
HMAC_KEY = "noise-interop-hmac-key"
SHELL, IOPUB = 0, 1
HELLO = struct.pack(">I", 1) + b"\x80"
ROUTING_ID = b"dissononce"


class NodeShim:
    """srun --jupyter-kernel=... slurm-jupyter-shim --node -- ipykernel,
    with this test as the login shim in the rendezvous."""

    def __init__(self, node="n1"):
        self.node = node
        self.pub, self.sec = nacl.crypto_box_keypair()
        self.hello = None
        self.error = None
        self.got_hello = threading.Event()

    def _welcome(self, hello):
        return fakeshim.encode("welcome", {
            "nonce": hello["nonce"], "node_nonce": hello["node_nonce"],
            "key": HMAC_KEY, "signature_scheme": "hmac-sha256",
            "client_key": self.pub.hex(),
            "transport": "default",
        })

    def _serve(self, listener):
        try:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(60)
                self.hello = fakeshim.decode(
                    fakeshim.unseal(fakeshim.recv_frame(conn)))
                fakeshim.send_frame(conn,
                                    fakeshim.seal(self._welcome(self.hello)))
        except Exception as e:              # reported by the test
            self.error = e
        finally:
            self.got_hello.set()

    def __enter__(self):
        self.listener = socket.create_server((LOGIN_ADDR, 0))
        self.listener.settimeout(60)
        port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve,
                                       args=(self.listener,))
        self.thread.start()
        nonce = fakeshim.nonce()
        self.srun = subprocess.Popen(
            ["srun", "-N1", "-n1", "-w", self.node,
             f"--jupyter-kernel={LOGIN_ADDR}:{port}:{nonce}",
             SHIM, "--node", "--", *PYTHON_KERNEL],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.got_hello.wait(120)
        self.thread.join(60)
        assert self.error is None, f"fake login shim: {self.error!r}"
        assert self.hello is not None, "the plugin never called back"
        return self

    def __exit__(self, *exc):
        self.srun.terminate()
        try:
            _, self.log = self.srun.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.srun.kill()
            _, self.log = self.srun.communicate()
        self.listener.close()

    def prologue(self):
        h = self.hello
        return (b"spank-jupyter link" + MAGIC + bytes.fromhex(h["nonce"]) +
                bytes.fromhex(h["node_nonce"]) +
                struct.pack(">II", int(h["job_id"]), int(h["step_id"])))


class Link:
    """The login shim's end of the link, by dissononce."""

    def __init__(self, shim, static_sec):
        dh = X25519DH()
        self.hs = HandshakeState(
            SymmetricState(CipherState(ChaChaPolyCipher()), Blake2bHash()),
            dh)
        self.hs.initialize(
            KKHandshakePattern(), True, shim.prologue(),
            s=dh.generate_keypair(PrivateKey(static_sec)),
            rs=PublicKey(bytes.fromhex(shim.hello["server_key"])))
        self.sock = socket.create_connection(
            (shim.hello["addr"], int(shim.hello["relay_port"])), timeout=60)
        self.stream = b""

    def read_exact(self, n):
        b = b""
        while len(b) < n:
            d = self.sock.recv(n - len(b))
            if not d:
                raise EOFError(f"the relay closed after {len(b)} of {n} "
                               "bytes")
            b += d
        return b

    def recv_msg(self):
        return self.read_exact(struct.unpack(">H", self.read_exact(2))[0])

    def send_msg(self, m):
        self.sock.sendall(struct.pack(">H", len(m)) + bytes(m))

    def handshake(self):
        msg1 = bytearray()
        self.hs.write_message(b"", msg1)
        self.sock.sendall(MAGIC)
        self.send_msg(msg1)
        assert self.read_exact(4) == MAGIC
        payload = bytearray()
        self.tx, self.rx = self.hs.read_message(self.recv_msg(), payload)
        assert payload == b""

    def send_record(self, kind, frames):
        plain = bytes([kind]) + b"".join(struct.pack(">I", len(f)) + f
                                         for f in frames)
        self.send_msg(self.tx.encrypt_with_ad(
            b"", struct.pack(">I", len(plain)) + plain))

    def recv_record(self):
        """(kind, frames) of the next record: whole messages only here."""
        while len(self.stream) < 4 or len(self.stream) < \
                4 + struct.unpack(">I", self.stream[:4])[0]:
            self.stream += self.rx.decrypt_with_ad(b"", self.recv_msg())
        n = struct.unpack(">I", self.stream[:4])[0]
        rec, self.stream = self.stream[4:4 + n], self.stream[4 + n:]
        frames, entries = [], rec[1:]
        while entries:
            ln = struct.unpack(">I", entries[:4])[0]
            assert ln < 0x40000000, "a message in parts"
            frames.append(entries[4:4 + ln])
            entries = entries[4 + ln:]
        return rec[0], frames


def test_dissononce_as_the_login_shim():
    with NodeShim("n1") as shim:
        link = Link(shim, shim.sec)
        link.handshake()
        link.send_msg(link.tx.encrypt_with_ad(b"", HELLO))
        session = Session(key=HMAC_KEY.encode(),
                          signature_scheme="hmac-sha256")
        request = session.msg("kernel_info_request", {})
        link.send_record(SHELL, [ROUTING_ID, *session.serialize(request)])
        link.send_record(IOPUB, [b"\x01"])      # subscribe to everything

        def reply():
            kind, frames = link.recv_record()
            if kind != SHELL:
                return None
            return frames
        frames = wait_until(reply, 120, "the kernel's kernel_info_reply")
        assert frames[0] == ROUTING_ID
        _, msg = session.feed_identities(frames[1:])
        msg = session.deserialize(msg)
        assert msg["msg_type"] == "kernel_info_reply"
        assert msg["parent_header"]["msg_id"] == request["header"]["msg_id"]
        assert msg["content"]["status"] == "ok"
        link.sock.close()

        # A static key the node shim was not told of, everything else
        # right: its greeting, then the connection closed.
        other_pub, other_sec = nacl.crypto_box_keypair()
        stranger = Link(shim, other_sec)
        try:
            stranger.handshake()
            raise AssertionError("the relay answered Noise's first message "
                                 "of a stranger")
        except EOFError as e:
            assert "after 0 of 2 bytes" in str(e), e
        finally:
            stranger.sock.close()
    assert "it does not hold the login shim's key" in shim.log, shim.log
