#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""noise_peer.py ROLE S_SECRET RS PROLOGUE - the other end of
test_noise_interop.c: Noise_KK_25519_ChaChaPoly_BLAKE2b by dissononce, an
implementation that shares no code with common/link/noise.c.

ROLE is initiator or responder; S_SECRET (this end's static secret), RS
(the other end's static public key) and PROLOGUE are hex.  It talks on
file descriptor 3, each Noise message preceded by its length, 2 bytes
big-endian (the framing the Noise specification suggests for TCP).

The script: the KK handshake, each handshake payload saying who sent it;
then its first transport message is its handshake hash; then it answers
every transport message P with b"echo:" + P reversed.  After answering
b"rekey", it rekeys both its cipher states; after answering b"bye" it exits
0.  A handshake message that fails to decrypt (the other end does not hold
the key expected of it): "noise_peer: refused" on stderr, exit 3.  The
other end closing early: exit 4.
"""
import os
import sys

from dissononce.cipher.chachapoly import ChaChaPolyCipher
from dissononce.dh.keypair import KeyPair
from dissononce.dh.x25519.private import PrivateKey
from dissononce.dh.x25519.public import PublicKey
from dissononce.dh.x25519.x25519 import X25519DH
from dissononce.exceptions.decrypt import DecryptFailedException
from dissononce.hash.blake2b import Blake2bHash
from dissononce.processing.handshakepatterns.interactive.KK import \
    KKHandshakePattern
from dissononce.processing.impl.cipherstate import CipherState
from dissononce.processing.impl.handshakestate import HandshakeState
from dissononce.processing.impl.symmetricstate import SymmetricState

FD = 3


class Closed(Exception):
    pass


def read_exact(n):
    b = b""
    while len(b) < n:
        chunk = os.read(FD, n - len(b))
        if not chunk:
            raise Closed()
        b += chunk
    return b


def recv():
    n = int.from_bytes(read_exact(2), "big")
    return read_exact(n)


def send(msg):
    data = len(msg).to_bytes(2, "big") + bytes(msg)
    while data:
        data = data[os.write(FD, data):]


def rekey(cs):
    """Rekey() as the specification (11.3) defines it.  dissononce 0.34.3's
    CipherState.rekey keeps all 48 bytes of ENCRYPT's output as the key (the
    next encryption then fails) and sets n to 0; the spec takes the first
    32 bytes and keeps n."""
    n = cs._nonce
    cs.initialize_key(cs.cipher.encrypt(cs._key, 2**64 - 1, b"", bytes(32))[:32])
    cs.set_nonce(n)


def main():
    role, s_secret, rs, prologue = sys.argv[1:5]
    initiator = role == "initiator"
    dh = X25519DH()
    s = dh.generate_keypair(PrivateKey(bytes.fromhex(s_secret)))
    hs = HandshakeState(
        SymmetricState(CipherState(ChaChaPolyCipher()), Blake2bHash()), dh)
    hs.initialize(KKHandshakePattern(), initiator, bytes.fromhex(prologue),
                  s=s, rs=PublicKey(bytes.fromhex(rs)))
    me = b"dissononce " + role.encode()
    other = b"common/link/noise.c " + (b"responder" if initiator else b"initiator")
    try:
        if initiator:
            buf = bytearray()
            hs.write_message(me, buf)
            send(buf)
            payload = bytearray()
            cs = hs.read_message(recv(), payload)
        else:
            payload = bytearray()
            hs.read_message(recv(), payload)
            buf = bytearray()
            cs = hs.write_message(me, buf)
            send(buf)
    except DecryptFailedException:
        print("noise_peer: refused: a handshake message failed to decrypt",
              file=sys.stderr)
        return 3
    if bytes(payload) != other:
        print("noise_peer: handshake payload %r, expected %r" %
              (bytes(payload), other), file=sys.stderr)
        return 1
    tx, rx = cs if initiator else (cs[1], cs[0])
    send(tx.encrypt_with_ad(b"", hs.symmetricstate.get_handshake_hash()))
    while True:
        p = rx.decrypt_with_ad(b"", recv())
        send(tx.encrypt_with_ad(b"", b"echo:" + p[::-1]))
        if p == b"rekey":
            rekey(tx)
            rekey(rx)
        elif p == b"bye":
            return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Closed:
        print("noise_peer: the other end closed the connection",
              file=sys.stderr)
        sys.exit(4)
