# SPDX-License-Identifier: GPL-2.0-or-later
"""Allocations: linger, sharing, races, pending, start failures, slurmctld
restarts, multi-node jobs and the job epilog, as squeue and a notebook user
see them."""
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import (INSPECT, ME, inspect, job_gone, procs_gone, run_cell,
                      runtime_dirs, squeue, start_until_dead, wait_until)


def my_jobs(name_prefix="jupyter-kernel-"):
    """{job id: state} of my jobs whose name starts with name_prefix."""
    out = squeue("--user", ME, "--format=%i %j %T")
    jobs = {}
    for line in out.splitlines():
        jid, name, state = line.split()
        if name.startswith(name_prefix):
            jobs[int(jid)] = state
    return jobs


def stop(k):
    """What a Jupyter server does on "Shut down kernel"."""
    k.kc.stop_channels()
    k.km.shutdown_kernel(now=False)


def test_linger_counts_from_the_last_kernel(kernelspecs, start_kernel):
    """A leaves, B (in the same allocation) leaves later: the allocation
    lingers for the linger time after B, not after A."""
    linger = 15
    name = kernelspecs.add("linger-last", ["-p", "debug", "-t", "10"],
                           shim_args=["--share", f"--linger={linger}",
                                      "--shim-verbose"])
    a = start_kernel(name)
    _, job, _ = a.where()
    b = start_kernel(name)
    assert b.where()[1] == job
    stop(a)
    time.sleep(8)
    stop(b)
    # A's janitor looks at linger after A left, sees B left later, and
    # keeps the allocation.
    wait_until(lambda: "its last kernel's janitor releases it" in
               a.shim_log(), linger + 30, "A's janitor to decide")
    assert my_jobs().get(job) == "RUNNING"
    # A kernel arriving now (well within the linger after B) reuses it.
    c = start_kernel(name)
    assert c.where()[1] == job
    assert "reusing allocation" in c.shim_log()
    stop(c)
    wait_until(job_gone(job), linger + 30, f"job {job} to be released")
    wait_until(procs_gone, 30, "kernel, shim and srun processes to exit")


def test_unshared_kernels_never_share(kernelspecs, start_kernel):
    """Six kernels of one unshared kernelspec started at once: six
    allocations, none used by two kernels."""
    name = kernelspecs.add("unshared", ["-p", "debug", "-t", "10"],
                           shim_args=["--linger=0"])
    with ThreadPoolExecutor(6) as pool:
        kernels = list(pool.map(lambda _: start_kernel(name), range(6)))
    jobs = [k.where()[1] for k in kernels]
    assert len(set(jobs)) == 6, jobs
    for k in kernels:
        stop(k)
    for j in jobs:
        wait_until(job_gone(j), 45, f"job {j} to be released")


def test_leave_and_arrive_race(kernelspecs, start_kernel):
    """Two kernels leave while a third arrives, with no linger: the third
    always gets a working allocation (the same or a new one), and no
    allocation is left behind.  Repeated to give the race its chances."""
    name = kernelspecs.add("race", ["-p", "debug", "-t", "10"],
                           shim_args=["--share", "--linger=0"])
    seen = []
    for _ in range(5):
        a = start_kernel(name)
        b = start_kernel(name)
        _, job, _ = a.where()
        assert b.where()[1] == job
        with ThreadPoolExecutor(3) as pool:
            pool.submit(stop, a)
            pool.submit(stop, b)
            arriving = pool.submit(start_kernel, name)
        c = arriving.result()
        content, out, _ = run_cell(c.kc, "print(6 * 7)")
        assert out == "42\n"
        seen.append((job, c.where()[1]))
        stop(c)
        for j in seen[-1]:
            wait_until(job_gone(j), 45,
                       f"job {j} to be released (round {len(seen)})")
    # Record what happened, for the log of a failing run.
    print("allocations (first, arriving):", seen)


def test_pending_reason_is_logged_and_shutdown_cancels(kernelspecs,
                                                       start_kernel):
    """While the allocation waits, the server log names the job and
    Slurm's reason, again when the reason changes; shutting the pending
    kernel down cancels the job."""
    blocker = subprocess.run(
        ["sbatch", "--parsable", "-p", "debug", "-t", "5", "-J",
         "blocker", "--wrap", "sleep 300"],
        capture_output=True, text=True, check=True).stdout.strip()
    try:
        name = kernelspecs.add("pending", [
            "-p", "debug", "-t", "10", f"--dependency=afterany:{blocker}"])
        k = start_kernel(name, wait=False)
        m = wait_until(lambda: re.search(
            r"job (\d+) is pending \(reason: Dependency\)", k.shim_log()),
            60, "the pending reason in the log")
        job = int(m.group(1))
        assert my_jobs().get(job) == "PENDING"
        subprocess.run(["scontrol", "hold", str(job)], check=True)
        wait_until(lambda: f"job {job} is pending (reason: JobHeldUser)"
                   in k.shim_log(), 60, "the new reason in the log")
        stop(k)
        wait_until(job_gone(job), 30, f"pending job {job} to be cancelled")
        assert not k.km.is_alive()
    finally:
        subprocess.run(["scancel", blocker], check=True)
    wait_until(job_gone(int(blocker)), 30, "the blocker job to end")


def test_start_failures_leave_no_job(kernelspecs):
    """Slurm refuses the allocation: the kernel dies at once with Slurm's
    own message in the server log, and no job is left."""
    cases = {
        "bad-partition": (["-p", "nosuch"], "invalid partition"),
        "too-long": (["-p", "short", "-t", "10"],
                     "time limit"),
        "too-many-nodes": (["-p", "debug", "-N", "9"],
                           "node count specification invalid"),
        "bad-node": (["-p", "debug", "-w", "n9"], "invalid node name"),
    }

    def attempt(item):
        label, (args, message) = item
        code, text = start_until_dead(kernelspecs.root,
                                      kernelspecs.add(label, args), 60)
        return label, message, code, text

    before = set(my_jobs())
    with ThreadPoolExecutor(len(cases)) as pool:
        results = list(pool.map(attempt, cases.items()))
    for label, message, code, text in results:
        assert message in text.lower(), (label, text)
        assert "salloc: error" in text, (label, text)
        assert code not in (None, 0), (label, code, text)
    assert set(my_jobs()) <= before


def test_step_failure_releases_the_allocation(kernelspecs):
    """The allocation is granted but the kernel's step cannot start (here:
    a --kernel-node outside it): the kernel dies with srun's message in the
    log, and the allocation the shim made for it is released."""
    before = set(my_jobs())
    name = kernelspecs.add("bad-step", ["-p", "debug", "-w", "n1"],
                           shim_args=["--linger=0", "--kernel-node=n2"])
    code, text = start_until_dead(kernelspecs.root, name, 90)
    assert code != 0, text
    m = re.search(r"Granted job allocation (\d+)", text)
    assert m, text
    assert "srun: error" in text, text
    wait_until(job_gone(int(m.group(1))), 45,
               f"job {m.group(1)} to be released")
    assert set(my_jobs()) <= before


def test_srun_from_a_cell_reaches_every_node(kernelspecs, start_kernel):
    """In a two-node allocation the kernel runs on one node, and srun in a
    cell runs on both, as in a salloc shell."""
    k = start_kernel(kernelspecs.add("multi", ["-p", "debug", "-N", "2"]))
    env = run_cell(k.kc, "import os\nprint(os.environ['SLURM_NNODES'], "
                   "os.environ['SLURM_JOB_NUM_NODES'])")[1].split()
    assert env == ["2", "2"]
    content, out, err = run_cell(
        k.kc, "import subprocess\nprint(subprocess.run(['srun', '-N2', "
        "'hostname'], capture_output=True, text=True, check=True).stdout)")
    assert content["status"] == "ok", err
    _, job, _ = k.where()
    allocated = _expand(squeue("-j", str(job), "-o", "%N"))
    assert len(allocated) == 2
    assert sorted(out.split()) == sorted(allocated)


def _expand(hostlist):
    r = subprocess.run(["scontrol", "show", "hostnames", hostlist],
                       capture_output=True, text=True, check=True)
    return r.stdout.split()


def test_kernel_knows_its_end_time(kernelspecs, start_kernel):
    """SLURM_JUPYTER_END_TIME in the kernel is the allocation's end, as
    squeue shows it."""
    k = start_kernel(kernelspecs.add("endtime", ["-p", "debug", "-t", "7"]))
    _, job, _ = k.where()
    end = int(run_cell(k.kc, "import os\nprint(os.environ["
                       "'SLURM_JUPYTER_END_TIME'])")[1])
    slurm_end = squeue("-j", str(job), "-o", "%e")
    expected = int(time.mktime(time.strptime(slurm_end,
                                             "%Y-%m-%dT%H:%M:%S")))
    assert end == expected


def test_slurmctld_restart_mid_session(kernelspecs, start_kernel):
    """slurmctld goes away and comes back: the running kernel keeps
    working throughout, a kernel that leaves while it is away is released
    once it is back (the failed scancel is retried, not taken as "job
    gone"), and new kernels start afterwards."""
    name = kernelspecs.add("ctld", ["-p", "debug", "-t", "10"])
    k = start_kernel(name)
    leaving = start_kernel(name)
    _, left_job, _ = leaving.where()
    try:
        inspect("stop-slurmctld")
        assert run_cell(k.kc, "print(2 + 2)")[1] == "4\n"
        stop(leaving)
        time.sleep(5)
        assert run_cell(k.kc, "print(3 + 3)")[1] == "6\n"
    finally:
        inspect("start-slurmctld")
    wait_until(job_gone(left_job), 120, f"job {left_job} to be released")
    assert run_cell(k.kc, "print(4 + 4)")[1] == "8\n"
    again = start_kernel(name)
    assert run_cell(again.kc, "print('again')")[1] == "again\n"
    _, again_job, _ = again.where()
    _, job, _ = k.where()
    stop(again)
    stop(k)
    for j in (again_job, job):
        wait_until(job_gone(j), 60, f"job {j} to be released")


def test_salloc_jupyter_kernel_session(tmp_path, kernelspecs):
    """A user's `salloc --jupyter-kernel` with Jupyter inside: the kernel
    lands in that allocation; when the salloc shell ends the kernel ends,
    and the job epilog removes what a step left on the node."""
    name = kernelspecs.add("in-salloc", [])
    script = tmp_path / "server.py"
    script.write_text(
        "import jupyter_client, os, subprocess, sys\n"
        f"km, kc = jupyter_client.manager.start_new_kernel("
        f"kernel_name={name!r}, startup_timeout=90)\n"
        "out = []\n"
        "kc.execute_interactive('import os; print(os.environ[\"SLURM_JOB_ID\"],"
        " os.environ[\"SLURMD_NODENAME\"])', output_hook=lambda m: "
        "out.append(m['content'].get('text', '')), timeout=30)\n"
        "job, node = ''.join(out).split()\n"
        "assert job == os.environ['SLURM_JOB_ID'], (job, os.environ)\n"
        "subprocess.run(['sudo', '-n', sys.argv[1], 'plant-step-dir', job],"
        " check=True)\n"
        "print(job, node, flush=True)\n"
        # The shell ends with the kernel still running: no shutdown.
        "os._exit(0)\n")
    r = subprocess.run(
        ["salloc", "--jupyter-kernel", "-p", "debug", "-N1", "-t", "5",
         sys.executable, str(script), INSPECT[-1]],
        capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    job, node = r.stdout.split()
    assert node in ("n1", "n2", "n3")
    wait_until(job_gone(int(job)), 60, f"job {job} to end")
    wait_until(procs_gone, 30, "the kernel to end with the salloc shell")
    wait_until(lambda: not [d for d in runtime_dirs()
                            if d.startswith(f"{job}.")], 30,
               "the job epilog to remove the step directories")

