# SPDX-License-Identifier: GPL-2.0-or-later
"""noisekk.py - what link_peer.py and noise_peer.py share: Noise_KK_25519_
ChaChaPoly_BLAKE2b by dissononce (Debian's python3-dissononce), which shares
no code with common/link/.  A KK HandshakeState for either role, the
specification's Rekey, and Noise messages on a stream, each preceded by its
length in 2 bytes big-endian (the framing the specification suggests for
TCP).
"""

import sys

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


class Closed(Exception):
    """The other end closed the stream."""


def run(name, main):
    """Exits with main()'s status; with 4 and a line on stderr when the
    other end closed the stream."""
    try:
        sys.exit(main())
    except Closed:
        print(f"{name}: the other end closed the connection",
              file=sys.stderr)
        sys.exit(4)


def handshake(initiator, prologue, s_secret, rs):
    """A KK HandshakeState, initialised with the prologue, this end's static
    secret and the other end's static public key (bytes, 32 each)."""
    dh = X25519DH()
    hs = HandshakeState(
        SymmetricState(CipherState(ChaChaPolyCipher()), Blake2bHash()), dh)
    hs.initialize(KKHandshakePattern(), initiator, prologue,
                  s=dh.generate_keypair(PrivateKey(s_secret)),
                  rs=PublicKey(rs))
    return hs


def rekey(cs):
    """Rekey() as the specification (11.3) defines it.  dissononce 0.34.3's
    CipherState.rekey keeps all 48 bytes of ENCRYPT's output as the key (the
    next encryption then fails) and sets n to 0; the spec takes the first
    32 bytes and keeps n."""
    n = cs._nonce
    cs.initialize_key(cs.cipher.encrypt(cs._key, 2**64 - 1, b"",
                                        bytes(32))[:32])
    cs.set_nonce(n)


class Framed:
    """Noise messages on a stream: read(n) returns at most n bytes (b"" at
    the end), write(b) writes all of b."""

    def __init__(self, read, write):
        self.read, self.write = read, write

    def read_exact(self, n):
        b = b""
        while len(b) < n:
            chunk = self.read(n - len(b))
            if not chunk:
                raise Closed()
            b += chunk
        return b

    def recv_msg(self):
        return self.read_exact(int.from_bytes(self.read_exact(2), "big"))

    def send_msg(self, m):
        self.write(len(m).to_bytes(2, "big") + bytes(m))
