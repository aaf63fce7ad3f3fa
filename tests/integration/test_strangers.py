"""Another user on the login node against a user's kernel (issue 13): the
login shim's ports give a stranger nothing, where a local kernel's would
take anyone's connection."""
import json
import os
import re
import subprocess
import sys

from conftest import (INSPECT, MY_UID, OTHER_UID, run_cell, wait_until)

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
