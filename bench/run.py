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
import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import jupyter_client
import zmq
from jupyter_client.session import Session

STATE = "/var/lib/spank-jupyter-cluster"
SHIM = STATE + "/bin/slurm-jupyter-shim"
RUNTIME_DIR = "/run/spank-jupyter"
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
# Every process this run starts (shims, janitors, srun, node shims,
# kernels) inherits this variable through Jupyter, srun and the step; the
# leak check looks for it, so kernels of other users of the cluster (the
# integration tests, say) never count.
TOKEN_VAR = "SJ_BENCH_RUN"

MODES = ("local", "new", "linger", "jobid")
LABELS = {
    "local": "local ipykernel",
    "new": "shim, new allocation",
    "linger": "shim, restart (lingering allocation)",
    "jobid": "shim, existing allocation (--jobid)",
}
SHIM_MODES = ("new", "linger", "jobid")
SCALE_MODES = ("local", "new", "jobid")

FULL = dict(start_reps=10, rtt_reps=1000, stdout_mb=20, small_msgs=10000,
            output_rounds=3, restart_reps=3, scale=50)
QUICK = dict(start_reps=2, rtt_reps=50, stdout_mb=1, small_msgs=200,
             output_rounds=1, restart_reps=1, scale=3)

START_TIMEOUT = 120
SCALE_TIMEOUT = 600
CELL_TIMEOUT = 300
CLEAN_TIMEOUT = 90

# The project's performance targets (the README's table shows them).  (figure, mode or None for every
# shim mode): (kind, bound); "max": the ratio to local must not exceed
# bound, "min": it must reach it, "kib": an absolute bound.
TARGETS = {
    ("start", "new"): ("max", 1.10),
    ("start", "linger"): ("max", 1.05),
    ("start", "jobid"): ("max", 1.05),
    ("rtt_median", None): ("max", 1.15),
    ("rtt_p99", None): ("max", 1.15),
    ("stdout", None): ("min", 0.8),
    ("memory", None): ("kib", 4096),
}

mono = time.monotonic


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

def proc_read(pid, name, binary=False):
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data if binary else data.decode(errors="replace")


def proc_cmdline(pid):
    data = proc_read(pid, "cmdline", binary=True)
    if not data:
        return None
    return [a.decode(errors="replace") for a in data.rstrip(b"\0").split(b"\0")]


def proc_children(pid):
    kids = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tids:
        data = proc_read(pid, f"task/{tid}/children")
        if data:
            kids += [int(p) for p in data.split()]
    return kids


def proc_memory(pid):
    """Peak and current resident memory (VmHWM, VmRSS) and PSS, in KiB."""
    status = proc_read(pid, "status")
    if status is None:
        return None
    m = {}
    for key, name in (("VmHWM", "hwm_kib"), ("VmRSS", "rss_kib"),
                      ("RssAnon", "anon_kib"), ("RssFile", "file_kib")):
        g = re.search(rf"^{key}:\s+(\d+) kB", status, re.M)
        if g:
            m[name] = int(g.group(1))
    roll = proc_read(pid, "smaps_rollup")
    if roll:
        g = re.search(r"^Pss:\s+(\d+) kB", roll, re.M)
        if g:
            m["pss_kib"] = int(g.group(1))
    g = re.search(r"^Threads:\s+(\d+)", status, re.M)
    if g:
        m["threads"] = int(g.group(1))
    return m


def proc_uid(pid):
    """The real uid of a process (from status: /proc/PID of a process that
    is not dumpable, like the shims, belongs to root)."""
    status = proc_read(pid, "status")
    g = re.search(r"^Uid:\s+(\d+)", status or "", re.M)
    return int(g.group(1)) if g else None


def environ_grep_as_root(needle):
    """Pids whose environment holds needle, as root sees them, through the
    test cluster's sj-inspect: the shims are not dumpable (they hold the
    kernel's key), so their environment is root's to read only."""
    r = subprocess.run(["sudo", "-n", STATE + "/bin/sj-inspect",
                        "procs-grep", "-"], input=needle + b"\n",
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("sj-inspect procs-grep: "
                           + r.stderr.decode(errors="replace"))
    return {int(line.split()[0]) for line in r.stdout.decode().splitlines()
            if line.split()[1:2] == ["environ"]}


def our_processes(token):
    """(pid, cmdline) of every process of ours carrying the token (the
    run's, or a phase's: "RUN.PHASE")."""
    needle = f"{TOKEN_VAR}={token}".encode()
    me, uid = os.getpid(), os.getuid()
    found, hidden = [], []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == me or proc_uid(p) != uid:
            continue
        env = proc_read(p, "environ", binary=True)
        if env is None:
            hidden.append(int(p))
        elif any(e == needle or e.startswith(needle + b".")
                 for e in env.split(b"\0")):
            found.append((int(p), " ".join(proc_cmdline(p) or [])))
    if hidden:
        # The token is hex and a phase's name follows a ".": a substring
        # match is as good as the one above.
        for pid in sorted(environ_grep_as_root(needle) & set(hidden)):
            found.append((pid, " ".join(proc_cmdline(pid) or [])))
    return found


def jupyterish_processes():
    """Processes of this user that look like kernels or shims, ours or not
    (for information only: they may belong to somebody else's run)."""
    r = subprocess.run(["pgrep", "-u", str(os.getuid()), "-a", "-f",
                        "slurm-jupyter-shim|ipykernel_launcher"],
                       capture_output=True, text=True)
    return r.stdout.splitlines()


# -------------------------------------------------------------------- slurm

def run(argv, timeout=60):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: "
                           f"{r.stderr.strip()}")
    return r.stdout


def our_jobs(tag):
    """{jobid: state} of this user's jobs whose comment carries tag."""
    out = run(["squeue", "--noheader", f"--user={os.getuid()}",
               "--format=%i|%T|%k"])
    jobs = {}
    for line in out.splitlines():
        f = line.strip().split("|", 2)
        if len(f) == 3 and tag in f[2]:
            jobs[f[0]] = f[1]
    return jobs


def foreign_jobs(tag):
    """Jobs in the queue that are not this run's (the cluster is shared:
    a pending job of somebody else's defers the scheduling of ours)."""
    try:
        out = run(["squeue", "--noheader", "--format=%i|%u|%T|%k"])
    except Exception as e:
        return [f"(squeue failed: {e})"]
    return [l.rsplit("|", 1)[0] for l in out.splitlines()
            if tag not in l.rsplit("|", 1)[-1]]


def steps_of(jobids):
    if not jobids:
        return []
    out = run(["squeue", "--noheader", "--steps", f"--user={os.getuid()}",
               "--format=%i %j"])
    steps = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0].split(".")[0] in jobids:
            steps.append(line.strip())
    return steps


def step_dirs_of(jobids):
    try:
        names = os.listdir(RUNTIME_DIR)
    except OSError:
        return []
    return sorted(n for n in names if n.split(".")[0] in jobids)


def slurm_version():
    try:
        return run(["sinfo", "--version"]).strip()
    except Exception as e:      # informational only
        return f"unknown ({e})"


# ------------------------------------------------------------------- client

class RawClient:
    """Shell, iopub and control sockets with Jupyter's message signing."""

    def __init__(self, ctx, info):
        key = info["key"]
        self.session = Session(key=key if isinstance(key, bytes)
                               else key.encode(),
                               signature_scheme=info["signature_scheme"])
        if info.get("transport", "tcp") == "ipc":
            url = lambda port: f"ipc://{info['ip']}-{port}"     # noqa: E731
        else:
            url = lambda port: f"tcp://{info['ip']}:{port}"     # noqa: E731
        self.shell = ctx.socket(zmq.DEALER)
        self.control = ctx.socket(zmq.DEALER)
        self.iopub = ctx.socket(zmq.SUB)
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        for s, port in ((self.shell, "shell_port"),
                        (self.control, "control_port"),
                        (self.iopub, "iopub_port")):
            s.setsockopt(zmq.LINGER, 0)
            s.connect(url(info[port]))

    def close(self):
        for s in (self.shell, self.control, self.iopub):
            s.close(0)

    def send(self, sock, msg_type, content):
        msg = self.session.msg(msg_type, content)
        self.session.send(sock, msg)
        return msg["header"]["msg_id"]

    def recv(self, sock, flags=0):
        frames = sock.recv_multipart(flags, copy=True)
        _, frames = self.session.feed_identities(frames, copy=True)
        return self.session.deserialize(frames, content=True, copy=True)

    def drain(self, sock):
        """Every message waiting on sock."""
        while True:
            try:
                yield self.recv(sock, zmq.NOBLOCK)
            except zmq.Again:
                return


class Ready:
    """Readiness of one kernel.  Ready is the first kernel_info reply on
    shell (the request waits in ZMQ's queues until the kernel listens;
    it is repeated every second anyway, as jupyter_client does).  Then,
    like jupyter_server's "nudge", kernel_info is repeated every 50 ms
    until one of its status messages arrives on iopub: a PUB socket drops
    what it publishes before the subscription has reached it, and a
    front end is not really ready before its iopub is."""

    RESEND_S = 1.0
    NUDGE_S = 0.05

    def __init__(self, client):
        self.c = client
        self.sent = set()
        self.next_send = 0.0
        self.t_reply = self.t_iopub = None

    @property
    def t_ready(self):
        """Both seen (the wait is over)."""
        if self.t_reply is None or self.t_iopub is None:
            return None
        return max(self.t_reply, self.t_iopub)

    def tick(self, now):
        if self.t_ready is None and now >= self.next_send:
            self.sent.add(self.c.send(self.c.shell, "kernel_info_request",
                                      {}))
            self.next_send = now + (self.RESEND_S if self.t_reply is None
                                    else self.NUDGE_S)

    def on_shell(self, msg, now):
        if (self.t_reply is None and
                msg["msg_type"] == "kernel_info_reply" and
                msg["parent_header"].get("msg_id") in self.sent):
            self.t_reply = now
            self.next_send = now

    def on_iopub(self, msg, now):
        if (self.t_iopub is None and msg["msg_type"] == "status" and
                msg["parent_header"].get("msg_id") in self.sent):
            self.t_iopub = now


def wait_ready_many(items, timeout, alive):
    """items: [(Ready, ...)]; waits until all are ready.  alive(i) says
    whether kernel i's process still runs."""
    poller = zmq.Poller()
    owner = {}
    for i, r in enumerate(items):
        for s in (r.c.shell, r.c.iopub):
            poller.register(s, zmq.POLLIN)
            owner[s] = (i, s is r.c.shell)
    deadline = mono() + timeout
    last_alive_check = 0.0
    while True:
        now = mono()
        pending = [r for r in items if r.t_ready is None]
        if not pending:
            return
        for r in pending:
            r.tick(now)
        wake = min(r.next_send for r in pending)
        wait_ms = max(0, min(wake, deadline) - mono()) * 1000
        for sock, _ in poller.poll(wait_ms):
            i, is_shell = owner[sock]
            r = items[i]
            for msg in r.c.drain(sock):
                (r.on_shell if is_shell else r.on_iopub)(msg, mono())
        now = mono()
        if now - last_alive_check > 0.5:
            last_alive_check = now
            for i, r in enumerate(items):
                if r.t_ready is None and not alive(i):
                    raise RuntimeError(f"kernel {i} exited before it was "
                                       "ready")
        if now > deadline:
            n = sum(1 for r in items if r.t_ready is None)
            raise RuntimeError(f"{n} kernel(s) not ready after {timeout} s")


def execute(c, code, timeout=CELL_TIMEOUT, on_stream=None):
    """Runs code; returns (seconds to reply and idle, reply content)."""
    t0 = mono()
    msg_id = c.send(c.shell, "execute_request", {
        "code": code, "silent": False, "store_history": False,
        "user_expressions": {}, "allow_stdin": False,
        "stop_on_error": True})
    reply = idle = None
    poller = zmq.Poller()
    poller.register(c.shell, zmq.POLLIN)
    poller.register(c.iopub, zmq.POLLIN)
    deadline = t0 + timeout
    while reply is None or idle is None:
        left = deadline - mono()
        if left <= 0:
            raise RuntimeError(f"cell did not finish in {timeout} s: "
                               f"{code[:60]!r}")
        for sock, _ in poller.poll(left * 1000):
            for msg in c.drain(sock):
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                t = msg["msg_type"]
                if sock is c.shell and t == "execute_reply":
                    reply = msg["content"]
                elif t == "stream" and on_stream is not None:
                    on_stream(msg["content"])
                elif (t == "status" and
                      msg["content"]["execution_state"] == "idle"):
                    idle = True
    return mono() - t0, reply


def cell_value(c, expr):
    out = []
    _, reply = execute(c, f"import json as _j, os\nprint(_j.dumps({expr}))",
                       on_stream=lambda m: out.append(m["text"]))
    if reply["status"] != "ok":
        raise RuntimeError(f"cell failed: {reply.get('ename')}: "
                           f"{reply.get('evalue')}")
    return json.loads("".join(out))


# ------------------------------------------------------------------ kernels

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


class Bench:
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

    # figures --------------------------------------------------------

    # figures --------------------------------------------------------
    #
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

    # scale ------------------------------------------------------------

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


# ------------------------------------------------------------- statistics

def rnd(x, n=4):
    return None if x is None else round(x, n)


def med(xs):
    return rnd(statistics.median(xs))


def pct(xs, p):
    """The p-th percentile, nearest rank."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, -(-p * len(s) // 100) - 1))
    return s[int(k)]


# ------------------------------------------------------------------ table

def _ratio(v, base):
    if v is None or not base:
        return None
    return v / base


def _fmt_ratio(r):
    return "" if r is None else f" ({r:.2f}×)"


def _verdict(kind, bound, value):
    if value is None:
        return ""
    if kind == "max":
        return " ✓" if value <= bound else " ✗"
    if kind == "min":
        return " ✓" if value >= bound else " ✗"
    return " ✓" if value <= bound else " ✗"


def table(res):
    """A markdown table: one row per figure, one column per mode; every
    cell of a shim mode has its ratio to local, ✓/✗ against the DESIGN
    target where there is one."""
    modes = [m for m in MODES if res["modes"][m]["figures"]]
    F = {m: res["modes"][m]["figures"] for m in modes}

    def get(m, *path):
        v = F[m]
        for p in path:
            if not isinstance(v, dict) or p not in v:
                return None
            v = v[p]
        return v

    rows = []

    def row(name, path, unit, fmt, target_key=None, higher_better=False,
            target_text=""):
        cells = []
        for m in modes:
            v = get(m, *path)
            if v is None:
                cells.append("—")
                continue
            base = get("local", *path) if "local" in F else None
            r = _ratio(v, base) if m != "local" else None
            cell = f"{fmt.format(v)} {unit}".strip()
            if r is not None:
                cell += _fmt_ratio(r)
                t = TARGETS.get((target_key, m)) or TARGETS.get(
                    (target_key, None))
                if t:
                    cell += _verdict(t[0], t[1], r)
            cells.append(cell)
        rows.append((name, cells, target_text))

    row("start → ready, median", ("start", "median_s"), "s", "{:.2f}",
        "start", target_text="≤ 1.10× new, ≤ 1.05× restart")
    row("start → ready, min", ("start", "min_s"), "s", "{:.2f}")
    row("start → ready, max", ("start", "max_s"), "s", "{:.2f}")
    row("start → first iopub message, median", ("start", "iopub_median_s"),
        "s", "{:.2f}")
    cells = []
    for m in modes:
        a = get(m, "start", "allocations") or {}
        cells.append("—" if m == "local" else
                     ", ".join(f"{n} {k}" for k, n in sorted(a.items())))
    rows.append(("allocation of each timed start", cells, ""))
    row("execute round trip, median", ("rtt", "median_ms"), "ms", "{:.2f}",
        "rtt_median", target_text="≤ 1.15×")
    row("execute round trip, p99", ("rtt", "p99_ms"), "ms", "{:.2f}",
        "rtt_p99", target_text="≤ 1.15×")
    mb = res["config"]["stdout_mb"]
    row(f"{mb} MB of stdout", ("stdout", "mb_per_s"), "MB/s", "{:.1f}",
        "stdout", higher_better=True, target_text="≥ 0.8×")
    row(f"{res['config']['small_msgs']} small messages",
        ("small_msgs", "msgs_per_s"), "msg/s", "{:.0f}", higher_better=True)
    row("shutdown_request → process exit, median", ("shutdown", "median_s"),
        "s", "{:.2f}")
    row("restart (Jupyter's restart_kernel) → ready, median",
        ("restart", "median_s"), "s", "{:.2f}")

    # Memory: absolute, against 4 MiB.
    def mem_row(name, proc, shim, fig="memory", stat="hwm_kib"):
        cells = []
        for m in modes:
            v = get(m, fig, proc, stat)
            if v is None:
                cells.append("—")
            else:
                cells.append(f"{v / 1024:.1f} MiB" +
                             (_verdict(*mem_target, v) if shim else ""))
        rows.append((name, cells, "≤ 4 MiB" if shim else ""))

    mem_target = TARGETS[("memory", None)]

    mem_row("RSS at rest, login shim", "login_shim", True, "memory_rest",
            "rss_kib")
    mem_row("RSS at rest, node shim", "node_shim", True, "memory_rest",
            "rss_kib")
    mem_row("… of which private (RssAnon), login shim", "login_shim", False,
            "memory_rest", "anon_kib")
    mem_row("… of which private (RssAnon), node shim", "node_shim", False,
            "memory_rest", "anon_kib")
    mem_row(f"peak RSS after {mb} MB bursts, login shim", "login_shim", True)
    mem_row(f"peak RSS after {mb} MB bursts, node shim", "node_shim", True)
    mem_row("peak RSS, janitor (fork of the login shim)", "janitor", True)
    mem_row("peak RSS, srun (Slurm's)", "srun", False)
    mem_row("peak RSS, kernel", "kernel", False)

    n = res["config"]["scale"]
    row(f"{n} kernels at once: all ready", ("scale", "all_ready_s"), "s",
        "{:.1f}", target_text="all ready")
    cells = []
    for m in modes:
        s = get(m, "scale")
        if s is None:
            cells.append("—")
        elif "leftovers" not in s:
            cells.append("not finished")
        else:
            left = sum(len(v) for v in s["leftovers"].values())
            cells.append("nothing left ✓" if not left else f"{left} left ✗")
    rows.append((f"{n} kernels: after shutdown", cells, "none leaked"))

    head = ["figure"] + [LABELS[m] for m in modes] + ["target"]
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" for _ in head) + "|"]
    for name, cells, tt in rows:
        out.append("| " + " | ".join([name] + cells + [tt]) + " |")
    return "\n".join(out)


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
