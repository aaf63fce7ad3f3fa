# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/figures.py - the figures of one run: start to ready, round trip,
output, restart, memory (Figures, a part of run.py's Bench)."""
import os
import statistics
import subprocess

from client import cell_value, execute
from config import log
from kernel import alloc_kind, phases_of
from procs import proc_children, proc_cmdline, proc_memory, proc_read
from report import med, pct, rnd


class Figures:
    """Bench's measurements (run.py's Bench is made of this, Scale and
    its own setup, leak check and run)."""

    # The machine may be shared (other users of the test cluster, other
    # work): every figure is measured in rounds that visit each mode in
    # turn, so that a slow spell hits all modes alike and the ratios hold.

    def figs(self, mode):
        return self.result["modes"][mode]["figures"]

    def measure(self):
        modes, cfg = self.args.modes, self.cfg
        # Warm-ups, not counted: file caches, and for mode linger the
        # allocation the restarts find.
        for m in modes:
            k = self.start(m)
            self.figs(m)["warmup_start_s"] = rnd(k.start_s)
            if m != "local":
                self.note_jobs()
            self.stop(k)
            self.wait_idle(m)
        log("warm-ups: " + ", ".join(
            f"{m} {self.figs(m)['warmup_start_s']:.3f} s" for m in modes))

        starts = {m: [] for m in modes}
        iopubs = {m: [] for m in modes}
        phases = {m: [] for m in modes}
        downs = {m: [] for m in modes}
        kinds = {m: [] for m in modes}
        for i in range(cfg["start_reps"]):
            for m in modes:
                self.note_foreign(m)
                k = self.start(m)
                starts[m].append(k.start_s)
                kinds[m].append(alloc_kind(k.log))
                iopubs[m].append(k.iopub_s)
                if self.args.phases:
                    ph = phases_of(k.log, k.t0)
                    ph["ready"] = rnd(k.start_s)
                    phases[m].append(ph)
                if m != "local":
                    self.note_jobs()
                downs[m].append(self.stop(k))
                self.wait_idle(m)
            log(f"start round {i + 1}/{cfg['start_reps']}: " + ", ".join(
                f"{m} {starts[m][-1]:.3f} s" for m in modes))
        for m in modes:
            st = self.figs(m)["start"] = {
                "median_s": med(starts[m]), "min_s": rnd(min(starts[m])),
                "max_s": rnd(max(starts[m])),
                "all_s": [rnd(x) for x in starts[m]],
                "iopub_median_s": med(iopubs[m]),
                "iopub_max_s": rnd(max(iopubs[m])),
                "allocations": {k: kinds[m].count(k)
                                for k in sorted(set(kinds[m]))}}
            if phases[m]:
                st["phases"] = phases[m]
                names = sorted({n for ph in phases[m] for n in ph},
                               key=lambda n: statistics.median(
                                   ph[n] for ph in phases[m] if n in ph))
                st["phases_median_s"] = {
                    n: med([ph[n] for ph in phases[m] if n in ph])
                    for n in names}
            ok = [x for x in downs[m] if x is not None]
            self.figs(m)["shutdown"] = {
                "median_s": med(ok) if ok else None,
                "max_s": rnd(max(ok)) if ok else None,
                "all_s": [rnd(x) for x in downs[m]],
                "killed": len(downs[m]) - len(ok)}

        # One kernel per mode, all alive, for the other figures.
        ks = {m: self.start(m) for m in modes}
        where = {}
        for m in modes:
            where[m] = cell_value(ks[m].client,
                                  "[os.getpid(), os.getppid(), "
                                  "os.environ.get('SLURMD_NODENAME'), "
                                  "os.environ.get('SLURM_JOB_ID'), "
                                  "os.environ.get('SLURM_STEP_ID')]")
            self.figs(m)["where"] = dict(zip(
                ("kernel_pid", "kernel_ppid", "node", "job", "step"),
                where[m]))
        self.note_jobs()
        self.measure_rtt(ks)
        # At rest (after the round trips), then at the peak (after the
        # output bursts, where unbounded queues fill).
        for m in modes:
            self.figs(m)["memory_rest"] = self.memory(m, ks[m], where[m])
        self.measure_output(ks)
        for m in modes:
            self.figs(m)["memory"] = self.memory(m, ks[m], where[m])
        self.measure_restart(ks)
        for m in modes:
            self.stop(ks[m])
            self.wait_idle(m)

    def measure_rtt(self, ks):
        """A trivial cell, until its reply and its idle status are in."""
        modes, n = list(ks), self.cfg["rtt_reps"]
        rtts = {m: [] for m in modes}
        for m in modes:
            for _ in range(20):
                execute(ks[m].client, "pass")
        block = max(1, n // 10)
        while any(len(rtts[m]) < n for m in modes):
            for m in modes:
                for _ in range(min(block, n - len(rtts[m]))):
                    rtts[m].append(execute(ks[m].client, "pass")[0])
        for m in modes:
            r = rtts[m]
            self.figs(m)["rtt"] = {
                "reps": len(r), "median_ms": rnd(med(r) * 1e3),
                "p99_ms": rnd(pct(r, 99) * 1e3),
                "min_ms": rnd(min(r) * 1e3), "max_ms": rnd(max(r) * 1e3)}
        log("round trip, median: " + ", ".join(
            f"{m} {self.figs(m)['rtt']['median_ms']:.2f} ms" for m in modes))

    def measure_output(self, ks):
        """Stdout in 1 KiB lines, and small messages (one stream message
        per print), a few rounds; the median round counts."""
        modes, cfg = list(ks), self.cfg
        lines = cfg["stdout_mb"] * 1024
        want = lines * 1024
        big = (f"import sys\n_l = 'x' * 1023 + '\\n'\n"
               f"for _ in range({lines}):\n    sys.stdout.write(_l)\n"
               f"sys.stdout.flush()")
        small = (f"for _i in range({cfg['small_msgs']}):\n"
                 f"    print(_i, flush=True)")
        secs = {m: [] for m in modes}
        smalls = {m: [] for m in modes}
        nbig = {}
        for _ in range(cfg["output_rounds"]):
            for m in modes:
                got = [0, 0]

                def on_big(c):
                    got[0] += len(c["text"])
                    got[1] += 1
                took, reply = execute(ks[m].client, big, on_stream=on_big)
                if reply["status"] != "ok" or got[0] != want:
                    raise RuntimeError(f"{m}: stdout: {got[0]} of {want} "
                                       f"bytes, status {reply['status']}")
                secs[m].append(took)
                nbig[m] = got[1]
                n = [0]
                took, reply = execute(
                    ks[m].client, small,
                    on_stream=lambda c: n.__setitem__(0, n[0] + 1))
                if reply["status"] != "ok":
                    raise RuntimeError(f"{m}: small messages: {reply}")
                smalls[m].append((took, n[0]))
        for m in modes:
            t = statistics.median(secs[m])
            self.figs(m)["stdout"] = {
                "mb": cfg["stdout_mb"], "seconds": rnd(t),
                "mb_per_s": rnd(want / 2**20 / t), "messages": nbig[m],
                "all_s": [rnd(x) for x in secs[m]]}
            t, n = sorted(smalls[m])[len(smalls[m]) // 2]
            self.figs(m)["small_msgs"] = {
                "messages": n, "seconds": rnd(t), "msgs_per_s": rnd(n / t),
                "all_s": [rnd(x) for x, _ in smalls[m]]}
        log(f"{cfg['stdout_mb']} MB of stdout: " + ", ".join(
            f"{m} {self.figs(m)['stdout']['mb_per_s']:.1f} MB/s"
            for m in modes))

    def measure_restart(self, ks):
        """Jupyter's own restart (KernelManager.restart_kernel: interrupt,
        shutdown_request, wait for the process, start again) until the
        kernel_info reply."""
        modes = list(ks)
        res = {m: [] for m in modes}
        for _ in range(self.cfg["restart_reps"]):
            for m in modes:
                res[m].append(ks[m].restart(self))
                if m != "local":
                    self.note_jobs()
        for m in modes:
            r = res[m]
            self.figs(m)["restart"] = {
                "median_s": med([x["ready_s"] for x in r]),
                "max_s": rnd(max(x["ready_s"] for x in r)),
                "call_median_s": med([x["call_s"] for x in r]),
                "shutdown_status": sorted({x["status"] for x in r}),
                "all": r}
        log("restart → ready: " + ", ".join(
            f"{m} {self.figs(m)['restart']['median_s']:.3f} s"
            for m in modes))

    def memory(self, mode, k, where):
        """Peak resident memory of each process of the kernel, read after
        the throughput runs, before shutdown."""
        mem = {"kernel": proc_memory(where[0])}
        if mode == "local":
            return mem
        shim = k.proc.pid
        mem["login_shim"] = proc_memory(shim)
        cmd = proc_cmdline(shim)
        for pid in proc_children(shim):
            if (proc_read(pid, "comm") or "").strip() == "srun":
                mem["srun"] = proc_memory(pid)
        # The janitor is a fork of the shim: same command line (with this
        # kernel's own connection file), another pid.
        for p in os.listdir("/proc"):
            if p.isdigit() and int(p) != shim and proc_cmdline(p) == cmd:
                mem["janitor"] = proc_memory(p)
        node = proc_cmdline(where[1]) or []
        if "--node" in node:
            mem["node_shim"] = proc_memory(where[1])
        else:
            # A --setup shell in between, or something else: the brief way.
            r = subprocess.run(["pgrep", "-u", str(os.getuid()), "-f",
                                "slurm-jupyter-shim --node"],
                               capture_output=True, text=True)
            pids = r.stdout.split()
            if len(pids) == 1:
                mem["node_shim"] = proc_memory(pids[0])
        for name in ("login_shim", "node_shim"):
            if not mem.get(name):
                raise RuntimeError(f"{mode}: cannot find the {name} process")
        return mem
