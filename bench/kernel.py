# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/kernel.py - the kernel under measurement: its command line (with
--phases, one that stamps its own start-up), its stderr with the time of
each line, the phases of a start read from it, and one kernel as Jupyter's
KernelManager runs it."""
import asyncio
import os
import re
import subprocess
import threading

from client import RawClient, Ready, wait_ready_many
from config import START_TIMEOUT, log, mono
from report import rnd

PYTHON = "/usr/bin/python3"
KERNEL_ARGV = [PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
# With --phases: the same kernel, saying when it was exec'd, had bound its
# sockets, entered its event loop and got its first kernel_info request.
# One CLOCK_MONOTONIC serves the login host and the nodes (network
# namespaces of this machine), so the stamps compare with the harness's.
STAMPS = """
import os, sys, time, runpy
_fd = os.dup(2)     # ipykernel sends fd 2 to iopub once it runs
def _s(what):
    os.write(_fd, b'sjbench: kernel %s %.6f\\n' % (what.encode(),
                                                   time.monotonic()))
_s('exec')
from ipykernel import kernelapp as _ka, kernelbase as _kb
def _after(cls, name, what):
    orig = getattr(cls, name)
    def f(self, *a, **k):
        r = orig(self, *a, **k)
        _s(what)
        return r
    setattr(cls, name, f)
_after(_ka.IPKernelApp, 'init_sockets', 'bound')
_st = _ka.IPKernelApp.start
def _start(self, *a, **k):
    _s('loop')
    return _st(self, *a, **k)
_ka.IPKernelApp.start = _start
_ki = _kb.Kernel.kernel_info_request
async def _kir(self, *a, **k):
    if not getattr(_kir, 'seen', 0):
        _kir.seen = 1
        _s('kernel_info')
    return await _ki(self, *a, **k)
_kb.Kernel.kernel_info_request = _kir
sys.argv[0] = 'ipykernel_launcher'
runpy.run_module('ipykernel_launcher', run_name='__main__', alter_sys=True)
"""
STAMPED_KERNEL_ARGV = [PYTHON, "-c", STAMPS, "-f", "{connection_file}"]


class StderrLog:
    """A kernel process's stderr (the shim's log; the Jupyter server log in
    real life), read in a thread that stamps each line with the monotonic
    time it arrived.  The pipe is ours, not Popen's: jupyter_client closes
    a Popen's stderr pipe after the process exits, which would wait for
    our reader, which waits for every writer (the shim's janitor sleeps
    out its linger holding it)."""

    def __init__(self, path):
        self.lines = []
        self.path = path
        self.r, self.w = os.pipe()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def started(self):
        """The process has its copy of the write end."""
        os.close(self.w)
        self.w = -1

    def _read(self):
        buf = b""
        with open(self.path, "w") as f:
            while True:
                data = os.read(self.r, 65536)
                if not data:
                    break
                now = mono()
                buf += data
                *done, buf = buf.split(b"\n")
                for raw in done:
                    line = raw.decode(errors="replace")
                    self.lines.append((now, line))
                    f.write(f"{now:.6f} {line}\n")
                f.flush()
        os.close(self.r)

    def text(self):
        return "\n".join(l for _, l in self.lines)


# Lines of the shim's log (with --shim-verbose) that mark start-up phases.
PHASES = (
    ("salloc_pending", re.compile(r"salloc: Pending job allocation")),
    ("alloc_granted", re.compile(r"salloc: Granted job allocation")),
    ("alloc_reused", re.compile(r"reusing allocation")),
    ("srun_started", re.compile(r"starting the kernel step")),
    # SJ_LOG_KERNEL_STARTING in common/base/logtext.h.
    ("rendezvous_done", re.compile(r"kernel starting on")),
    ("node_kernel_spawned", re.compile(r"kernel pid \d+")),
    ("relay_connected", re.compile(r"login side connected")),
)


def alloc_kind(log_):
    """How the shim got its allocation, from its log: salloc's "Granted"
    (new), the shim's "reusing allocation" (reused), or neither (the
    --jobid allocation, or a local kernel)."""
    text = log_.text()
    if "Granted job allocation" in text:
        return "new"
    if "reusing allocation" in text:
        return "reused"
    return "given"


KERNEL_STAMP = re.compile(r"sjbench: kernel (\w+) (\d+\.\d+)")


def phases_of(log_, t0):
    out = {}
    for t, line in list(log_.lines):
        m = KERNEL_STAMP.search(line)
        if m and "kernel_" + m.group(1) not in out:
            out["kernel_" + m.group(1)] = round(float(m.group(2)) - t0, 4)
        for name, rx in PHASES:
            if name not in out and rx.search(line):
                out[name] = round(t - t0, 4)
    return out


def _sync(r):
    """The result of a KernelManager call, which is a coroutine for an
    AsyncKernelManager."""
    return asyncio.run(r) if asyncio.iscoroutine(r) else r


class Kernel:
    def __init__(self, bench, km, t0, log_):
        self.bench, self.km, self.t0, self.log = bench, km, t0, log_
        self.proc = km.provisioner.process
        self.client = RawClient(bench.ctx, km.get_connection_info())
        self.ready = Ready(self.client)
        self.stopped = False

    @property
    def start_s(self):
        """Start to kernel_info reply."""
        return self.ready.t_reply - self.t0

    @property
    def iopub_s(self):
        """Start to the first iopub message."""
        return self.ready.t_iopub - self.t0

    def alive(self):
        return self.proc.poll() is None

    def request_shutdown(self):
        self.t_stop = mono()
        self.client.send(self.client.control, "shutdown_request",
                         {"restart": False})

    def finish_shutdown(self, timeout=60):
        """Waits for the process Jupyter started to exit; seconds since
        request_shutdown, or None if it had to be killed."""
        try:
            self.proc.wait(timeout=timeout)
            took = mono() - self.t_stop
        except subprocess.TimeoutExpired:
            log(f"kernel {self.proc.pid} did not exit in {timeout} s "
                "after shutdown_request; killing it")
            took = None
        self.close()
        return took

    def restart(self, bench):
        """Jupyter's restart.  The client stays connected throughout, as a
        Jupyter server's channels do (same ports after a restart)."""
        bench.nlog += 1
        lg = StderrLog(os.path.join(bench.logdir,
                                    f"restart-{bench.nlog}.log"))
        t0 = mono()
        _sync(self.km.restart_kernel(now=False, stderr=lg.w))
        t1 = mono()
        lg.started()
        status = getattr(self.km, "_shutdown_status", None)
        status = getattr(status, "value", str(status))
        self.proc = self.km.provisioner.process
        self.log = lg
        self.ready = Ready(self.client)
        self.t0 = t0
        wait_ready_many([self.ready], START_TIMEOUT, lambda i: self.alive())
        # call_s: until restart_kernel returned (shutdown, then launch).
        return {"ready_s": rnd(self.start_s), "call_s": rnd(t1 - t0),
                "status": status}

    def close(self):
        if self.stopped:
            return
        self.stopped = True
        self.client.close()
        if self.proc.poll() is None:
            try:
                _sync(self.km.shutdown_kernel(now=True))
            except Exception as e:      # best effort in a cleanup
                log(f"shutdown_kernel: {e}")
        try:
            _sync(self.km.cleanup_resources())
        except Exception as e:
            log(f"cleanup_resources: {e}")
        self.bench.live.discard(self)
