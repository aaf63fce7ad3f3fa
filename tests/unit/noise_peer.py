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

from dissononce.exceptions.decrypt import DecryptFailedException

from noisekk import Framed, handshake, rekey, run

FD = 3


def write_all(data):
    while data:
        data = data[os.write(FD, data):]


def main():
    role, s_secret, rs, prologue = sys.argv[1:5]
    initiator = role == "initiator"
    hs = handshake(initiator, bytes.fromhex(prologue),
                   bytes.fromhex(s_secret), bytes.fromhex(rs))
    peer = Framed(lambda n: os.read(FD, n), write_all)
    send, recv = peer.send_msg, peer.recv_msg
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
    run("noise_peer", main)
