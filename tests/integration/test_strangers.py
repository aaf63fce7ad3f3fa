# SPDX-License-Identifier: GPL-2.0-or-later
"""Another user on the login node against a user's kernel (issue 13): the
login shim's ports give a stranger nothing, where a local kernel's would
take anyone's connection."""
import json
import os
import re
import subprocess
import sys

from conftest import (INSPECT, LOGIN_ADDR, MY_UID, OTHER_UID, kernel_json,
                      node_addr, run_cell, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
STRANGER = [sys.executable, os.path.join(HERE, "stranger.py")]


def shim_ports(k):
    info = k.km.get_connection_info()
    return {name: info[f"{name}_port"]
            for name in ("shell", "iopub", "stdin", "control", "hb")}


def test_login_ports_refuse_other_users(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("strangers", ["-w", "n1"]))
    ports = shim_ports(k)
    assert k.km.get_connection_info()["ip"] == "127.0.0.1"

    # The stranger finds the victim's listening ports as anyone can, in
    # /proc/net/tcp, and knocks on each: closed at once, not a byte.
    r = subprocess.run(INSPECT + ["as-other"] + STRANGER +
                       ["probe", str(MY_UID)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    probed = {int(p): v for p, v in json.loads(r.stdout).items()}
    for name, port in ports.items():
        assert probed.get(port) == {"bytes": 0, "closed": True}, \
            (name, port, probed)
    # The owner's own client of the same kind gets the ZMTP greeting:
    # the probe can tell an open port from a refusing one.
    mine = json.loads(subprocess.run(
        STRANGER + ["probe", str(MY_UID)], capture_output=True, text=True,
        timeout=120, check=True).stdout)
    assert mine[str(ports["shell"])]["bytes"] >= 10, mine

    # The stranger subscribes to iopub while the victim's cell prints:
    # nothing reaches it.  The owner's own subscriber, the same script,
    # gets the output.
    listen = ["listen", str(ports["iopub"]), "8"]
    other = subprocess.Popen(INSPECT + ["as-other"] + STRANGER + listen,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    own = subprocess.Popen(STRANGER + listen, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    content, out, _ = run_cell(
        k.kc, "import time\nfor i in range(40):\n"
        "    print('secret', i, flush=True)\n    time.sleep(0.1)")
    assert content["status"] == "ok" and "secret 39" in out
    o_out, o_err = other.communicate(timeout=60)
    m_out, m_err = own.communicate(timeout=60)
    assert other.returncode == 0 and own.returncode == 0, (o_err, m_err)
    assert json.loads(o_out) == [], o_out[:2000]
    assert "secret" in m_out

    # The victim's kernel is as it was, and the server log says what was
    # refused, rate-limited: at most five lines a minute and a count.
    content, out, _ = run_cell(k.kc, "print(6 * 7)")
    assert out == "42\n"
    refused = re.compile(r"a client of uid %d refused: only the kernel's "
                         r"owner \(uid %d\) may connect" % (OTHER_UID,
                                                            MY_UID))
    wait_until(lambda: refused.search(k.shim_log()), 30,
               "the refusal in the server log")
    assert len(refused.findall(k.shim_log())) <= 5, k.shim_log()


def test_relay_takes_only_the_login_shims_address(kernelspecs, start_kernel):
    """The node shim takes the link from the address its rendezvous came
    from: another user on another node gets the connection closed before
    a byte, where before it got the relay's greeting."""
    k = start_kernel(kernelspecs.add("relay-addr", ["-w", "n2"]))
    relay = kernel_json(
        k.kc, f"json.load(open({k.step_dir() + '/relay.json'!r}))")
    assert relay["login_address"] == LOGIN_ADDR
    knock = STRANGER + ["knock", relay["address"], str(relay["port"])]
    r = subprocess.run(INSPECT + ["as-other-on", "n3"] + knock,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"bytes": 0, "closed": True}
    # From the login host the same knock is answered (and then refused by
    # its key, as test_relay_refuses_strangers shows): the probe can tell.
    mine = json.loads(subprocess.run(knock, capture_output=True, text=True,
                                     timeout=60, check=True).stdout)
    assert mine["bytes"] == 4, mine  # the greeting, "SJL3"

    # 512 MiB of junk at the relay, from another node and from the login
    # host: the connection is closed long before, and the node shim's
    # memory does not notice.
    node_shim = kernel_json(k.kc, "os.getppid()")
    stream = STRANGER + ["stream", relay["address"], str(relay["port"]),
                         "512"]
    for where in (["as-other-on", "n3"], ["as-other"]):
        r = subprocess.run(INSPECT + where + stream, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["sent_mib"] < 64, (where, r.stdout)
    assert vm_hwm_mib(node_shim) < 64

    content, out, _ = run_cell(k.kc, "print(6 * 7)")
    assert out == "42\n"
    line = re.compile(r"link: refused %s:\d+: not the login shim's address "
                      r"\(%s\)" % (re.escape(node_addr("n3")),
                                    re.escape(LOGIN_ADDR)))
    wait_until(lambda: line.search(k.shim_log()), 30,
               "the refusal in the server log")


def vm_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        kib = int(re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M).group(1))
    return kib / 1024


def test_queues_bounded_under_a_flood(kernelspecs, start_kernel):
    """A client that sends faster than the kernel reads (512 MiB at the
    shell port while the kernel sleeps in a cell) is slowed down, not
    buffered: both shims stay far below what was sent, and the kernel
    goes on afterwards.  Before the bounds, the node shim held all of it."""
    import threading
    import zmq

    k = start_kernel(kernelspecs.add("flood", ["-w", "n3"]))
    node_shim = kernel_json(k.kc, "os.getppid()")
    msg_id = k.kc.execute("import time; time.sleep(20)")
    ctx = zmq.Context()
    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.setsockopt(zmq.SNDTIMEO, 3000)
    dealer.connect(f"tcp://127.0.0.1:{shim_ports(k)['shell']}")
    junk = os.urandom(256 << 10)
    sent = [0]

    def flood():
        for _ in range(2048):		# 512 MiB
            try:
                dealer.send_multipart([b"<IDS|MSG>", b"junk", junk])
            except zmq.Again:
                break		# the shims stopped taking more
            sent[0] += len(junk)

    t = threading.Thread(target=flood)
    t.start()
    t.join(60)
    assert not t.is_alive()
    login_mib, node_mib = vm_hwm_mib(k.shim_pid), vm_hwm_mib(node_shim)
    print(f"flood: {sent[0] >> 20} MiB taken from the client; peak "
          f"resident login shim {login_mib:.1f} MiB, node shim "
          f"{node_mib:.1f} MiB")
    assert login_mib < 64 and node_mib < 64, (login_mib, node_mib)
    dealer.close()
    ctx.term()

    reply = k.kc.get_shell_msg(timeout=120)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = k.kc.get_shell_msg(timeout=120)
    assert reply["content"]["status"] == "ok"
    content, out, _ = run_cell(k.kc, "print(6 * 7)", timeout=300)
    assert out == "42\n"


def test_clients_on_another_host_must_sign(kernelspecs, tmp_path):
    """With a connection file whose address other hosts reach, a client on
    another host has no uid the login shim could learn: its requests go
    on only with the connection file's signature.  The user's own client
    there, with the key, is answered; another user's, without it, is not,
    and is dropped after three."""
    import jupyter_client

    name = kernelspecs.add("remote", ["-w", "n1"])
    km = jupyter_client.KernelManager(kernel_name=name, ip="0.0.0.0")
    log = open(tmp_path / "remote.log", "w+")
    km.start_kernel(stderr=log)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=90)
        port = km.get_connection_info()["shell_port"]
        key = km.session.key.decode() + "\n"
        scheme = km.session.signature_scheme
        ask = STRANGER + ["ask", LOGIN_ADDR, str(port), scheme]
        r = subprocess.run(INSPECT + ["as-sjtest-on", "n2"] + ask + ["1"],
                           input=key, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"replies": ["kernel_info_reply"],
                                        "disconnected": False}
        r = subprocess.run(INSPECT + ["as-other-on", "n2"] + ask + ["3"],
                           input="not-the-key\n", capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"replies": [],
                                        "disconnected": True}
        log.flush()
        text = open(log.name).read()
        wrong = re.findall(r"shell channel: a client on another host sent "
                           r"a message with a wrong signature; not "
                           r"forwarded", text)
        assert len(wrong) == 3, text
        # A message is held whole before its signature can be checked:
        # from another host, 16 MiB at most.
        r = subprocess.run(INSPECT + ["as-other-on", "n2"] + STRANGER +
                           ["big", LOGIN_ADDR, str(port), "20"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"disconnected": True}
        log.flush()
        assert "shell channel: a client on another host sent a message of " \
            "more than 16 MiB; dropped" in open(log.name).read()
        content, out, _ = run_cell(kc, "print(6 * 7)")
        assert out == "42\n"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        km.cleanup_resources()
        log.close()
