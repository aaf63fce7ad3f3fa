# SPDX-License-Identifier: GPL-2.0-or-later
"""Idle kernels give their allocation back (issue 16, --idle-timeout).

Jupyter restarts a kernel whose process exits: its KernelRestarter calls
KernelManager.restart_kernel(now=True).  These tests make that same call
themselves on a plain KernelManager, at the point where the restarter
would, rather than run an IOLoopKernelManager with a tornado loop in a
thread: what reaches the shim is the same (a new shim on the same
connection file), and the test decides when, so it can look at Slurm in
between."""
import uuid

from conftest import ME, START_TIMEOUT, job_gone, run_cell, squeue, wait_until

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

    # A cell allocates and runs; its output begins with why.
    content, out, err = run_cell(k.kc, WHERE, timeout=START_TIMEOUT)
    assert content["status"] == "ok", (content, err, k.shim_log())
    node2, job2 = out.split()
    assert job2 != job
    assert err == ("The previous kernel was shut down after 20 seconds idle "
                   "and its allocation released; this kernel runs on "
                   f"{node2} in Slurm job {job2}.\n")
    # Once.
    content, out, err = run_cell(k.kc, "print(1)")
    assert (out, err) == ("1\n", "")


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
