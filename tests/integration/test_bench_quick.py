# SPDX-License-Identifier: GPL-2.0-or-later
"""The benchmark (bench/run.py), once, in quick mode.

`make bench` measures; this only proves that the harness still works: it
completes, reports every figure for every mode, and leaves nothing of its
own behind (no job, step, process or step directory).  No timing is
asserted.  Self-contained: no fixture of conftest.py is used.
"""
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
# In a folder bench beside this file when tests/integration/run copies it
# there with the tests (run.py imports the modules beside it); in the
# repository when pytest runs from the tree.
HARNESS = (HERE / "bench" / "run.py",
           HERE.parent.parent / "bench" / "run.py")
RUNTIME_DIR = "/run/spank-jupyter"
TOKEN_VAR = "SJ_BENCH_RUN"
INSPECT = "/var/lib/spank-jupyter-cluster/bin/sj-inspect"

MODES = ("local", "new", "linger", "jobid")
SHIM_MODES = ("new", "linger", "jobid")
SCALE_MODES = ("local", "new", "jobid")

# figure -> the statistics every mode must report, as numbers.
FIGURES = {
    "start": ("median_s", "min_s", "max_s", "iopub_median_s"),
    "rtt": ("median_ms", "p99_ms"),
    "stdout": ("seconds", "mb_per_s"),
    "small_msgs": ("seconds", "msgs_per_s", "messages"),
    "shutdown": ("median_s",),
    "restart": ("median_s", "call_median_s"),
}
SHIM_MEMORY = ("login_shim", "node_shim", "janitor")
SCALE = ("all_ready_s", "all_exited_s", "clean_after_s")


def harness():
    for p in HARNESS:
        if p.is_file():
            return p
    pytest.fail("bench/run.py not found beside this test nor in the "
                "repository: " + ", ".join(map(str, HARNESS)))


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    r = subprocess.run([sys.executable, str(harness()), "--quick",
                        "--out", str(out)],
                       capture_output=True, text=True, timeout=1800)
    data = json.loads(out.read_text()) if out.exists() else None
    return r, data


def _tail(r):
    return f"stdout:\n{r.stdout[-4000:]}\nstderr:\n{r.stderr[-4000:]}"


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0


def test_completes(quick):
    r, data = quick
    assert data is not None, f"no JSON written\n{_tail(r)}"
    assert data["errors"] == [], _tail(r)
    assert r.returncode == 0, _tail(r)
    assert data["quick"] is True
    for key in ("nproc", "memory_gib", "kernel", "slurm"):
        assert data["machine"].get(key), key
    assert "start → ready" in data["table"]


def test_every_figure_for_every_mode(quick):
    _, data = quick
    assert data is not None
    for mode in MODES:
        figs = data["modes"][mode]["figures"]
        for fig, stats in FIGURES.items():
            for stat in stats:
                assert _number(figs.get(fig, {}).get(stat)), \
                    f"{mode}: {fig}.{stat} = {figs.get(fig, {}).get(stat)}"
        assert figs["small_msgs"]["messages"] > 0, mode
        assert figs["rtt"]["reps"] == data["config"]["rtt_reps"], mode
        assert _number(figs["memory"]["kernel"]["hwm_kib"]), mode
        if mode in SHIM_MODES:
            for fig in ("memory_rest", "memory"):
                for proc in SHIM_MEMORY:
                    for stat in ("hwm_kib", "rss_kib"):
                        assert _number(figs[fig].get(proc, {}).get(stat)), \
                            f"{mode}: {fig} of {proc}: {stat}"
            # The kernel ran on a compute node, under the shim.
            assert figs["where"]["node"] in ("n1", "n2", "n3"), mode
        if mode in SCALE_MODES:
            s = figs.get("scale", {})
            for stat in SCALE:
                assert _number(s.get(stat)), f"{mode}: scale.{stat}"
            assert s["kernels"] == data["config"]["scale"], mode


def _our_processes(token):
    # As root: the shims are not dumpable, so only root reads their
    # environment.
    r = subprocess.run(["sudo", "-n", INSPECT, "procs-grep", "-"],
                       input=f"{TOKEN_VAR}={token}\n", text=True,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    found = []
    for pid in sorted({int(line.split()[0]) for line in r.stdout.splitlines()}):
        try:
            with open(f"/proc/{pid}/status") as f:
                uid = re.search(r"^Uid:\s+(\d+)", f.read(), re.M)
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if uid and int(uid.group(1)) == os.getuid():
            found.append(f"{pid} {cmd}")
    return found


def test_nothing_left_behind(quick):
    _, data = quick
    assert data is not None
    # The harness's own account, after each scale run and at the end.
    for mode in SCALE_MODES:
        left = data["modes"][mode]["figures"]["scale"]["leftovers"]
        assert not any(left.values()), f"scale {mode}: {left}"
    assert not any(data["final_leftovers"].values()), data["final_leftovers"]
    # And a look of our own, now: processes carrying the run's token, jobs
    # carrying its comment, step directories of any job it used.
    assert _our_processes(data["config"]["token"]) == []
    q = subprocess.run(["squeue", "--noheader", f"--user={os.getuid()}",
                        "--format=%i %k"], capture_output=True, text=True,
                       timeout=60)
    assert q.returncode == 0, q.stderr
    assert [l for l in q.stdout.splitlines()
            if data["config"]["tag"] in l] == []
    jobs = set(data["seen_jobs"])
    assert len(jobs) >= 3     # new, linger and the --jobid allocation
    q = subprocess.run(["squeue", "--noheader", "--steps",
                        f"--user={os.getuid()}", "--format=%i"],
                       capture_output=True, text=True, timeout=60)
    assert q.returncode == 0, q.stderr
    assert [s for s in q.stdout.split() if s.split(".")[0] in jobs] == []
    try:
        dirs = os.listdir(RUNTIME_DIR)
    except FileNotFoundError:
        dirs = []
    assert [d for d in dirs if d.split(".")[0] in jobs] == []
