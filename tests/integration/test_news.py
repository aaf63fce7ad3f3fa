# SPDX-License-Identifier: GPL-2.0-or-later
"""Slurm's news inside the cell (issue 16): what the login shim tells a
notebook user about the kernel's job, as messages on iopub that
jupyter_client takes as a kernel's (it checks their signatures), parented
to the cell they are about.  The texts are common/jupyter/newstext.c's."""
import datetime
import re
import subprocess
import time
import uuid

from conftest import (ME, START_TIMEOUT, inspect, job_gone, node_down,
                      run_cell, squeue, wait_until)
from test_generator import GEN, data_dir  # noqa: F401 (a fixture)

WHERE = ("import os; print(os.environ['SLURMD_NODENAME'], "
         "os.environ['SLURM_JOB_ID'])")
DEATH = ("The kernel was stopped: {}. Its variables are gone; restart the "
         "kernel to continue in a new allocation.")
NOT_RUN = "Not run: the kernel was stopped before this cell ran; {}."
SLEEP = "import time; time.sleep(900)"


def pending_jobs():
    return squeue("-u", ME, "-t", "PENDING", "-o", "%i").split()


def cell_news(kc, msg_id, until, timeout, statuses=False, log=None):
    """The iopub messages parented to msg_id, in order, up to the first
    for which until(msg) is true; status messages left out unless
    statuses.  log: the shim's, for a failure's message."""
    got = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, (f"timed out; the cell got {got}; shim log:\n"
                          f"{log() if log else ''}")
        try:
            m = kc.get_iopub_msg(timeout=left)
        except Exception:  # queue.Empty
            continue
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "status" and not statuses:
            continue
        got.append(m)
        if until(m):
            return got


def is_error(m):
    return m["msg_type"] == "error"


def stderr_texts(msgs):
    return [m["content"]["text"] for m in msgs
            if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"]


def shim_made(m):
    """A message the shim made, with the header a front end reads."""
    h = m["header"]
    return (h["session"] and h["msg_id"] and h["version"] == "5.3" and
            isinstance(h["date"], datetime.datetime))


def ended(kc, reply, error, count):
    """reply (an execute_reply the shim made for the kernel) ends the cell
    as error (its error output) says, with the kernel's count, and the
    status idle follows the error on iopub: the cell is done for a front
    end."""
    msg_id = reply["parent_header"]["msg_id"]
    assert error["parent_header"]["msg_id"] == msg_id
    assert reply["msg_type"] == "execute_reply" and shim_made(reply)
    assert reply["content"] == {
        "status": "error", "ename": "SlurmJobEnded",
        "evalue": error["content"]["evalue"],
        "traceback": [error["content"]["evalue"]],
        "execution_count": count}
    cell_news(kc, msg_id, lambda m: m["msg_type"] == "status" and
              m["content"]["execution_state"] == "idle", 30,
              statuses=True)


def count_of(news):
    """The execution_count the kernel gave the cell (execute_input)."""
    [m] = [m for m in news if m["msg_type"] == "execute_input"]
    return m["content"]["execution_count"]


def running(kc, code):
    """Sends code; returns its msg_id once the kernel runs it (busy)."""
    msg_id = kc.execute(code)
    cell_news(kc, msg_id, lambda m: m["msg_type"] == "status" and
              m["content"]["execution_state"] == "busy", 30, statuses=True)
    return msg_id


def unique(name):
    """A kernelspec name of this run alone: why a kernel ended is kept
    per kernelspec for the next one, beyond this run."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def job_field(job, key):
    out = subprocess.run(["scontrol", "-o", "show", "job", str(job)],
                         capture_output=True, text=True, timeout=60).stdout
    return re.search(rf"\b{key}=(\S+)", out).group(1)


def test_waiting_line_updated_then_started(kernelspecs, start_kernel):
    """A cell run while the job is held shows Slurm's reason in one line,
    which becomes "Job N started on NODE" once the job is released."""
    spec = kernelspecs.add(unique("news-held"), ["-p", "debug", "-t", "5",
                                         "--hold"])
    k = start_kernel(spec, wait=False)
    k.kc.wait_for_ready(timeout=60)
    [job] = wait_until(pending_jobs, 30, "the job to be queued")
    msg_id = k.kc.execute(WHERE)
    first = cell_news(k.kc, msg_id,
                      lambda m: m["msg_type"] == "display_data",
                      timeout=30)
    [shown] = first
    assert shown["content"]["data"]["text/plain"] == (
        f"Waiting for Slurm job {job} on partition debug: JobHeldUser")
    assert shim_made(shown)
    display_id = shown["content"]["transient"]["display_id"]

    subprocess.run(["scontrol", "release", job], check=True, timeout=60)
    rest = cell_news(k.kc, msg_id, lambda m: m["msg_type"] == "stream" and
                     m["content"]["name"] == "stdout", timeout=START_TIMEOUT)
    # Nothing else in the cell: a 5-minute job is not warned at its start
    # that it ends in 5 minutes (the default --warn-before=10m,1m).
    assert stderr_texts(rest) == [], rest
    node, ran_in = rest[-1]["content"]["text"].split()
    assert ran_in == job
    updates = [m for m in rest if m["msg_type"] == "update_display_data"]
    # In place: every change is an update of the one line; the last one
    # says where the kernel runs, before the kernel's own output.
    assert [m["content"]["transient"]["display_id"] for m in updates] == \
        [display_id] * len(updates)
    assert updates[-1]["content"]["data"]["text/plain"] == \
        f"Job {job} started on {node}"
    assert [m["msg_type"] for m in rest
            if m["msg_type"] != "execute_input"][-2:] == [
                "update_display_data", "stream"]
    assert "is pending (reason: JobHeldUser)" in k.shim_log()


def test_warning_then_time_limit_then_next_kernel(data_dir, start_kernel):
    """jupyter slurm add --warn-before=1m; the job's time limit shortened
    with scontrol update is the one warned of, in the running cell; the
    time limit then stops the kernel with an error output in that cell;
    the next kernel's first cell says what happened and where it runs."""
    spec = unique("news-warn")
    r = subprocess.run([GEN, "add", "python3", f"--name={spec}",
                        "--partition=debug", "--time=3", "--linger=0",
                        "--warn-before=1m"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    k = start_kernel(spec)
    content, out, err = run_cell(k.kc, WHERE)
    assert content["status"] == "ok" and err == ""
    node, job = out.split()
    subprocess.run(["scontrol", "update", f"JobId={job}", "TimeLimit=2"],
                   check=True, timeout=60)
    end = job_field(job, "EndTime")           # 2026-12-03T15:40:00
    # The client waiting for the cell's reply gets one: the cell ends.
    reply = k.kc.execute(SLEEP, reply=True, timeout=300)
    msg_id = reply["parent_header"]["msg_id"]
    news = cell_news(k.kc, msg_id, is_error, timeout=30)
    assert stderr_texts(news) == [
        f"Slurm job {job} ends in 1 minute (at {end[11:16]}). "
        "Save your work.\n"]
    error = news[-1]
    assert shim_made(error)
    assert error["content"]["ename"] == "SlurmJobEnded"
    assert error["content"]["evalue"] == DEATH.format(
        f"Slurm job {job} reached its time limit (0:02:00)")
    assert error["content"]["traceback"] == [error["content"]["evalue"]]
    ended(k.kc, reply, error, count_of(news))
    assert k.wait_exit() != 0

    k2 = start_kernel(spec)
    content, out, err = run_cell(k2.kc, WHERE)
    node2, job2 = out.split()
    assert err == (f"The previous kernel was stopped: Slurm job {job} "
                   f"reached its time limit (0:02:00). This kernel runs on "
                   f"{node2} in Slurm job {job2}.\n")
    # Once.
    content, out, err = run_cell(k2.kc, "print(1)")
    assert (out, err) == ("1\n", "")


def cancelled(kernelspecs, start_kernel, name, cancel):
    """A kernel running a cell, with another cell queued behind it, whose
    job is cancelled by cancel(job).  Returns the kernel, its node and job,
    the running cell's error output and each cell's reply, once the
    shim has exited."""
    spec = kernelspecs.add(unique(name), ["-p", "debug", "-t", "5"],
                           shim_args=("--linger=0", "--warn-before=0"))
    k = start_kernel(spec)
    node, job, _ = k.where()
    msg_id = running(k.kc, SLEEP)
    queued = k.kc.execute("print('never')")
    cancel(job)
    news = cell_news(k.kc, msg_id, is_error, timeout=120, log=k.shim_log)
    assert stderr_texts(news) == []
    replies = {}
    while len(replies) < 2:
        m = k.kc.get_shell_msg(timeout=30)
        replies[m["parent_header"]["msg_id"]] = m
    ended(k.kc, replies[msg_id], news[-1], count_of(news))
    assert k.wait_exit() != 0
    assert f"the kernel on {node} was stopped: job {job} was cancelled" \
        in k.shim_log()
    wait_until(job_gone(job), 60, f"job {job} to end")
    return job, news[-1], replies[queued]


def test_scancel_is_named(kernelspecs, start_kernel):
    """The user's own scancel: accounting says who, the running cell ends
    with it, the cell queued behind it is answered as not run."""
    def scancel(job):
        subprocess.run(["scancel", str(job)], check=True, timeout=60)

    job, error, queued = cancelled(kernelspecs, start_kernel, "news-cancel",
                                   scancel)
    cause = f"Slurm job {job} was cancelled by you (scancel)"
    assert error["content"]["evalue"] == DEATH.format(cause)
    assert queued["content"]["status"] == "error"
    assert queued["content"]["evalue"] == NOT_RUN.format(cause)
    assert queued["content"]["execution_count"] is None


def test_scancel_by_root_is_named(kernelspecs, start_kernel):
    job, error, _ = cancelled(kernelspecs, start_kernel, "news-root",
                              lambda job: inspect("scancel", str(job)))
    assert error["content"]["evalue"] == DEATH.format(
        f"Slurm job {job} was cancelled by an administrator (root)")


def test_node_failure_is_named(kernelspecs, start_kernel):
    spec = kernelspecs.add(unique("news-node"), ["-w", "n3", "-t", "5"],
                           shim_args=("--linger=0", "--warn-before=0"))
    k = start_kernel(spec)
    _, job, _ = k.where()
    msg_id = running(k.kc, SLEEP)
    with node_down("n3"):
        news = cell_news(k.kc, msg_id, is_error, timeout=120,
                         log=k.shim_log)
        assert news[-1]["content"]["evalue"] == DEATH.format(
            f"node n3 of Slurm job {job} failed")
        assert k.wait_exit() != 0
    wait_until(job_gone(job), 60, f"job {job} to end")
