"""More of a kernel's life as a notebook user sees it: the job's time limit,
the kernel's own stdout and stderr in the Jupyter server log, and a kernel
that does not exit when asked to shut down."""
import os
import re
import subprocess
import time

from conftest import (ME, RUNTIME_DIR, job_gone, run_cell, runtime_dirs,
                      squeue, wait_until)


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
