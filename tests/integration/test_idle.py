# SPDX-License-Identifier: GPL-2.0-or-later
"""Idle kernels give their allocation back (issue 16, --idle-timeout).

Jupyter restarts a kernel whose process exits: its KernelRestarter calls
KernelManager.restart_kernel(now=True).  These tests make that same call
themselves on a plain KernelManager, at the point where the restarter
would, rather than run an IOLoopKernelManager with a tornado loop in a
thread: what reaches the shim is the same (a new shim on the same
connection file), and the test decides when, so it can look at Slurm in
between."""
import os
import subprocess
import uuid

import pytest

from conftest import (ME, SHIM, START_TIMEOUT, STATE, inspect, job_gone,
                      run_cell, squeue, wait_until)
from test_generator import GEN, data_dir  # noqa: F401 (a fixture)

WHERE = ("import os; print(os.environ['SLURMD_NODENAME'], "
         "os.environ['SLURM_JOB_ID'])")
IDLE_ARGS = ("--linger=5", "--idle-timeout=20s", "--warn-before=0")


def my_jobs():
    return set(squeue("-u", ME, "-t", "PD,R,CG", "-o", "%i").split())


def unique(name):
    """A kernelspec of this run alone: how its last kernel ended is kept
    for the next one."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def test_idle_kernel_released_then_lazy_restart(kernelspecs, start_kernel):
    spec = kernelspecs.add(unique("idle"), ["-p", "debug", "-t", "10"],
                           shim_args=IDLE_ARGS)
    k = start_kernel(spec)
    content, out, _ = run_cell(k.kc, WHERE)
    assert content["status"] == "ok"
    node, job = out.split()

    # Nobody sends anything: the shim shuts the kernel down and exits
    # cleanly; its allocation goes after the linger.
    assert k.wait_exit(timeout=120) == 0, k.shim_log()
    assert ("the kernel was idle for 20 s (--idle-timeout): shutting it "
            f"down; job {job} is released after the linger") in k.shim_log()
    wait_until(job_gone(job), 60, f"job {job} to be released")

    before = my_jobs()
    k.km.restart_kernel(now=True)
    # The new kernel answers at once, and Slurm is asked for nothing.
    msg_id = k.kc.kernel_info()
    reply = k.kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["msg_type"] == "kernel_info_reply"
    assert reply["content"]["status"] == "ok"
    # A front end opening the notebook asks which comms are open: none,
    # and no allocation for that either.
    msg_id = k.kc.comm_info()
    reply = k.kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["msg_type"] == "comm_info_reply"
    assert reply["content"] == {"status": "ok", "comms": {}}
    assert my_jobs() <= before
    assert "no allocation until a cell runs" in k.shim_log()
    assert "job allocation" not in k.shim_log().split(
        "no allocation until a cell runs")[-1]

    # A cell allocates and runs; its output begins with why.  Just after
    # a restart, a client's shell can be back before its iopub (each
    # socket reconnects on its own 100 ms clock): this cell is sent from
    # a client whose iopub connects only once the kernel is starting, and
    # the note still reaches it (the shim holds news nobody would hear).
    # It is the only client meanwhile.
    k.kc.stop_channels()
    late = k.km.client()
    late.start_channels(shell=True, iopub=False, stdin=False, hb=False,
                        control=False)
    try:
        msg_id = late.execute(WHERE)
        wait_until(lambda: k.shim_log().count("kernel starting on ") == 2,
                   START_TIMEOUT, "the second kernel to start")
        note = None
        while note is None:
            msg = late.get_iopub_msg(timeout=60)
            if (msg["parent_header"].get("msg_id") == msg_id and
                    msg["msg_type"] == "stream"):
                note = msg["content"]
        reply = late.get_shell_msg(timeout=START_TIMEOUT)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "ok", (reply, k.shim_log())
        content, out, err = run_cell(late, WHERE)
        node2, job2 = out.split()
        assert job2 != job
        assert note == {
            "name": "stderr",
            "text": "The previous kernel was shut down after 20 seconds "
                    "idle and its allocation released; this kernel runs on "
                    f"{node2} in Slurm job {job2}.\n"}, k.shim_log()
        # Once.
        content, out, err = run_cell(late, "print(1)")
        assert (out, err) == ("1\n", "")
    finally:
        late.stop_channels()


def test_busy_cell_outlives_idle_timeout(kernelspecs, start_kernel):
    """A cell that runs longer than the idle time is not ended, nor is
    its kernel when it is done."""
    spec = kernelspecs.add(unique("idle-busy"), ["-p", "debug", "-t", "10"],
                           shim_args=IDLE_ARGS)
    k = start_kernel(spec)
    content, out, err = run_cell(
        k.kc, "import os, time; x = os.environ['SLURM_JOB_ID']; "
        "time.sleep(35); print('done')", timeout=120)
    assert (content["status"], out, err) == ("ok", "done\n", ""), \
        k.shim_log()
    content, out, err = run_cell(
        k.kc, "print(x == os.environ['SLURM_JOB_ID'])")
    assert (out, err) == ("True\n", "")
    assert k.shim.poll() is None
    assert "(--idle-timeout): shutting" not in k.shim_log()


# The cluster's site defaults for the shim (sj-inspect shim-conf writes
# it, root's as it must be); kernelspecs name it in their environment.
SITE = STATE + "/etc/slurm-jupyter/shim.conf"


@pytest.fixture
def site_conf():
    """site_conf(LINE...) writes the site file; it goes afterwards."""
    yield lambda *lines: inspect("shim-conf", *lines)
    inspect("shim-conf")


def add_site_spec(name, *opts):
    r = subprocess.run([GEN, "add", "python3", f"--name={name}",
                        "--partition=debug", "--time=10",
                        f"--env=SLURM_JUPYTER_SHIM_CONF={SITE}", *opts],
                       capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stderr) == (0, ""), r
    return name


def show(name):
    r = subprocess.run([GEN, "show", name], capture_output=True, text=True,
                       timeout=60)
    assert (r.returncode, r.stderr) == (0, ""), r
    return r.stdout


def test_site_idle_timeout_and_the_kernelspec_over_it(data_dir, site_conf,
                                                      start_kernel):
    """A site's idle_timeout=20s gives an idle kernel's allocation back;
    a kernelspec's --idle-timeout=0 keeps its kernel; show says which
    value each gets from where."""
    site_conf("# the test site", "idle_timeout=20s", "warn_before=0",
              "linger=0")
    keep = add_site_spec(unique("site-keep"), "--idle-timeout=0")
    idle = add_site_spec(unique("site-idle"))
    out = show(idle)
    assert f"  idle timeout  20s (site default, {SITE} line 2)\n" in out
    assert f"  warn before   0 (site default, {SITE} line 3)\n" in out
    assert f"  linger        0 (site default, {SITE} line 4)\n" in out
    assert "  idle timeout  0 (kernelspec)\n" in show(keep)

    # The kept kernel first: had it the site's 20 s too, they would be
    # up before the other kernel's.
    kk = start_kernel(keep)
    content, out, _ = run_cell(kk.kc, WHERE)
    assert content["status"] == "ok", kk.shim_log()
    kept_job = out.split()[1]
    ki = start_kernel(idle)
    content, out, _ = run_cell(ki.kc, WHERE)
    assert content["status"] == "ok", ki.shim_log()
    _, job = out.split()

    assert ki.wait_exit(timeout=120) == 0, ki.shim_log()
    assert ("the kernel was idle for 20 s (--idle-timeout): shutting it "
            f"down; job {job} is released after the linger") in \
        ki.shim_log()
    wait_until(job_gone(job), 60, f"job {job} to be released")
    assert kk.shim.poll() is None, kk.shim_log()
    assert "(--idle-timeout): shutting" not in kk.shim_log()
    content, out, _ = run_cell(kk.kc, WHERE)
    assert out.split()[1] == kept_job


def refusal(env_path):
    """The login shim's first words with the site file at env_path."""
    r = subprocess.run([SHIM, "-f", "/nonexistent.json", "--", "k"],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ,
                            "SLURM_JUPYTER_SHIM_CONF": env_path})
    assert r.returncode == 2, r
    return r.stderr.splitlines()[0]


def test_shim_refuses_a_bad_or_untrusted_site_file(site_conf, tmp_path):
    site_conf("idle_timeout=20")
    assert refusal(SITE) == (
        f"slurm-jupyter-shim: site defaults: {SITE} line 1: "
        "--idle-timeout=20: the duration needs a unit (s, m or h), as in "
        "30m")
    site_conf("idle_timeout=20s", "idle_timeout=30s")
    assert refusal(SITE) == (
        f"slurm-jupyter-shim: site defaults: {SITE} line 2: idle_timeout "
        "given again (first on line 1)")
    site_conf("idle_timeout=20s", "culler=on")
    assert refusal(SITE) == (
        f"slurm-jupyter-shim: site defaults: {SITE} line 2: unknown key "
        "\"culler\" (known: idle_timeout, warn_before, linger)")
    # The user's own file is no site's.
    mine = tmp_path / "shim.conf"
    mine.write_text("idle_timeout=0\n")
    mine.chmod(0o644)
    assert refusal(str(mine)) == (
        f"slurm-jupyter-shim: site defaults: {mine} belongs to uid "
        f"{os.getuid()}, not root: refused (chown root {mine})")
