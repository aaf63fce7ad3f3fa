# SPDX-License-Identifier: GPL-2.0-or-later
"""`jupyter slurm ps` and `cancel` (issue 16): the allocations of a user's
kernels on this login host, as the user lists and releases them from a
terminal."""
import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import as_other, job_gone, procs_gone, squeue, wait_until

GEN = "jupyter-slurm"


def lock_dir():
    """Where the shims of this user keep their lock files (common/slurm/lockdir.h:
    the tests run without XDG_RUNTIME_DIR, and sjtest has no /run/user)."""
    run_user = Path(f"/run/user/{os.getuid()}")
    assert "XDG_RUNTIME_DIR" not in os.environ and not run_user.exists()
    return (Path(os.environ["HOME"]) / ".cache" / "slurm-jupyter" /
            socket.gethostname().split(".")[0])


def gen(*args):
    return subprocess.run([GEN, *args], capture_output=True, text=True,
                          timeout=180)


def ps_json():
    r = gen("ps", "--json")
    assert r.returncode == 0 and r.stderr == "", r
    return {a["jobid"]: a for a in json.loads(r.stdout)}


def one_line(r):
    """A refusal: exit 2, nothing on stdout, one line on stderr."""
    assert r.returncode == 2, r
    assert r.stdout == "", r
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("jupyter-slurm: cancel: "), r
    return lines[0]


def salloc_own():
    """The user's own allocation, as `salloc --jupyter-kernel` makes it."""
    r = subprocess.run(["salloc", "--no-shell", "--jupyter-kernel", "-p",
                        "debug", "-N1", "-t", "10", "-J", "my-own"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return int(re.search(r"Granted job allocation (\d+)", r.stderr)[1])


def check_entry(e, jobid, node, kernels, kernelspec, made_by):
    assert e["jobid"] == jobid
    assert e["state"] == "RUNNING" and e["reason"] is None, e
    assert e["partition"] == "debug" and e["nodes"] == node, e
    # -t 10: at most ten minutes left, and Slurm prints what it counts.
    assert 0 < e["time_left_seconds"] <= 600, e
    assert re.fullmatch(r"\d+:\d\d", e["time_left"]), e
    assert e["kernels"] == kernels, e
    assert e["kernelspec"] == kernelspec and e["made_by"] == made_by, e


def test_ps_and_cancel(kernelspecs, start_kernel):
    shared = kernelspecs.add("ps-shared", ["-p", "debug", "-t", "10"],
                             shim_args=["--share", "--linger=0"])
    alone = kernelspecs.add("ps-alone", ["-p", "debug", "-t", "10"])
    own = salloc_own()
    other = None
    try:
        mine = kernelspecs.add("ps-mine", [],
                               shim_args=["--linger=0", f"--jobid={own}"])
        a, b = start_kernel(shared), start_kernel(shared)
        c, d = start_kernel(alone), start_kernel(mine)
        (na, ja, _), (nb, jb, _) = a.where(), b.where()
        nc, jc, _ = c.where()
        nd, jd, _ = d.where()
        assert ja == jb and na == nb and jc != ja and jd == own

        entries = ps_json()
        assert sorted(entries) == sorted([ja, jc, own]), entries
        check_entry(entries[ja], ja, na, 2, shared, "shim")
        check_entry(entries[jc], jc, nc, 1, alone, "shim")
        check_entry(entries[own], own, nd, 1, mine, "user")

        # The table: a header and the same three, by job id.
        r = gen("ps")
        assert r.returncode == 0 and r.stderr == "", r
        lines = r.stdout.splitlines()
        assert lines[0].split() == ["JOBID", "STATE", "PARTITION", "NODES",
                                    "TIME", "LEFT", "KERNELS", "KERNELSPEC",
                                    "MADE", "BY"]
        rows = {int(line.split()[0]): line.split() for line in lines[1:]}
        assert sorted(rows) == sorted([ja, jc, own])
        assert rows[ja][:4] == [str(ja), "RUNNING", "debug", na]
        assert rows[ja][5:] == ["2", shared, "shim"]
        assert rows[jc][5:] == ["1", alone, "shim"]
        assert rows[own][5:] == ["1", mine, "you"]

        # Refused, one line each, and nothing cancelled.
        line = one_line(gen("cancel", str(own)))
        assert f"job {own} is your own allocation" in line
        assert "--force" in line
        line = one_line(gen("cancel", "12ab"))
        assert '"12ab" is not a job id' in line
        line = one_line(gen("cancel", "999999"))
        assert "no job 999999" in line
        one_line(gen("cancel"))
        r = as_other("sbatch", "--parsable", "-p", "debug", "-t", "5",
                     "-J", "others", "--wrap", "sleep 300")
        assert r.returncode == 0, r.stderr
        other = int(r.stdout.strip().split(";")[0])
        line = one_line(gen("cancel", str(other)))
        assert f"job {other} is sjother's, not yours: refused" in line
        # A good id with a bad one: nothing is cancelled.
        one_line(gen("cancel", str(jc), str(other)))
        assert sorted(ps_json()) == sorted([ja, jc, own])

        # One allocation: its kernels end, no job, no lock file.
        r = gen("cancel", str(ja))
        assert (r.returncode, r.stderr) == (0, ""), r
        assert r.stdout == f"cancelled job {ja} ({shared}): 2 kernels " \
                           "ended\n"
        a.wait_exit()
        b.wait_exit()
        assert not (lock_dir() / f"{ja}.lock").exists()
        wait_until(job_gone(ja), 60, f"job {ja} to end")
        assert c.km.is_alive() and d.km.is_alive()
        assert sorted(ps_json()) == sorted([jc, own])

        # --all: every one a kernel made; the user's own is kept.
        r = gen("cancel", "--all")
        assert (r.returncode, r.stderr) == (0, ""), r
        assert sorted(r.stdout.splitlines()) == sorted([
            f"cancelled job {jc} ({alone}): 1 kernel ended",
            f"kept job {own}: your own allocation (--force cancels it too)"])
        c.wait_exit()
        assert not (lock_dir() / f"{jc}.lock").exists()
        wait_until(job_gone(jc), 60, f"job {jc} to end")
        assert d.km.is_alive()
        assert squeue("-j", str(own), "-o", "%T") == "RUNNING"

        # --force: the user's own too.
        r = gen("cancel", "--force", str(own))
        assert (r.returncode, r.stderr) == (0, ""), r
        assert r.stdout == f"cancelled job {own} ({mine}): 1 kernel ended\n"
        d.wait_exit()
        assert not (lock_dir() / f"{own}.lock").exists()
        wait_until(job_gone(own), 60, f"job {own} to end")
        r = gen("ps")
        assert (r.returncode, r.stderr) == (0, ""), r
        assert r.stdout == ("no allocations of your Jupyter kernels on "
                            "this host\n")
        assert ps_json() == {}
    finally:
        subprocess.run(["scancel", str(own)], timeout=60)
        if other is not None:
            as_other("scancel", str(other))


def test_ps_tidies_lock_files_of_ended_jobs(kernelspecs):
    """A lock file left by a job that has ended, held by no kernel, is
    removed by ps as a janitor would; ps does not list it."""
    own = salloc_own()
    stale = lock_dir() / f"{own}.lock"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("made-by=user\nkernelspec=gone-spec\n")
    try:
        assert ps_json()[own]["kernels"] == 0
        assert stale.exists()
    finally:
        subprocess.run(["scancel", str(own)], check=True, timeout=60)
    wait_until(job_gone(own), 60, f"job {own} to end")
    assert own not in ps_json()
    assert not stale.exists()


def test_cancel_a_lingering_allocation(kernelspecs, start_kernel):
    """An allocation no kernel uses any more, lingering: cancel releases
    it at once, and the janitor that would have released it after the
    linger leaves no lock file behind."""
    name = kernelspecs.add("ps-linger", ["-p", "debug", "-t", "10"],
                           shim_args=["--linger=20"])
    k = start_kernel(name)
    _, job, _ = k.where()
    k.kc.stop_channels()
    k.km.shutdown_kernel(now=False)
    entry = ps_json()[job]
    assert (entry["state"], entry["kernels"]) == ("RUNNING", 0), entry
    r = gen("cancel", str(job))
    assert (r.returncode, r.stderr) == (0, ""), r
    assert r.stdout == f"cancelled job {job} ({name}): 0 kernels ended\n"
    wait_until(job_gone(job), 60, f"job {job} to end")
    wait_until(procs_gone, 60, "the janitor to end after the linger")
    assert not (lock_dir() / f"{job}.lock").exists()
    assert ps_json() == {}


def test_ps_lists_a_waiting_request_and_cancel_withdraws_it(kernelspecs,
                                                            start_kernel):
    """A kernel whose job Slurm holds: ps lists the request as PENDING with
    Slurm's reason before anything is granted; cancel withdraws it, the
    held cell is told why, and nothing is left behind."""
    from test_news import cell_news, is_error, pending_jobs
    name = kernelspecs.add("ps-waiting", ["-p", "debug", "-t", "10",
                                          "--hold"])
    k = start_kernel(name, wait=False)
    k.kc.wait_for_ready(timeout=60)
    [job] = wait_until(pending_jobs, 30, "the job to be queued")
    job = int(job)
    msg_id = k.kc.execute("print(1)")

    entries = wait_until(lambda: ps_json() or None, 30,
                         "ps to list the request")
    assert sorted(entries) == [job], entries
    e = entries[job]
    assert (e["state"], e["reason"], e["partition"]) == \
        ("PENDING", "JobHeldUser", "debug"), e
    assert (e["nodes"], e["time_left"], e["time_left_seconds"]) == \
        (None, None, None), e
    assert (e["kernels"], e["kernelspec"], e["made_by"]) == \
        (1, name, "shim"), e
    r = gen("ps")
    assert (r.returncode, r.stderr) == (0, ""), r
    [row] = r.stdout.splitlines()[1:]
    assert row.split() == [str(job), "PENDING", "(JobHeldUser)", "debug",
                           "-", "-", "1", name, "shim"], r.stdout

    r = gen("cancel", str(job))
    assert (r.returncode, r.stderr) == (0, ""), r
    assert r.stdout == f"cancelled job {job} ({name}): 1 kernel ended\n"
    news = cell_news(k.kc, msg_id, is_error, timeout=60, log=k.shim_log)
    # The waiting line, shown first, says so in place; then the error.
    lines = [m for m in news if m["msg_type"] in
             ("display_data", "update_display_data")]
    assert [m["msg_type"] for m in lines] == \
        ["display_data", "update_display_data"], news
    assert lines[0]["content"]["data"]["text/plain"].startswith(
        f"Waiting for Slurm job {job} on partition debug: "), news
    assert lines[-1]["content"]["data"]["text/plain"] == \
        f"Job {job} did not start", news
    assert (lines[-1]["content"]["transient"] ==
            lines[0]["content"]["transient"]), news
    assert news[-1]["content"]["evalue"] == (
        f"The kernel did not start: Slurm job {job} was cancelled "
        "(scancel) before it was granted. Restart the kernel to ask Slurm "
        "again.")
    assert k.wait_exit() == 1, k.shim_log()
    wait_until(job_gone(job), 60, f"job {job} to end")
    wait_until(procs_gone, 60, "the janitor to end")
    assert not (lock_dir() / f"{job}.lock").exists()
    assert ps_json() == {}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_notebook_culler_releases_the_allocation(kernelspecs, tmp_path):
    """Classic Notebook's own culler (MappingKernelManager.cull_idle_timeout)
    shuts an idle Slurm kernel down through the shim like any kernel; the
    allocation is released after the kernelspec's linger."""
    name = kernelspecs.add("culled", ["-p", "debug", "-t", "10"],
                           shim_args=["--linger=3", "--shim-verbose"])
    port, token = free_port(), os.urandom(16).hex()
    base = f"http://127.0.0.1:{port}/api"

    def api(method, path, body=None):
        req = urllib.request.Request(
            base + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")

    def up():
        try:
            return api("GET", "/status")[0] == 200
        except OSError:
            return False

    log = open(tmp_path / "server.log", "w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "notebook", "--no-browser",
         "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
         f"--NotebookApp.token={token}",
         f"--notebook-dir={tmp_path}",
         "--MappingKernelManager.cull_idle_timeout=10",
         "--MappingKernelManager.cull_interval=2"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(up, 60, "the notebook server to answer")
        status, kernel = api("POST", "/kernels", {"name": name})
        assert status == 201 and kernel["name"] == name, kernel

        def allocation():
            e = [a for a in ps_json().values() if a["kernelspec"] == name]
            return e[0] if e and e[0]["kernels"] == 1 else None
        job = wait_until(allocation, 120, "ps to list the kernel's job")
        assert job["state"] == "RUNNING" and job["made_by"] == "shim"
        job = job["jobid"]

        wait_until(lambda: api("GET", "/kernels")[1] == [], 120,
                   "the culler to shut the idle kernel down")
        wait_until(job_gone(job), 60, f"job {job} to be released")
        log.flush()
        text = (tmp_path / "server.log").read_text()
        assert re.search(r"Culling '?idle'? kernel", text), text
        assert f"released allocation {job}" in text, text
        assert not (lock_dir() / f"{job}.lock").exists()
        assert ps_json() == {}
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
