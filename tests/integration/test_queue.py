# SPDX-License-Identifier: GPL-2.0-or-later
"""A kernel whose job waits in the queue: front ends give a kernel 60 s to
answer kernel_info_request, and a Slurm job may wait for minutes.  The
login shim answers for the kernel meanwhile (signed, as jupyter_client's
Session checks), holds every other request, and the kernel answers once
its job runs.

One test, so that the jobs wait at the same time: nbconvert's, `jupyter
console`'s, a KernelManager's, and a fourth kernel's that is shut down
while it waits."""
import glob
import io
import json
import os
import re
import stat
import subprocess
import uuid

import nbformat
import pexpect

from conftest import (ME, MY_UID, START_TIMEOUT, job_gone, nbconvert_argv,
                      run_cell, squeue, wait_until)

# Longer than the 60 s jupyter_client, nbclient and `jupyter console` give a
# kernel to answer kernel_info_request, and than the 60 s + 60 s Notebook
# waits for it: the job waits through all of it, as jobs do.
WAIT_S = 180
WHERE = ("import os; print(os.environ['SLURMD_NODENAME'], "
         "os.environ['SLURM_JOB_ID'])")
# What WHERE prints.
WHERE_OUT = re.compile(r"\b(n[123]) (\d+)\r?\n")


def my_jobs(state):
    """{job id: job name} of this user's jobs in state (PENDING, RUNNING)."""
    out = squeue("-u", ME, "-t", state, "-o", "%i %j")
    return dict(line.split() for line in out.splitlines())


def recordings():
    """The kernel_info_reply files in this user's lock directory."""
    home = os.path.expanduser("~")
    return set(glob.glob(f"{home}/.cache/slurm-jupyter/*/kernel-info-*.json")
               + glob.glob(f"/run/user/{MY_UID}/slurm-jupyter/"
                           "kernel-info-*.json"))


def kernel_info(kc):
    """The kernel_info_reply and the iopub status messages it caused."""
    msg_id = kc.kernel_info()
    reply = kc.get_shell_msg(timeout=30)
    # wait_for_ready may have asked more than once: older replies first.
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=30)
    states = []
    while states[-1:] != ["idle"]:
        m = kc.get_iopub_msg(timeout=30)
        if (m["msg_type"] == "status" and
                m["parent_header"].get("msg_id") == msg_id):
            states.append(m["content"]["execution_state"])
    return reply, states


def test_queued_kernel(kernelspecs, start_kernel, tmp_path):
    """While its job waits: `jupyter nbconvert --execute` with default
    settings succeeds; `jupyter console` shows its prompt and runs the cell
    typed at it once the job starts; wait_for_ready(timeout=60) succeeds with a signed
    kernel_info_reply of the shim's own (implementation
    slurm-jupyter-shim), status busy and idle on iopub; a cell sent while
    the job waits runs when it starts; then kernel_info_reply is the
    kernel's, recorded (0600) and given by the next start of the kernel
    while it waits; a shutdown while the job waits cancels it.  The
    server log says what the shim did."""
    tag = uuid.uuid4().hex[:8]
    begin = f"--begin=now+{WAIT_S}"
    # Different time limits: different allocation names, so that neither
    # kernel takes the other's allocation once nbconvert is done with it.
    nb_spec = kernelspecs.add(f"qnb-{tag}", ["-p", "debug", "-t", "9", begin])
    k_spec = kernelspecs.add(f"qk-{tag}", ["-p", "debug", "-t", "10", begin])
    con_spec = kernelspecs.add(f"qc-{tag}", ["-p", "debug", "-t", "8", begin])
    before = recordings()

    argv, dst = nbconvert_argv(tmp_path, nb_spec, WHERE, "queued")
    nbconvert = subprocess.Popen(argv, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    transcript = io.StringIO()
    con = pexpect.spawn("jupyter", ["console", "--kernel", con_spec,
                                    "--simple-prompt"],
                        env=dict(os.environ), encoding="utf-8", timeout=60)
    con.logfile_read = transcript
    try:
        k = start_kernel(k_spec, wait=False)
        # jupyter_client's own check, with its default 60 s.
        k.kc.wait_for_ready(timeout=60)
        # The console's prompt, within its own 60 s, and a cell typed
        # while the job waits.
        try:
            con.expect(r"In \[1\]: ")
            con.sendline(WHERE)
        except pexpect.ExceptionPexpect as e:
            raise AssertionError(f"{type(e).__name__}; the console showed:"
                                 f"\n{transcript.getvalue()}") from None
        # All three jobs wait (nbconvert's may still be on its way to
        # salloc).
        pending = wait_until(lambda: (lambda j: j if len(j) == 3 else None)(
            my_jobs("PENDING")), 30, "the three jobs to be queued")
        reply, states = kernel_info(k.kc)
        content = reply["content"]
        assert content["status"] == "ok"
        assert content["implementation"] == "slurm-jupyter-shim"
        assert content["language_info"]["name"] == "python"
        assert reply["header"]["version"] == "5.3"
        assert states == ["busy", "idle"]
        assert my_jobs("RUNNING") == {}, "the job no longer waits"

        # Sent while the job waits, answered by the kernel once it runs.
        cell, out, err = run_cell(k.kc, WHERE,
                                  timeout=WAIT_S + START_TIMEOUT)
        assert cell["status"] == "ok", err
        node, job = out.split()
        assert job in pending and node in ("n1", "n2", "n3")
        reply, _ = kernel_info(k.kc)
        assert reply["content"]["implementation"] == "ipython"

        log = k.shim_log()
        assert "Pending job allocation" in log
        assert ("the kernel is not up yet: answering kernel_info_request "
                "for it (with the shim's own reply); other requests wait "
                "for it") in log

        # Each kernel's reply was recorded (nbconvert's and the console's
        # too, once their jobs run: one file per kernelspec), for the user
        # alone.
        new = wait_until(lambda: (lambda n: n if len(n) == 3 else None)(
            recordings() - before), 60,
            "the three kernels' kernel_info_reply to be recorded")
        for path in new:
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
            with open(path) as f:
                assert json.load(f)["implementation"] == "ipython"

        # The next start replays it while its own job waits, and a
        # shutdown then cancels that job.
        k2 = start_kernel(k_spec, wait=False)
        k2.kc.wait_for_ready(timeout=60)
        # salloc may still be submitting it when the shim answers.
        [waiting] = wait_until(
            lambda: set(my_jobs("PENDING")) - set(pending), 30,
            "the new job to be queued")
        reply, _ = kernel_info(k2.kc)
        assert reply["content"]["implementation"] == "ipython"
        assert reply["content"]["language_info"]["name"] == "python"
        k2.kc.stop_channels()
        k2.km.shutdown_kernel()
        wait_until(job_gone(waiting), 45, f"job {waiting} to be cancelled")
        assert ("the kernel is not up yet: answering kernel_info_request "
                "for it (with its reply recorded at its last start)"
                in k2.shim_log())

        # The console ran the cell typed while its job waited, in that job.
        try:
            con.expect(WHERE_OUT, timeout=WAIT_S + START_TIMEOUT)
            con_node, con_job = con.match.groups()
            con.expect(r"In \[2\]: ")
            con.sendline("exit")
            con.expect(pexpect.EOF)
        except pexpect.ExceptionPexpect as e:
            raise AssertionError(f"{type(e).__name__}; the console showed:"
                                 f"\n{transcript.getvalue()}") from None
        assert con_job in pending and con_job != job
        assert con_node in ("n1", "n2", "n3")

        # nbconvert, with its default timeouts, ran the cell in its job.
        _, nb_err = nbconvert.communicate(timeout=WAIT_S + START_TIMEOUT)
        assert nbconvert.returncode == 0, nb_err
        # Its output: the shim's waiting line, as it was left when the job
        # started (Slurm's news, test_news.py), then the cell's own.
        line, output = nbformat.read(dst, as_version=4).cells[0].outputs
        assert output.output_type == "stream", output
        nb_node, nb_job = output.text.split()
        assert nb_job in pending and nb_job != job
        assert nb_node in ("n1", "n2", "n3")
        assert line.output_type == "display_data", line
        assert line.data["text/plain"] == f"Job {nb_job} started on {nb_node}"
    finally:
        con.close(force=True)
        if nbconvert.poll() is None:
            nbconvert.kill()
            nbconvert.communicate()
        for path in recordings() - before:
            os.unlink(path)
