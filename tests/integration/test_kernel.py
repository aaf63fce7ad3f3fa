# SPDX-License-Identifier: GPL-2.0-or-later
"""A kernel on a compute node, used as a notebook user would use it."""
import re
import subprocess

from jupyter_client import BlockingKernelClient

from conftest import (LOGIN_HOST, NODES, ME, job_gone, run_cell, runtime_dirs,
                      squeue, wait_until)


def test_kernel_runs_on_compute_node(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("on-n2", ["-w", "n2"]))
    content, out, _ = run_cell(
        k.kc, "import socket, os\nprint(socket.gethostname(), "
        "os.environ.get('SLURM_JOB_ID'), os.environ.get('SLURMD_NODENAME'))")
    assert content["status"] == "ok"
    host, jobid, nodename = out.split()
    assert host == "n2" and nodename == "n2"
    assert host != LOGIN_HOST
    assert jobid.isdigit()
    # Slurm shows the allocation, running, while the kernel lives.
    assert squeue("-j", jobid, "-o", "%T %u") == f"RUNNING {ME}"
    assert "kernel starting on n2" in k.shim_log()


def test_default_options_run_on_some_node(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("default"))
    node, _, _ = k.where()
    assert node in NODES


def test_execute_result_and_error(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("results"))
    results = []
    reply = k.kc.execute_interactive(
        "1+1", timeout=30,
        output_hook=lambda m: results.append(m)
        if m["msg_type"] == "execute_result" else None)
    assert reply["content"]["status"] == "ok"
    assert [m["content"]["data"]["text/plain"] for m in results] == ["2"]

    content, _, _ = run_cell(k.kc, "1/0")
    assert content["status"] == "error"
    assert content["ename"] == "ZeroDivisionError"
    assert any("division by zero" in line for line in content["traceback"])


def test_two_clients_share_a_kernel(kernelspecs, start_kernel):
    """A second client on the same connection file, as a second notebook
    view or `jupyter console --existing` attaches: each client gets the
    replies to its own requests, and both see all the output."""
    k = start_kernel(kernelspecs.add("shared-view"))
    # As `jupyter console --existing` does: the connection file, a session
    # (and so a ZMQ identity) of its own.
    other = BlockingKernelClient(connection_file=k.km.connection_file)
    other.load_connection_file()
    assert other.session.bsession != k.kc.session.bsession
    other.start_channels()
    try:
        other.wait_for_ready(timeout=60)
        mine = k.kc.execute("print('from the first')")
        theirs = other.execute("print('from the second')")

        def reply_to(kc):
            return kc.get_shell_msg(timeout=60)["parent_header"]["msg_id"]

        # Each reply reaches the client that asked, the other none of
        # its neighbour's: the first reply each one gets is its own.
        assert reply_to(k.kc) == mine
        assert reply_to(other) == theirs

        def streams(kc):
            texts = {}
            while len(texts) < 2:
                m = kc.get_iopub_msg(timeout=60)
                if m["msg_type"] == "stream":
                    texts[m["parent_header"]["msg_id"]] = \
                        m["content"]["text"]
            return texts

        expected = {mine: "from the first\n", theirs: "from the second\n"}
        assert streams(k.kc) == expected
        assert streams(other) == expected
    finally:
        other.stop_channels()


def test_input_roundtrip(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("stdin"))
    prompts = []

    def answer(msg):
        prompts.append(msg["content"]["prompt"])
        k.kc.input("ada")

    content, out, _ = run_cell(k.kc, 'x = input("name? ")\nprint(x.upper())',
                               allow_stdin=True, stdin_hook=answer)
    assert content["status"] == "ok"
    assert prompts == ["name? "]
    assert out == "ADA\n"


def test_stdout_20mb_complete_in_order(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("bulk"))
    lines = 200_000
    code = ("import sys\nfor i in range(%d):\n"
            "    sys.stdout.write(f'{i:09d} ' + 'x' * 90 + '\\n')\n" % lines)
    content, out, _ = run_cell(k.kc, code, timeout=300)
    assert content["status"] == "ok"
    assert len(out) == lines * 101
    got = out.splitlines()
    assert len(got) == lines
    bad = [i for i, line in enumerate(got)
           if line != f"{i:09d} " + "x" * 90]
    assert bad == [], f"{len(bad)} lines missing or out of order"


def test_clean_shutdown_leaves_nothing(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("tidy", ["-w", "n3"]))
    node, jobid, step = k.where()
    assert node == "n3"
    assert f"{jobid}.{step}" in runtime_dirs(), \
        "the step directory exists while the kernel runs"
    # Generous, so that the exit status tells how the shim ended and not how
    # patient jupyter_client was (SIGTERM after half of this, then SIGKILL).
    k.km.shutdown_wait_time = 60
    k.kc.stop_channels()
    k.km.shutdown_kernel(now=False)
    assert k.wait_exit() == 0, f"shim log:\n{k.shim_log()}"
    assert not k.km.is_alive()
    wait_until(job_gone(jobid), 60, f"job {jobid} to leave squeue")
    wait_until(lambda: squeue("-u", ME) == "", 60,
               f"squeue -u {ME} to show no job")
    wait_until(lambda: subprocess.run(
        ["pgrep", "-u", ME, "-f", "ipykernel_launcher|slurm-jupyter-shim"],
        capture_output=True).returncode == 1, 30,
        "the kernel and shim processes to exit")
    wait_until(lambda: runtime_dirs() == [], 30,
               "the step directory to be removed")


def test_shim_exits_with_kernel_status(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("exit3", ["-w", "n1"]))
    k.kc.execute("import os; os._exit(3)")
    assert k.wait_exit() == 3
    log = k.shim_log()
    assert "the kernel on n1 exited with status 3" in log
    assert not k.km.is_alive()


def test_slurm_options_reach_the_allocation(kernelspecs, start_kernel):
    k = start_kernel(kernelspecs.add("opts", ["--partition=short",
                                              "--time=3"]))
    _, jobid, _ = k.where()
    out = subprocess.run(["scontrol", "-o", "show", "job", str(jobid)],
                         capture_output=True, text=True, check=True).stdout
    assert re.search(r"\bPartition=short\b", out)
    assert re.search(r"\bTimeLimit=00:03:00\b", out)
    assert re.search(r"\bJobName=jupyter-kernel-[0-9a-f]{8}\b", out)
