# SPDX-License-Identifier: GPL-2.0-or-later
"""More of a kernel's life as a notebook user sees it: the job's time limit,
the kernel's own stdout and stderr in the Jupyter server log, a kernel
that does not exit when asked to shut down, and a network blip between the
login node and the kernel's node."""
import os
import re
import subprocess
import time

from conftest import (ME, RUNTIME_DIR, inspect, job_gone, kernel_json,
                      run_cell, runtime_dirs, squeue, wait_until)


def my_procs(conn_file, job, step, pids=()):
    """This kernel's processes still there, as `pgrep -a` lines: the shim
    and its janitor (their argv has the connection file), srun (--jobid),
    the kernel on the node (its connection file is in the step directory),
    and any of pids.  Only this kernel's: other tests may run kernels of
    the same user at the same time."""
    pattern = "|".join([re.escape(conn_file), f"--jobid={job} ",
                        re.escape(f"{RUNTIME_DIR}/{job}.{step}/")])
    out = subprocess.run(["pgrep", "-a", "-u", ME, "-f", pattern],
                         capture_output=True, text=True).stdout.splitlines()
    return out + [f"{p} (still there)" for p in pids
                  if os.path.exists(f"/proc/{p}")]


def assert_nothing_left(conn_file, job, step, pids=()):
    wait_until(job_gone(job), 45, f"job {job} to be released")
    wait_until(lambda: f"{job}.{step}" not in runtime_dirs(), 30,
               f"the step directory {job}.{step} to be removed")
    wait_until(lambda: not my_procs(conn_file, job, step, pids), 30,
               "the kernel's processes to exit: "
               f"{my_procs(conn_file, job, step, pids)}")


def kernel_ids(k):
    """(node, job, step, kernel pid, its parent's pid) as the kernel sees
    them; the parent is the node side of the shim."""
    content, out, _ = run_cell(
        k.kc, "import os\nprint(os.environ['SLURMD_NODENAME'], "
        "os.environ['SLURM_JOB_ID'], os.environ['SLURM_STEP_ID'], "
        "os.getpid(), os.getppid())")
    assert content["status"] == "ok", content
    node, *rest = out.split()
    return (node, *map(int, rest))


def test_time_limit_is_visible(kernelspecs, start_kernel):
    """A kernel of a one-minute job: when Slurm ends the job, the kernel
    dies and the log says, once, that the job reached its time limit."""
    k = start_kernel(kernelspecs.add("timelimit", ["-p", "debug", "-t", "1"]))
    node, job, step, _, _ = kernel_ids(k)
    conn_file = k.km.connection_file
    wait_until(lambda: k.shim.poll() is not None, 150,
               "the shim to exit when the time limit is reached",
               interval=1)
    assert k.shim.returncode != 0
    assert not k.km.is_alive()
    said = [line for line in k.shim_log().splitlines()
            if line.startswith("slurm-jupyter-shim:") and
            "time limit" in line]
    assert said == [f"slurm-jupyter-shim: the kernel on {node} was stopped: "
                    f"job {job} reached its time limit"], k.shim_log()
    assert squeue("-j", str(job), "--states=PD,R") == ""
    assert_nothing_left(conn_file, job, step)


def test_kernel_stdout_and_stderr_reach_the_log(kernelspecs, start_kernel):
    """What the kernel process itself writes to its file descriptors 1 and
    2 (not the notebook's output streams) shows in the Jupyter server's
    log, as it does for a local kernel."""
    # As a Jupyter server does: the shim's stdout and stderr in one log.
    k = start_kernel(kernelspecs.add("rawio", ["-p", "debug", "-t", "10"]),
                     stdout_too=True)
    content, _, _ = run_cell(
        k.kc, "import os\nos.write(1, b'RAW-STDOUT-MARK\\n')\n"
        "os.write(2, b'RAW-STDERR-MARK\\n')")
    assert content["status"] == "ok"
    wait_until(lambda: "RAW-STDOUT-MARK\n" in k.shim_log() and
               "RAW-STDERR-MARK\n" in k.shim_log(), 30,
               "both marks in the log")


def test_kernel_that_ignores_shutdown(kernelspecs, start_kernel):
    """A kernel that hangs in its shutdown: jupyter_client's fallback
    (SIGTERM, then SIGKILL, to the shim's process group) still ends
    everything: no job, no step directory, no process on either side."""
    k = start_kernel(kernelspecs.add("hangs", ["-p", "debug", "-t", "10"]))
    _, job, step, kernel_pid, node_shim_pid = kernel_ids(k)
    conn_file = k.km.connection_file
    running = my_procs(conn_file, job, step)
    assert any(line.startswith(f"{k.shim_pid} ") for line in running)
    assert any(line.startswith(f"{kernel_pid} ") for line in running)
    content, _, _ = run_cell(
        k.kc, "get_ipython().kernel.do_shutdown = "
        "lambda restart: __import__('time').sleep(3600)")
    assert content["status"] == "ok"
    # It does hang: a shutdown request leaves it running.
    k.kc.shutdown()
    time.sleep(5)
    assert k.km.is_alive() and os.path.exists(f"/proc/{kernel_pid}")

    k.kc.stop_channels()
    k.km.shutdown_kernel()      # as "Shut down kernel" in a Jupyter server
    assert not k.km.is_alive()
    assert_nothing_left(conn_file, job, step,
                        pids=(kernel_pid, node_shim_pid, k.shim_pid))


def test_link_cut_the_kernel_carries_on(kernelspecs, start_kernel):
    """The connection between the shims is cut under a running kernel (a
    network blip) and the node cannot be reached for a while: the output
    the kernel made and the cell the user ran meanwhile wait, the login
    shim connects again once it can, and the same kernel, with its
    variables, answers."""
    k = start_kernel(kernelspecs.add("blip", ["-w", "n2"]))
    step_dir = k.step_dir()
    port = kernel_json(k.kc, f"json.load(open({step_dir + '/relay.json'!r}))"
                       "['port']")
    marker = f"{step_dir}/printed"
    content, _, _ = run_cell(
        k.kc, "import os, threading\nx = 6 * 7\npid = os.getpid()\n"
        "def later():\n"
        "    print('said during the cut', flush=True)\n"
        f"    open({marker!r}, 'w').close()\n"
        "threading.Timer(2.0, later).start()")
    assert content["status"] == "ok"
    inspect("firewall", "n2", "on")
    try:
        cut = inspect("cut-link", "n2", str(port))
        assert cut.strip(), "there was no link connection to cut"
        wait_until(lambda: os.path.exists(marker), 30,
                   "the kernel to print while the link is down")
        # The same kernel, the same variables: "42 True".
        msg_id = k.kc.execute("print(x, pid == os.getpid())")
    finally:
        inspect("firewall", "n2", "off")
    reply = k.kc.get_shell_msg(timeout=60)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "ok"
    texts = []
    while not any(t.startswith("42") for t in texts):
        m = k.kc.get_iopub_msg(timeout=60)
        if m["msg_type"] == "stream":
            texts.append(m["content"]["text"])
    assert texts == ["said during the cut\n", "42 True\n"]
    assert k.shim.poll() is None
