#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""link_peer.py ROLE S_SECRET RS PROLOGUE REKEY_EVERY [PORT] - the other end
of test_link_interop.c: the link of docs/link.md, its Noise part done by
dissononce (Debian's python3-dissononce), which shares no code with
common/link/noise.c or common/link/link.c.

ROLE is client (the login shim's part, Noise's initiator: connects to
127.0.0.1:PORT) or server (the node shim's: accepts one connection on the
listening socket that is file descriptor 3).  S_SECRET (this end's static
secret), RS (the other end's static public key) and PROLOGUE are hex;
REKEY_EVERY is how many transport messages each direction sends between
Rekeys.

The script: the greetings and the KK handshake; the client sends its HELLO
record, then a shell message of two frames, b"dissononce" and b"hello".
Then each end answers every message record it gets with one of the same
kind whose frames are b"echo" and the frames it got; after answering one
whose last frame is b"bye" it exits 0.  The other end's handshake message
failing to decrypt: "link_peer: refused" on stderr, exit 3.  The other end
closing: exit 4.
"""
import socket
import struct
import sys

from dissononce.exceptions.decrypt import DecryptFailedException

from noisekk import Framed, handshake, rekey, run

GREETING = b"SJL3"
HELLO = b"\x80"


class Link(Framed):
    def __init__(self, sock, every):
        super().__init__(sock.recv, sock.sendall)
        self.sock, self.every = sock, every
        self.tx = self.rx = None
        self.sent = self.got = 0
        self.stream = b""

    def send_plain(self, plain):
        """Our records, in transport messages of at most 65535 bytes."""
        while plain:
            chunk, plain = plain[:65519], plain[65519:]
            if self.sent and self.sent % self.every == 0:
                rekey(self.tx)
            self.send_msg(self.tx.encrypt_with_ad(b"", chunk))
            self.sent += 1

    def recv_record(self):
        while len(self.stream) < 4 or \
                len(self.stream) < 4 + struct.unpack(">I", self.stream[:4])[0]:
            if self.got and self.got % self.every == 0:
                rekey(self.rx)
            self.stream += self.rx.decrypt_with_ad(b"", self.recv_msg())
            self.got += 1
        n = struct.unpack(">I", self.stream[:4])[0]
        rec, self.stream = self.stream[4:4 + n], self.stream[4 + n:]
        return rec


def record(kind, frames):
    plain = bytes([kind]) + b"".join(struct.pack(">I", len(f)) + f
                                     for f in frames)
    return struct.pack(">I", len(plain)) + plain


def frames_of(entries):
    out = []
    while entries:
        n = struct.unpack(">I", entries[:4])[0]
        assert n < 0x40000000, "START or PIECE entries: not sent here"
        out.append(entries[4:4 + n])
        entries = entries[4 + n:]
    return out


def main():
    role, s_secret, rs, prologue, every = sys.argv[1:6]
    client = role == "client"
    if client:
        sock = socket.create_connection(("127.0.0.1", int(sys.argv[6])))
    else:
        lsock = socket.socket(fileno=3)
        sock, _ = lsock.accept()
        lsock.close()
    hs = handshake(client, bytes.fromhex(prologue), bytes.fromhex(s_secret),
                   bytes.fromhex(rs))
    link = Link(sock, int(every))
    sock.sendall(GREETING)
    try:
        if client:
            buf = bytearray()
            hs.write_message(b"", buf)
            link.send_msg(buf)
        if link.read_exact(4) != GREETING:
            print("link_peer: not the link's greeting", file=sys.stderr)
            return 1
        payload = bytearray()
        cs = hs.read_message(link.recv_msg(), payload)
        if not client:
            buf = bytearray()
            cs = hs.write_message(b"", buf)
            link.send_msg(buf)
    except DecryptFailedException:
        print("link_peer: refused: a handshake message failed to decrypt",
              file=sys.stderr)
        return 3
    assert bytes(payload) == b"", payload
    link.tx, link.rx = cs if client else (cs[1], cs[0])
    if client:
        link.send_plain(struct.pack(">I", 1) + HELLO)
        link.send_plain(record(0, [b"dissononce", b"hello"]))
    elif link.recv_record() != HELLO:
        print("link_peer: the client did not begin with a HELLO",
              file=sys.stderr)
        return 1
    while True:
        rec = link.recv_record()
        frames = frames_of(rec[1:])
        link.send_plain(record(rec[0], [b"echo"] + frames))
        if frames and frames[-1] == b"bye":
            sock.shutdown(socket.SHUT_WR)
            # Until the other end has read it all and closed.
            while sock.recv(65536):
                pass
            return 0


if __name__ == "__main__":
    run("link_peer", main)
