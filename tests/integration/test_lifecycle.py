# SPDX-License-Identifier: GPL-2.0-or-later
"""Interrupt, restart, death and faults, as a notebook user sees them."""
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import (job_gone, node_down, procs_gone, run_cell,
                      runtime_dirs, squeue, wait_until)


def assert_nothing_left(jobid, within=45):
    wait_until(job_gone(jobid), within, f"job {jobid} to be released")
    wait_until(procs_gone, 30, "kernel, shim and srun processes to exit")
    wait_until(lambda: runtime_dirs() == [], 30, "step directories to go")


def test_interrupt_keeps_the_kernel(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("intr"))
    _, job, step = k.where()
    msg_id = k.kc.execute("import time\ntime.sleep(60)")
    # The cell is running when the interrupt comes.
    wait_until(lambda: _busy(k.kc, msg_id), 20, "the cell to start")
    k.km.interrupt_kernel()
    reply = _reply(k.kc, msg_id)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    # ipykernel (local ones too) aborts requests that arrive just after an
    # error, for a moment: the first cell after the interrupt may come
    # back "aborted".
    content, out, _ = run_cell(k.kc, "print('after')")
    if content["status"] == "aborted":
        content, out, _ = run_cell(k.kc, "print('after')")
    assert out == "after\n"
    # Same kernel, same step: it lived on.
    assert k.km.is_alive()
    assert k.where()[1:] == (job, step)


def test_interrupt_message_mode(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("intr-msg", interrupt_mode="message"))
    msg_id = k.kc.execute("import time\ntime.sleep(60)")
    wait_until(lambda: _busy(k.kc, msg_id), 20, "the cell to start")
    k.km.interrupt_kernel()     # an interrupt_request on the control channel
    reply = _reply(k.kc, msg_id)
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert k.km.is_alive()


_seen_busy = set()


def _busy(kc, msg_id):
    while True:
        try:
            m = kc.get_iopub_msg(timeout=0.2)
        except Exception:
            return msg_id in _seen_busy
        if (m["parent_header"].get("msg_id") == msg_id and
                m["msg_type"] == "status" and
                m["content"]["execution_state"] == "busy"):
            _seen_busy.add(msg_id)


def _reply(kc, msg_id, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        r = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if r["parent_header"].get("msg_id") == msg_id:
            return r


def test_restart_reuses_the_allocation(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("restart", shim_args=["--linger=30"]))
    run_cell(k.kc, "state = 42")
    _, job, step = k.where()
    k.km.restart_kernel(now=False)
    k.kc.wait_for_ready(timeout=90)
    _, job2, step2 = k.where()
    assert job2 == job and step2 != step     # no queueing again
    content, _, _ = run_cell(k.kc, "state")
    assert content["status"] == "error"      # a fresh kernel
    assert squeue("-s", "-j", str(job), "-o", "%i") == f"{job}.{step2}", \
        "the old step is gone"
    assert "reusing allocation" in k.shim_log()
    k.kc.stop_channels()
    k.km.shutdown_kernel(now=False)
    assert_nothing_left(job, within=30 + 30)


def test_kernel_crash_is_visible(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("crash", ["-w", "n2"]))
    _, job, _ = k.where()
    k.kc.execute("import os; os._exit(3)")
    assert k.wait_exit() == 3
    assert not k.km.is_alive()
    assert "the kernel on n2 exited with status 3" in k.shim_log()
    assert_nothing_left(job)


def test_heartbeat_is_the_kernels(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("hb"))
    hb = k.kc.hb_channel
    wait_until(hb.is_beating, 20, "the heartbeat")
    # A stopped kernel stops beating: the shim does not answer for it.
    _, job, step = k.where()
    r = subprocess.run(["scancel", "--signal=STOP", f"{job}.{step}"],
                       capture_output=True, text=True)
    wait_until(lambda: not hb.is_beating(), 30, "the heartbeat to stop")
    subprocess.run(["scancel", "--signal=CONT", f"{job}.{step}"],
                   capture_output=True, text=True)
    wait_until(hb.is_beating, 30, "the heartbeat to come back")
    assert r is not None


def test_jupyter_killed_leaves_nothing(kernelspecs, tmp_path):
    name = kernelspecs.add("orphan")
    script = tmp_path / "server.py"
    script.write_text(
        "import jupyter_client, time, sys\n"
        f"km, kc = jupyter_client.manager.start_new_kernel("
        f"kernel_name={name!r}, startup_timeout=90)\n"
        "r = kc.execute_interactive('import os; print(os.environ[\"SLURM_JOB_ID\"])',"
        " output_hook=lambda m: print(m['content'].get('text', ''), end='',"
        " flush=True), timeout=30)\n"
        "time.sleep(600)\n")
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    job = int(p.stdout.readline())
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert_nothing_left(job)


def test_shim_killed_leaves_nothing(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("shim-kill"))
    _, job, _ = k.where()
    os.kill(k.shim_pid, signal.SIGKILL)
    assert_nothing_left(job)


def test_srun_killed_leaves_nothing(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("srun-kill"))
    _, job, _ = k.where()
    sruns = subprocess.run(["pgrep", "-P", str(k.shim_pid), "srun"],
                           capture_output=True, text=True).stdout.split()
    assert sruns
    for pid in sruns:
        os.kill(int(pid), signal.SIGKILL)
    assert k.wait_exit() != 0
    assert not k.km.is_alive()
    assert_nothing_left(job)


def test_node_failure_is_visible(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("nodefail", ["-w", "n3"]))
    _, job, _ = k.where()
    with node_down("n3"):
        assert k.wait_exit() != 0
        assert "the kernel on n3 was lost: the node failed" in k.shim_log()
        assert not k.km.is_alive()
    assert_nothing_left(job)


def test_five_kernels_at_once(kernelspecs, start_kernel):
    nodes = ("n1", "n2", "n3", "n1", "n2")
    names = [kernelspecs.add(f"five-{i}", ["-w", n])
             for i, n in enumerate(nodes)]
    with ThreadPoolExecutor(5) as pool:
        kernels = list(pool.map(start_kernel, names))
    codes = [f"print('kernel {i}', os.environ['SLURMD_NODENAME'])"
             for i in range(5)]
    for k in kernels:
        run_cell(k.kc, "import os")
    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(lambda ic: run_cell(kernels[ic[0]].kc, ic[1]),
                                enumerate(codes)))
    for i, (content, out, _) in enumerate(results):
        assert content["status"] == "ok"
        assert out == f"kernel {i} {nodes[i]}\n"
    jobs = {k.where()[1] for k in kernels}
    assert len(jobs) == 5


def test_srun_killed_in_users_allocation(kernelspecs, start_kernel):
    # An allocation the user made: the shim never cancels it, so the node
    # side must notice by itself that nobody is there any more.
    out = subprocess.run(["salloc", "--no-shell", "-N1", "-w", "n3"],
                         capture_output=True, text=True, check=True).stderr
    job = int(re.search(r"Granted job allocation (\d+)", out).group(1))
    try:
        k = start_kernel(kernelspecs.add("mine", [f"--jobid={job}"]))
        _, kjob, step = k.where()
        assert kjob == job
        for pid in subprocess.run(["pgrep", "-P", str(k.shim_pid), "srun"],
                                  capture_output=True,
                                  text=True).stdout.split():
            os.kill(int(pid), signal.SIGKILL)
        k.wait_exit()
        # The node side gives the login side 20 s to come back.
        wait_until(lambda: squeue("-s", "-j", str(job), "-o", "%i")
                   .split() in ([], [f"{job}.extern"]), 60,
                   f"step {job}.{step} to end")
        wait_until(procs_gone, 30, "kernel and shim processes to exit")
        wait_until(lambda: runtime_dirs() == [], 30, "step directory to go")
        # The user's allocation is still there.
        assert squeue("-j", str(job), "-o", "%T") == "RUNNING"
    finally:
        subprocess.run(["scancel", str(job)], check=True)
