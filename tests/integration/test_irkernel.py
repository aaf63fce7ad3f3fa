# SPDX-License-Identifier: GPL-2.0-or-later
"""A kernel that is not ipykernel: R's IRkernel on a compute node.

IRkernel works on ipc too (test_kernels.py: jupyter slurm add's spec);
these kernelspecs ask for --kernel-transport=tcp, so that the tcp path (the
kernel listens on 127.0.0.1 of its node) is run by a kernel other than
ipykernel.
"""
import json

from conftest import NODES, RUNTIME_DIR, job_gone, runtime_dirs, wait_until

IR_SPEC = json.load(open("/usr/share/jupyter/kernels/ir/kernel.json"))


def add_r(kernelspecs, name):
    return kernelspecs.add(name, ["-p", "debug", "-t", "10"],
                           kernel_argv=IR_SPEC["argv"],
                           shim_args=["--linger=0", "--kernel-transport=tcp"],
                           language="R")


def r_cell(kc, code):
    """Executes R code; returns (reply content, stdout, stderr, iopub
    messages other than status and execute_input)."""
    msgs = []
    reply = kc.execute_interactive(code, timeout=60, output_hook=msgs.append)
    shown = [m for m in msgs
             if m["msg_type"] not in ("status", "execute_input")]
    text = {"stdout": "", "stderr": ""}
    for m in shown:
        if m["msg_type"] == "stream":
            text[m["content"]["name"]] += m["content"]["text"]
    return reply["content"], text["stdout"], text["stderr"], shown


def r_where(kc):
    """(node, job id, step id) as the R kernel sees them."""
    content, out, _, _ = r_cell(
        kc, "cat(Sys.getenv(c('SLURMD_NODENAME', 'SLURM_JOB_ID', "
        "'SLURM_STEP_ID')))")
    assert content["status"] == "ok", content
    node, job, step = out.split()
    return node, int(job), int(step)


def test_r_kernel_runs_on_a_compute_node(kernelspecs, start_kernel):
    """The client talks to R, and R runs on a node of the cluster."""
    k = start_kernel(add_r(kernelspecs, "ir-where"))
    k.kc.kernel_info()
    info = k.kc.get_shell_msg(timeout=30)["content"]
    assert info["language_info"]["name"] == "R"
    content, out, err, _ = r_cell(k.kc,
                                  "cat(Sys.getenv('SLURMD_NODENAME'))")
    assert content["status"] == "ok"
    assert out in NODES
    assert err == ""


def test_r_results_and_errors(kernelspecs, start_kernel):
    """A value is shown as IRkernel shows it ("[1] 42"), an R error comes
    back as an error with R's message, message() goes to stderr, and the
    kernel lives on after the error."""
    k = start_kernel(add_r(kernelspecs, "ir-results"))

    content, _, _, shown = r_cell(k.kc, "x <- 6 * 7; x")
    assert content["status"] == "ok"
    [display] = [m for m in shown if m["msg_type"] == "display_data"]
    assert display["content"]["data"]["text/plain"] == "[1] 42"

    content, _, _, shown = r_cell(k.kc, "stop('boom')")
    assert content["status"] == "error"
    assert "boom" in content["evalue"]
    assert [m["msg_type"] for m in shown] == ["error"]

    content, _, err, _ = r_cell(k.kc, "message('to stderr')")
    assert content["status"] == "ok"
    assert "to stderr" in err

    content, out, _, _ = r_cell(k.kc, "cat(x + 1)")
    assert (content["status"], out) == ("ok", "43")
    assert k.km.is_alive()


def test_r_shutdown_leaves_nothing(kernelspecs, start_kernel):
    """Shutting the R kernel down ends the shim cleanly, releases the job
    and removes the kernel's private directory on its node."""
    k = start_kernel(add_r(kernelspecs, "ir-tidy"))
    _, job, step = r_where(k.kc)
    assert f"{job}.{step}" in runtime_dirs()
    k.km.shutdown_wait_time = 60    # the exit status is the shim's own
    k.kc.stop_channels()
    k.km.shutdown_kernel(now=False)
    assert k.wait_exit() == 0, f"shim log:\n{k.shim_log()}"
    assert not k.km.is_alive()
    wait_until(job_gone(job), 45, f"job {job} to be released")
    wait_until(lambda: f"{job}.{step}" not in runtime_dirs(), 30,
               f"{RUNTIME_DIR}/{job}.{step} to be removed")
