# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/scale.py - many kernels started at once from one process, and
what they leave behind (Scale, a part of run.py's Bench)."""
import asyncio
import os
import subprocess

import jupyter_client

from client import wait_ready_many
from config import LABELS, SCALE_TIMEOUT, TOKEN_VAR, log, mono
from kernel import Kernel, StderrLog
from procs import our_jobs, our_processes, steps_of
from report import med, rnd


class Scale:
    """Bench's scale run (see Figures)."""

    def scale(self, mode):
        n = self.cfg["scale"]
        log(f"== {n} kernels at once: {LABELS[mode]}")
        self.note_foreign(f"scale {mode}")
        fig = {"kernels": n}
        self.result["modes"][mode]["figures"]["scale"] = fig
        before = set(our_jobs(self.tag))

        logs = []
        for _ in range(n):
            self.nlog += 1
            logs.append(StderrLog(os.path.join(
                self.logdir, f"scale-{mode}-{self.nlog}.log")))

        async def one(lg):
            km = jupyter_client.AsyncKernelManager(
                kernel_name=f"sjbench-{mode}")
            await km.start_kernel(stderr=lg.w)
            lg.started()
            return km

        async def launch_all():
            return await asyncio.gather(*[one(lg) for lg in logs])

        # A token of this phase's own: the leak check below is about these
        # kernels only, not, say, janitors of earlier ones still lingering.
        phase_token = f"{self.token}.scale-{mode}"
        os.environ[TOKEN_VAR] = phase_token
        t0 = mono()
        try:
            kms = asyncio.run(launch_all())
        finally:
            os.environ[TOKEN_VAR] = self.token
        fig["launched_s"] = rnd(mono() - t0)
        kernels = []
        for km, lg in zip(kms, logs):
            k = Kernel(self, km, t0, lg)
            self.live.add(k)
            kernels.append(k)
        # jupyter_client picks free ports by binding and releasing them;
        # with many kernels starting at once another process can take one
        # before the kernel (or the shim) binds it.  That race is
        # Jupyter's, whatever the kernel: a kernel lost to it is started
        # again (its time still counts from t0) and the restarts counted.
        fig["port_race_restarts"] = 0
        while True:
            try:
                wait_ready_many([k.ready for k in kernels], SCALE_TIMEOUT,
                                lambda i: kernels[i].alive())
                break
            except RuntimeError as e:
                bad = [i for i, k in enumerate(kernels)
                       if k.ready.t_ready is None and not k.alive()]
                racy = [i for i in bad if "Address already in use" in
                        kernels[i].log.text()]
                if not bad or racy != bad or \
                        fig["port_race_restarts"] + len(racy) > n:
                    first = kernels[bad[0]] if bad else None
                    raise RuntimeError(
                        f"scale {mode}: {e}; first log:\n"
                        f"{first.log.text() if first else ''}")
                for i in racy:
                    fig["port_race_restarts"] += 1
                    self.live.discard(kernels[i])
                    kernels[i].close()
                    self.nlog += 1
                    lg = StderrLog(os.path.join(
                        self.logdir, f"scale-{mode}-{self.nlog}.log"))
                    os.environ[TOKEN_VAR] = phase_token
                    try:
                        km = asyncio.run(one(lg))
                    finally:
                        os.environ[TOKEN_VAR] = self.token
                    kernels[i] = Kernel(self, km, t0, lg)
                    self.live.add(kernels[i])
                log(f"  {len(racy)} kernel(s) lost to Jupyter's port race; "
                    "started again")
        ready = sorted(k.start_s for k in kernels)
        fig["all_ready_s"] = rnd(ready[-1])
        fig["all_iopub_s"] = rnd(max(k.iopub_s for k in kernels))
        fig["median_ready_s"] = med(ready)
        fig["first_ready_s"] = rnd(ready[0])
        log(f"  all {n} ready after {ready[-1]:.2f} s")
        # This phase's jobs: the new allocations (mode new), or the steps
        # in the existing one (mode jobid).
        phase_jobs = set()
        if mode != "local":
            jobs = set(our_jobs(self.tag))
            self.seen_jobs.update(jobs)
            phase_jobs = jobs - before
            fig["jobs"] = len(phase_jobs)
            if mode == "jobid":
                phase_jobs.add(self.jobid)
            fig["steps"] = len(steps_of(phase_jobs))

        pids = [pid for pid, _ in our_processes(phase_token)]
        t1 = mono()
        for k in kernels:
            k.request_shutdown()
        deadline = t1 + 120
        for k in kernels:
            try:
                k.proc.wait(timeout=max(0.1, deadline - mono()))
            except subprocess.TimeoutExpired:
                pass
        fig["all_exited_s"] = rnd(mono() - t1)
        killed = sum(1 for k in kernels if k.proc.poll() is None)
        fig["killed"] = killed
        for k in kernels:
            k.close()
        left, took = self.wait_clean(exclude_job=self.jobid,
                                     token=phase_token, jobs_from=phase_jobs)
        fig["clean_after_s"] = rnd(mono() - t1)
        fig["processes_seen"] = len(pids)
        fig["leftovers"] = left
        fig["still_there_at_exit"] = {k: len(v) for k, v in
                                      self.first_left.items()}
        fig["still_there_sample"] = {k: v[:3] for k, v in
                                     self.first_left.items() if v}
        log(f"  all exited after {fig['all_exited_s']} s, clean after "
            f"{fig['clean_after_s']} s" + (f"; LEFT: {left}" if any(
                left.values()) else ""))
