#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/run.py - how a kernel on a compute node compares with a local one.

Runs as an unprivileged user of the local test cluster (bench/bench runs it
as sjtest; `make bench`, `make bench-quick`) with Debian's python3 and
jupyter_client, and measures, side by side in one run:

  local   a plain local ipykernel (the baseline every ratio is taken to)
  new     through slurm-jupyter-shim into a new allocation (--linger=0)
  linger  through the shim into a lingering allocation, as on a restart
          (default --linger; a warm-up kernel leaves the allocation behind)
  jobid   through the shim into an existing allocation (--jobid of one this
          program makes with `salloc --no-shell` and cancels at the end)

Figures: start to ready (the first kernel_info reply; also the first
iopub message), execute round trip of a trivial cell, iopub throughput
(20 MB of stdout, 10 000 small messages), shutdown_request to process exit,
Jupyter's own restart (KernelManager.restart_kernel) to ready, resident
memory of each shim process (at rest, and its peak after the output
bursts), and 50 kernels started at once from this one process, followed by
a check that nothing of theirs is left behind.  Every figure is measured in
rounds that visit each mode in turn, so that a busy spell on a shared
machine hits all modes alike.  Prints a markdown table (ratios to local)
and writes JSON.  --phases also runs the shims with --shim-verbose and a
kernel that stamps its own start-up, and records when each phase of every
start happened (salloc, srun, rendezvous, kernel exec, sockets bound, ...).

Timing uses a minimal client (pyzmq sockets and jupyter_client's Session)
rather than jupyter_client's KernelClient, whose wait_for_ready flushes
iopub for 0.2 s and whose blocking calls add overhead of their own: the
figures are about the kernel's transport, not the client library.
jupyter_client's KernelManager (AsyncKernelManager for the scale run)
starts, restarts and stops the kernels, exactly as a Jupyter server does.

Nothing here is a test: no figure is checked against its target.  The exit
status is 0 when every measurement completed and nothing was left behind.
"""
# The modules beside this file, one job each: config (modes, sizes,
# targets, paths), procs (processes and Slurm's queue), client (the raw
# Jupyter client), kernel (the kernel under measurement and its phases),
# figures and scale (the measurements, parts of Bench), report (statistics
# and the results table).  This file: Bench's setup, leak check and run;
# main.
import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import jupyter_client
import zmq

from client import wait_ready_many
from config import (CLEAN_TIMEOUT, FULL, LABELS, MODES, QUICK, SCALE_MODES,
                    SHIM, START_TIMEOUT, TOKEN_VAR, log, mono)
from figures import Figures
from kernel import KERNEL_ARGV, STAMPED_KERNEL_ARGV, Kernel, StderrLog
from procs import (foreign_jobs, jupyterish_processes, our_jobs,
                   our_processes, slurm_version, step_dirs_of, steps_of)
from report import rnd, table
from scale import Scale


class Bench(Figures, Scale):
    def __init__(self, args):
        self.args = args
        self.cfg = dict(QUICK if args.quick else FULL)
        for k in self.cfg:
            v = getattr(args, k, None)
            if v is not None:
                self.cfg[k] = v
        self.token = uuid.uuid4().hex[:12]
        self.tag = f"sjbench-{self.token}"
        os.environ[TOKEN_VAR] = self.token
        if args.phases:
            os.environ["SLURM_JUPYTER_SHIM_DEBUG"] = "1"
        self.tmp = tempfile.mkdtemp(prefix="sjbench.")
        os.environ["JUPYTER_PATH"] = self.tmp
        os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(self.tmp, "runtime")
        os.makedirs(os.environ["JUPYTER_RUNTIME_DIR"], mode=0o700)
        self.logdir = os.path.join(self.tmp, "logs")
        os.makedirs(self.logdir)
        self.ctx = zmq.Context()
        self.live = set()
        self.nlog = 0
        self.seen_jobs = set()
        self.jobid = None
        self.result = {"modes": {m: {"label": LABELS[m], "figures": {}}
                                 for m in MODES}}

    # kernelspecs -----------------------------------------------------

    def write_specs(self):
        shim = self.args.shim
        verbose = ["--shim-verbose"] if self.args.phases else []
        kernel = STAMPED_KERNEL_ARGV if self.args.phases else KERNEL_ARGV
        tail = ["-f", "{connection_file}", "--", *kernel]
        # Each mode's comment marks its jobs for the leak check and gives
        # it a job name (a hash of the Slurm options) of its own, so that
        # no mode reuses another's allocation.
        specs = {
            "local": kernel,
            "new": [shim, "--linger=0", *verbose,
                    f"--comment={self.tag}-new", *tail],
            # The default linger: what a user's restart finds.
            "linger": [shim, *verbose, f"--comment={self.tag}-linger",
                       *tail],
            "jobid": [shim, f"--jobid={self.jobid}", *verbose, *tail],
        }
        env = dict(e.split("=", 1) for e in self.args.shim_env)
        for m, argv in specs.items():
            d = os.path.join(self.tmp, "kernels", f"sjbench-{m}")
            os.makedirs(d)
            spec = {"argv": argv, "display_name": LABELS[m],
                    "language": "python", "interrupt_mode": "signal"}
            if m != "local" and env:
                spec["env"] = env
            with open(os.path.join(d, "kernel.json"), "w") as f:
                json.dump(spec, f)
            self.result["modes"][m]["argv"] = argv

    def make_allocation(self):
        """The existing allocation of mode jobid, ours to cancel."""
        r = subprocess.run(["salloc", "--no-shell", "--nodes=1",
                            f"--comment={self.tag}-jobid",
                            "--job-name=sjbench-existing"],
                           capture_output=True, text=True, timeout=120)
        m = re.search(r"Granted job allocation (\d+)", r.stderr)
        if r.returncode != 0 or not m:
            raise RuntimeError(f"salloc: exit {r.returncode}: {r.stderr}")
        self.jobid = m.group(1)
        self.seen_jobs.add(self.jobid)
        log(f"existing allocation for mode jobid: {self.jobid}")

    def cancel_allocation(self):
        if self.jobid is None:
            return
        for _ in range(3):
            r = subprocess.run(["scancel", self.jobid], capture_output=True,
                               text=True, timeout=60)
            if r.returncode == 0:
                return
            time.sleep(1)
        log(f"cannot cancel allocation {self.jobid}: {r.stderr.strip()}")

    # one kernel -----------------------------------------------------

    def launch(self, mode):
        self.nlog += 1
        km = jupyter_client.KernelManager(kernel_name=f"sjbench-{mode}")
        lg = StderrLog(os.path.join(self.logdir, f"{mode}-{self.nlog}.log"))
        t0 = mono()
        km.start_kernel(stderr=lg.w)
        lg.started()
        k = Kernel(self, km, t0, lg)
        self.live.add(k)
        return k

    def start(self, mode):
        k = self.launch(mode)
        try:
            wait_ready_many([k.ready], START_TIMEOUT, lambda i: k.alive())
        except RuntimeError as e:
            k.close()
            raise RuntimeError(f"{mode}: {e}; its log:\n{k.log.text()}")
        return k

    def note_foreign(self, where):
        jobs = [j for j in foreign_jobs(self.tag)
                if not j.startswith(f"{self.jobid}|")]
        if jobs:
            seen = self.result.setdefault("foreign_jobs", {})
            have = seen.setdefault(where, [])
            have += [j for j in jobs if j not in have]

    def note_jobs(self):
        self.seen_jobs.update(our_jobs(self.tag))

    def stop(self, k):
        k.request_shutdown()
        return k.finish_shutdown()

    def wait_idle(self, mode):
        """For mode new: the last allocation is gone before the next start
        ("on an idle cluster")."""
        if mode != "new":
            return
        deadline = mono() + 60
        while our_jobs(f"{self.tag}-new"):
            if mono() > deadline:
                raise RuntimeError("allocations of mode new still there "
                                   "60 s after their kernels ended")
            time.sleep(0.1)

    # leaks --------------------------------------------------------------

    def leftovers(self, exclude_job=None, token=None, jobs_from=None):
        """Jobs, steps, processes and step directories of ours.  token:
        processes of one phase only; jobs_from: the jobs of that phase."""
        jobs = {j: s for j, s in our_jobs(self.tag).items()
                if j != exclude_job}
        self.seen_jobs.update(jobs)
        if jobs_from is not None:
            jobs = {j: s for j, s in jobs.items() if j in jobs_from}
        which = self.seen_jobs if jobs_from is None else jobs_from
        return {
            "jobs": [f"{j} {s}" for j, s in sorted(jobs.items())],
            "steps": steps_of(which),
            "processes": [f"{p} {c}" for p, c in
                          our_processes(token or self.token)],
            "step_dirs": step_dirs_of(which),
        }

    def wait_clean(self, exclude_job=None, timeout=CLEAN_TIMEOUT,
                   token=None, jobs_from=None):
        """Polls until nothing of ours is left; returns what is still left
        (nothing, unless timed out) and how long it took.  self.first_left
        is what was there at the first look."""
        t0 = mono()
        self.first_left = None
        while True:
            left = self.leftovers(exclude_job, token, jobs_from)
            if self.first_left is None:
                self.first_left = left
            if not any(left.values()) or mono() - t0 > timeout:
                return left, mono() - t0
            time.sleep(0.25)

    # run ------------------------------------------------------------------

    def machine(self):
        with open("/proc/meminfo") as f:
            mem = f.read()
        cpu = ""
        try:
            with open("/proc/cpuinfo") as f:
                g = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
                cpu = g.group(1) if g else ""
        except OSError:
            pass
        g = re.search(r"^MemTotal:\s+(\d+) kB", mem, re.M)
        shim_version = subprocess.run([self.args.shim, "--version"],
                                      capture_output=True, text=True)
        return {
            "nproc": len(os.sched_getaffinity(0)),
            "cpu": cpu,
            "memory_gib": round(int(g.group(1)) / 2**20, 1) if g else None,
            "kernel": platform.release(),
            "os": _os_release(),
            "slurm": slurm_version(),
            "python": platform.python_version(),
            "jupyter_client": jupyter_client.__version__,
            "ipykernel": _version("ipykernel"),
            "pyzmq": zmq.__version__,
            "libzmq": zmq.zmq_version(),
            "shim": (shim_version.stdout or shim_version.stderr).strip(),
            "cluster": "tests/cluster: slurmctld and 3 slurmd (n1-n3, "
                       "32 CPUs each as configured) in network namespaces "
                       "of this one machine",
        }

    def run(self):
        res = self.result
        res["started"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        res["quick"] = bool(self.args.quick)
        res["config"] = dict(self.cfg, token=self.token, tag=self.tag,
                             phases=bool(self.args.phases),
                             shim_env=self.args.shim_env)
        res["machine"] = self.machine()
        # Other work on the machine shows here (the cluster is shared).
        res["loadavg_before"] = _loadavg()
        errors = []
        try:
            try:
                self.make_allocation()
                self.write_specs()
                self.measure()
            except Exception as e:
                errors.append(f"{e}")
                log(f"ERROR: {e}")
                self.close_all()
            if not self.args.no_scale and self.jobid is not None:
                for mode in SCALE_MODES:
                    if mode not in self.args.modes:
                        continue
                    try:
                        self.scale(mode)
                    except Exception as e:
                        errors.append(f"scale {mode}: {e}")
                        log(f"ERROR scale {mode}: {e}")
                        self.close_all()
        finally:
            try:
                self.close_all()
            finally:
                self.cancel_allocation()
        # Lingering allocations end on their own (the janitor's linger).
        left, took = self.wait_clean()
        res["final_leftovers"] = left
        res["seen_jobs"] = sorted(self.seen_jobs, key=int)
        res.setdefault("foreign_jobs", {})
        res["final_clean_after_s"] = rnd(took)
        res["other_jupyter_processes"] = jupyterish_processes()
        res["errors"] = errors
        res["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        res["loadavg_after"] = _loadavg()
        res["table"] = table(res)
        return not errors and not any(left.values()) and not any(
            any(m["figures"].get("scale", {}).get("leftovers", {}).values())
            for m in res["modes"].values())

    def close_all(self):
        for k in list(self.live):
            k.close()

    def cleanup(self):
        self.ctx.destroy(linger=0)
        if self.args.keep_logs:
            log(f"logs kept in {self.logdir}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _os_release():
    try:
        with open("/etc/os-release") as f:
            g = re.search(r'^PRETTY_NAME="?([^"\n]*)', f.read(), re.M)
            return g.group(1) if g else ""
    except OSError:
        return ""


def _loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def _version(mod):
    try:
        return __import__(mod).__version__
    except Exception:
        return None



# ------------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="few repetitions and small sizes (make check)")
    p.add_argument("--out", default="latest.json", help="JSON results")
    p.add_argument("--shim", default=SHIM)
    p.add_argument("--modes", default=",".join(MODES),
                   help="comma-separated subset of " + ",".join(MODES))
    p.add_argument("--phases", action="store_true",
                   help="run the shims with --shim-verbose and a kernel "
                   "that stamps its own start-up; record when each phase "
                   "of each start happened")
    p.add_argument("--shim-env", action="append", default=[],
                   metavar="NAME=VALUE", help="environment of the shim "
                   "modes' kernels (experiments, e.g. LD_PRELOAD)")
    p.add_argument("--no-scale", action="store_true")
    p.add_argument("--keep-logs", action="store_true")
    for k in FULL:
        p.add_argument("--" + k.replace("_", "-"), type=int, dest=k,
                       help=f"default {FULL[k]} (quick: {QUICK[k]})")
    args = p.parse_args()
    args.modes = [m for m in args.modes.split(",") if m]
    bad = [m for m in args.modes if m not in MODES]
    if bad or "local" not in args.modes:
        p.error(f"--modes: {bad or 'local is the baseline and needed'}")

    # A stop by signal still cleans up (the finally clauses run).
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda n, f: sys.exit(128 + n))
    b = Bench(args)
    ok = False
    try:
        ok = b.run()
    finally:
        with open(args.out + ".tmp", "w") as f:
            json.dump(b.result, f, indent=1)
        os.replace(args.out + ".tmp", args.out)
        b.cleanup()
    print(b.result.get("table", ""))
    m = b.result["machine"]
    print(f"\n{m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, Linux "
          f"{m['kernel']}, {m['slurm']}; results in {args.out}")
    if b.result.get("errors"):
        print("errors: " + "; ".join(b.result["errors"]))
    if b.result.get("foreign_jobs"):
        print("note: other users' jobs were in the queue during: " +
              ", ".join(sorted(b.result["foreign_jobs"])))
    if any(b.result.get("final_leftovers", {}).values()):
        print(f"LEFT BEHIND: {b.result['final_leftovers']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

