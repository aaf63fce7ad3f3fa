# SPDX-License-Identifier: GPL-2.0-or-later
"""The MUNGE rendezvous refuses what did not come from the user's own shim
or plugin: credentials made by another uid, replayed, expired, or meant for
another kernel.  Each refusal is a clear line for whoever reads the log.

On the node side the test plays the login shim (fakeshim.Step); each test
first shows that an honest WELCOME from it is accepted, so that a refusal
is the plugin's judgement of the one thing that was changed.
"""
import os
import re
import socket
import subprocess
import time

import pytest

import fakeshim
from conftest import (INSPECT, LOGIN_ADDR, MY_UID, OTHER_UID, STATE,
                      is_loopback, listeners, run_cell, wait_until)


def slurmd_log(node):
    with open(f"{STATE}/log/slurmd-{node}.log", errors="replace") as f:
        return f.read()


def assert_refused(r, step, why):
    """srun failed, its task never ran, and both the user (srun's stderr)
    and the admin (the node's slurmd log) read why."""
    assert r.returncode != 0, r
    assert r.stdout == "", f"the task ran: {r.stdout!r}"
    line = [x for x in r.stderr.splitlines() if "spank_jupyter" in x]
    assert line and re.search(why, line[0]) and "refused" in line[0], \
        r.stderr
    tag = f"[{step.hello['job_id']}.{step.hello['step_id']}]"
    wait_until(lambda: any(tag in x and re.search(why, x)
                           for x in slurmd_log(step.node).splitlines()),
               30, f"the refusal of {tag} in slurmd-{step.node}.log")


def honest(hello):
    return fakeshim.seal(fakeshim.welcome_for(hello))


def test_honest_welcome_accepted():
    r = fakeshim.Step(honest).run()
    assert r.returncode == 0, r.stderr
    assert r.stdout == "n1\n"


def test_forged_rendezvous_refused():
    """A WELCOME made by another user (sjother), meant for this user."""
    assert fakeshim.Step(honest).run().returncode == 0
    step = fakeshim.Step(lambda h: fakeshim.seal(fakeshim.welcome_for(h),
                                                 by_other=True))
    r = step.run()
    assert_refused(r, step, rf"made by uid {OTHER_UID}\b")


def test_replayed_rendezvous_refused():
    """The same valid WELCOME credential, offered to a second step with the
    same rendezvous nonce."""
    sent = []

    def first(hello):
        sent.append(honest(hello))
        return sent[0]

    shared = fakeshim.nonce()
    r = fakeshim.Step(first, nonce_=shared).run()
    assert r.returncode == 0, r.stderr
    step = fakeshim.Step(lambda h: sent[0], nonce_=shared)
    assert_refused(step.run(), step, r"replayed")


def test_expired_rendezvous_refused():
    def stale(hello):
        cred = fakeshim.seal(fakeshim.welcome_for(hello), ttl=1)
        time.sleep(3)       # past the credential's time to live
        return cred

    assert fakeshim.Step(honest).run().returncode == 0
    step = fakeshim.Step(stale)
    assert_refused(step.run(), step, r"expired")


def test_welcome_for_another_kernel_refused():
    """Made by the right user, but answering another rendezvous."""
    assert fakeshim.Step(honest).run().returncode == 0
    step = fakeshim.Step(lambda h: fakeshim.seal(
        fakeshim.welcome_for(h, nonce_=fakeshim.nonce())))
    assert_refused(step.run(), step, r"nonce")


def test_mixed_install_refused():
    """A login shim of the previous release answers: its rendezvous version
    (sjrdv=4) wrote "key=value" lines, not JSON.  The plugin refuses its
    WELCOME with the message that says so, before any link is made."""
    def old(hello):
        fields = fakeshim.welcome_fields(hello)
        fields["client_key"] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
        return fakeshim.seal(fakeshim.encode_v4("welcome", fields))

    step = fakeshim.Step(old)
    assert_refused(step.run(), step,
                   r'unsupported version "sjrdv=4" \(this end speaks '
                   r'sjrdv=5\)')


@pytest.fixture
def node_held():
    """hold(node): the node fully allocated to another job until release()."""
    held = []

    def hold(node):
        r = subprocess.run(["salloc", "--no-shell", "--exclusive", "-w", node,
                            "-t", "5", "-J", "sj-test-hold"],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Granted job allocation (\d+)", r.stderr)
        assert r.returncode == 0 and m, r.stderr
        held.append(m.group(1))
        return lambda: subprocess.run(["scancel", m.group(1)], check=True)

    yield hold
    for job in held:
        subprocess.run(["scancel", job])


def test_login_shim_refuses_forged_hello(kernelspecs, start_kernel,
                                         node_held):
    """While the kernel's allocation is pending, HELLOs arrive at the login
    shim's rendezvous port before the plugin's: one made by sjother, one
    for another kernel, that one again, and one of the previous release.
    The shim refuses each with a line in the server log, answers none of
    them, and the kernel starts."""
    release = node_held("n3")
    k = start_kernel(kernelspecs.add("forged-hello", ["-w", "n3"]),
                     wait=False)

    def rendezvous_port():
        ports = [s.port for s in listeners("login")
                 if s.kind == "tcp" and not is_loopback(s.addr) and
                 k.shim_pid in (p for _, p in s.procs)]
        assert len(ports) <= 1, ports
        return ports[0] if ports else None

    port = wait_until(rendezvous_port, 60, "the shim's rendezvous port")
    mine = fakeshim.seal(fakeshim.hello())
    forged = [fakeshim.seal(fakeshim.hello(), by_other=True), mine, mine]
    conns = []
    # A plugin of the previous release, whose HELLO is "key=value" text.
    forged.append(fakeshim.seal(fakeshim.encode_v4(
        "hello", fakeshim.hello_fields())))
    for cred in forged:
        c = socket.create_connection((LOGIN_ADDR, port), timeout=60)
        fakeshim.send_frame(c, cred)
        conns.append(c)

    release()
    k.wait_ready()
    node, _, _ = k.where()
    assert node == "n3"
    for c in conns:
        with c:
            assert c.recv(4096) == b"", "the shim answered a forged HELLO"

    refusals = [x for x in k.shim_log().splitlines() if "refused" in x]
    assert len(refusals) == 4, k.shim_log()
    assert re.search(rf"uid {OTHER_UID}\b.*\b{MY_UID}\b", refusals[0]), \
        refusals
    assert "nonce" in refusals[1], refusals
    assert "replayed" in refusals[2], refusals
    assert 'unsupported version "sjrdv=4" (this end speaks sjrdv=5)' in \
        refusals[3], refusals


STRANGER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "rdv_stranger.py")


def test_rendezvous_under_strangers_connections(kernelspecs, start_kernel,
                                                tmp_path):
    """sjother reads the rendezvous port in the argv of our srun and, before
    the step is launched (an srun prolog holds it until he is in place),
    sends three frames that are no HELLO, then holds 5 silent connections
    open, opening another whenever the shim closes one; the step is
    launched once he had to.  The kernel starts and runs a cell; the
    server log names the first few refusals, then only counts the
    others."""
    gate = tmp_path / "gate"
    prolog = tmp_path / "hold-step"
    prolog.write_text("#!/bin/sh\n"
                      "# srun runs this before it launches the step.\n"
                      "i=0\n"
                      f"while [ ! -e {gate} ] && [ $i -lt 1200 ]; do\n"
                      "\tsleep 0.1; i=$((i + 1))\ndone\n")
    prolog.chmod(0o755)
    stranger = subprocess.Popen(
        INSPECT + ["as-other", "/usr/bin/python3", STRANGER, str(MY_UID),
                   LOGIN_ADDR],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    said = []
    try:
        k = start_kernel(kernelspecs.add(
            "strangers", ["-w", "n1"],
            shim_args=("--linger=0", f"--srun-arg=--prolog={prolog}")),
            wait=False)
        for _ in range(3):
            said.append(stranger.stdout.readline())
        # The shim closed a silent connection (its deadline) and he
        # opened another: he holds five open as the step launches.
        assert said[0].startswith("port ") and \
            said[1:] == ["ready\n", "renewed\n"], said
        gate.touch()
        k.wait_ready()
        content, out, _ = run_cell(k.kc, "print(6 * 7)")
        assert content["status"] == "ok" and out == "42\n", (content, out)
    finally:
        gate.touch()
        # Closes its stdin: he lets go.  He waits 60 s at most for each
        # thing he expects, so this ends even when the test failed.
        rest, err = stranger.communicate(timeout=300)
        print("stranger:", said, rest, err)
    assert stranger.returncode == 0, err
    opened = int(re.fullmatch(r"opened (\d+)\n", rest).group(1))

    log = k.shim_log()
    full = re.findall(r"rendezvous connection from (\S+) refused: (.*)", log)
    counts = [int(n) for n in
              re.findall(r"\((\d+) lines about refused connections were "
                         r"not written", log)]
    # The three frames, refused in the order they came, each before the
    # next was sent: the 4 GiB one and the 5000-byte one at their length.
    # (Five a minute are written in full: see common/base/ratelimit.h.)
    assert len(full) >= 5, log
    assert all(peer.startswith(LOGIN_ADDR + ":") for peer, _ in full), log
    assert "bad frame magic" in full[0][1], log
    assert "frame of 4294967295 bytes exceeds the limit of 4096" in \
        full[1][1], log
    assert "frame of 5000 bytes exceeds the limit of 4096" in full[2][1], log
    # Then the silent ones: past their deadline (one before the step was
    # launched), or open at the end.
    assert full[3][1] == "nothing came within 3000 ms", log
    assert re.fullmatch(r"nothing came within 3000 ms|"
                        r"the rendezvous is over", full[4][1]), log
    # Every other refusal is in a count; none was counted twice.
    assert counts, log
    assert 3 + 5 <= len(full) + sum(counts) <= opened, (opened, log)
