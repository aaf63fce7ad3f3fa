# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for the integration tests.

They run as the unprivileged user sjtest on the local test cluster
(tests/cluster/cluster), through Debian's jupyter_client, exactly as a
Jupyter server on a login node would start a Slurm kernel.  What needs root
(looking into a node's network namespace, other users' processes) goes
through `sudo -n sj-inspect`, a narrow tool installed by `cluster up`.
"""
import contextlib
import json
import os
import pwd
import re
import socket
import subprocess
import time
from typing import NamedTuple, Optional

import jupyter_client
import nbformat
import pytest

STATE = "/var/lib/spank-jupyter-cluster"
SHIM = STATE + "/bin/slurm-jupyter-shim"
INSPECT = ["sudo", "-n", STATE + "/bin/sj-inspect"]
RUNTIME_DIR = "/run/spank-jupyter"
LOGIN_ADDR = "10.77.0.1"
PYTHON_KERNEL = ["/usr/bin/python3", "-m", "ipykernel_launcher",
                 "-f", "{connection_file}"]
NODES = ("n1", "n2", "n3")
LOGIN_HOST = socket.gethostname()
ME = pwd.getpwuid(os.getuid()).pw_name
MY_UID = os.getuid()
OTHER = "sjother"
OTHER_UID = pwd.getpwnam(OTHER).pw_uid

# Generous: a start includes salloc, srun and the kernel's own start-up.
START_TIMEOUT = 90


def node_addr(node):
    return f"10.77.0.{10 + int(node[1:])}"


def inspect(*args, stdin=None, check=True):
    """Runs sj-inspect as root; returns its stdout."""
    r = subprocess.run(INSPECT + list(args), input=stdin, text=True,
                       capture_output=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"sj-inspect {args}: {r.returncode}: {r.stderr}")
    return r.stdout


def as_other(*cmd, stdin=None):
    """Runs cmd as the second user sjother; returns the CompletedProcess."""
    return subprocess.run(INSPECT + ["as-other"] + list(cmd), input=stdin,
                          text=True, capture_output=True, timeout=60)


def wait_until(pred, timeout, what, interval=0.25):
    """Polls pred() until it is true; fails naming what it waited for."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for "
                                 f"{what}")
        time.sleep(interval)


@contextlib.contextmanager
def node_down(node):
    """node marked DOWN in Slurm, as a failed node is, inside the with
    block; afterwards back in service (IDLE) before the test goes on."""
    try:
        inspect("node-set", node, "down", "integration-test")
        yield
    finally:
        def back():
            state = inspect("node-state", node)
            if "State=IDLE" in state and "DOWN" not in state:
                return True
            inspect("node-set", node, "resume", check=False)
            return False
        wait_until(back, 60, f"{node} to return to service", interval=1)


def start_until_dead(log_dir, name, within=60):
    """Starts kernelspec name as a Jupyter server does and waits for the
    kernel to die; returns (the shim's exit status, its stderr: what the
    server log shows, kept in log_dir/NAME.log)."""
    with open(log_dir / f"{name}.log", "w+") as log:
        km = jupyter_client.KernelManager(kernel_name=name)
        km.start_kernel(stderr=log)
        wait_until(lambda: not km.is_alive(), within,
                   f"the {name} kernel to die")
        code = km.provisioner.process.returncode
        km.cleanup_resources()
        log.seek(0)
        return code, log.read()


def squeue(*args):
    r = subprocess.run(["squeue", "--noheader"] + list(args),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def job_gone(jobid):
    """True once Slurm no longer lists the job as pending/running/ending.
    A job slurmctld has already purged (MinJobAge) is gone too: squeue -j
    then fails with "Invalid job id specified"; any other failure fails."""
    def gone():
        r = subprocess.run(["squeue", "--noheader", "-j", str(jobid),
                            "--states=PD,R,CG"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0 and "Invalid job id specified" in r.stderr:
            return True
        assert r.returncode == 0, r.stderr
        return r.stdout.strip() == ""
    return gone


def procs_gone():
    """True once no kernel, shim or srun process of this user is left."""
    return subprocess.run(["pgrep", "-u", ME, "-f",
                           "ipykernel_launcher|slurm-jupyter-shim|srun"],
                          capture_output=True).returncode == 1


def runtime_listing():
    """`ls -laR` of the runtime dir as {directory: {name: (mode, owner)}}."""
    out = inspect("ls-runtime", check=False)
    dirs, cur = {}, None
    for line in out.splitlines():
        if line.endswith(":") and line.startswith("/"):
            cur = dirs.setdefault(line[:-1], {})
        elif cur is not None and line and not line.startswith("total "):
            f = line.split()
            cur[f[-1]] = (f[0], f[2])
    return dirs


def runtime_dirs():
    """Step directories the plugin left in the runtime dir, on any node."""
    top = runtime_listing().get(RUNTIME_DIR, {})
    return sorted(name for name, (mode, _) in top.items()
                  if mode.startswith("d") and name not in (".", ".."))


class Listener(NamedTuple):
    kind: str               # "tcp" or "unix"
    addr: str               # IP address (tcp) or socket path (unix)
    port: Optional[int]
    procs: tuple            # ((comm, pid), ...) holding the socket
    line: str


_SS_USER = re.compile(r'\("([^"]*)",pid=(\d+),fd=\d+\)')


def listeners(node):
    """Listening TCP and unix sockets in a node's network namespace (or the
    login host's, node="login"), from `ss -ltnp` and `ss -lxp`."""
    result = []
    for line in inspect("listen", node).splitlines():
        f = line.split()
        if not f:
            continue
        procs = tuple((c, int(p)) for c, p in _SS_USER.findall(line))
        if f[0] == "LISTEN":
            # State Recv-Q Send-Q Local:Port Peer:Port Process
            addr, port = f[3].rsplit(":", 1)
            addr = addr.strip("[]").split("%")[0]
            result.append(Listener("tcp", addr, int(port), procs, line))
        elif f[0].startswith("u_"):
            # Netid State Recv-Q Send-Q Path Inode Peer Inode Process
            result.append(Listener("unix", f[4], None, procs, line))
        else:
            raise AssertionError(f"unexpected line from ss: {line!r}")
    return result


def is_loopback(addr):
    return (addr.startswith("127.") or addr == "::1" or
            addr.startswith("::ffff:127."))


def run_cell(kc, code, timeout=60, allow_stdin=False, stdin_hook=None):
    """Executes code; returns (reply content, stdout text, stderr text)."""
    out, err = [], []

    def on_output(msg):
        if msg["msg_type"] == "stream":
            (out if msg["content"]["name"] == "stdout" else err).append(
                msg["content"]["text"])

    kw = {}
    if stdin_hook is not None:
        kw["stdin_hook"] = stdin_hook
    reply = kc.execute_interactive(code, timeout=timeout,
                                   allow_stdin=allow_stdin,
                                   output_hook=on_output, **kw)
    return reply["content"], "".join(out), "".join(err)


def kernel_json(kc, expr):
    """Evaluates expr in the kernel; returns its value through JSON."""
    content, out, err = run_cell(
        kc, f"import json, os\nprint(json.dumps({expr}))")
    assert content["status"] == "ok", (content, err)
    return json.loads(out)


def nbconvert_argv(tmp_path, spec, code, stem):
    """A notebook of one code cell for kernelspec spec, written into
    tmp_path; returns the `jupyter nbconvert --execute` argv that runs it
    and the path its executed copy goes to."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": spec, "display_name": spec,
                                 "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell(code))
    src, dst = tmp_path / f"{stem}.ipynb", tmp_path / f"{stem}.out.ipynb"
    nbformat.write(nb, src)
    return (["jupyter", "nbconvert", "--to", "notebook", "--execute",
             str(src), "--output", str(dst)], dst)


class Kernelspecs:
    """Writes kernelspecs into a private JUPYTER_PATH directory."""

    def __init__(self, root):
        self.root = root

    def add(self, name, slurm_args=(), kernel_argv=PYTHON_KERNEL,
            shim_args=("--linger=0",), **extra):
        d = self.root / "kernels" / name
        d.mkdir(parents=True)
        spec = {
            "argv": [SHIM, *shim_args, *slurm_args, "-f",
                     "{connection_file}", "--", *kernel_argv],
            "display_name": f"{name} (Slurm)",
            "language": "python",
            "interrupt_mode": "signal",
        }
        spec.update(extra)
        (d / "kernel.json").write_text(json.dumps(spec))
        return name


@pytest.fixture
def kernelspecs(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    return Kernelspecs(tmp_path)


class Started:
    def __init__(self, km, kc, log):
        self.km, self.kc, self.log = km, kc, log
        self._shim = km.provisioner.process

    @property
    def shim(self):
        """The shim's Popen; the last one is kept, as jupyter_client forgets
        the process once it has reaped it, and a restart makes a new one."""
        p = self.km.provisioner
        if p is not None and p.process is not None:
            self._shim = p.process
        return self._shim

    @property
    def shim_pid(self):
        return self.shim.pid

    def shim_log(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def wait_ready(self, timeout=START_TIMEOUT):
        try:
            self.kc.wait_for_ready(timeout=timeout)
        except RuntimeError as e:
            raise AssertionError(f"kernel did not start: {e}\n"
                                 f"shim log:\n{self.shim_log()}")

    def where(self):
        """(node, job id, step id) as the kernel sees them."""
        content, out, _ = run_cell(
            self.kc, "import os\nprint(os.environ['SLURMD_NODENAME'], "
            "os.environ['SLURM_JOB_ID'], os.environ['SLURM_STEP_ID'])")
        assert content["status"] == "ok", content
        node, job, step = out.split()
        return node, int(job), int(step)

    def step_dir(self):
        """The kernel's private directory on its node."""
        _, job, step = self.where()
        return f"{RUNTIME_DIR}/{job}.{step}"

    def wait_exit(self, timeout=60):
        wait_until(lambda: self.shim.poll() is not None, timeout,
                   "the shim to exit")
        return self.shim.returncode


@pytest.fixture
def start_kernel(tmp_path):
    """start_kernel(name) -> Started; every kernel is stopped afterwards."""
    started = []

    def start(name, timeout=START_TIMEOUT, wait=True, stdout_too=False):
        log = open(tmp_path / f"{name}-{len(started)}.log", "w+")
        km = jupyter_client.KernelManager(kernel_name=name)
        # The shim's stderr is what the Jupyter server log would show; a
        # server logs the kernel's stdout too (stdout_too).
        km.start_kernel(stderr=log, stdout=log if stdout_too else None)
        kc = km.client()
        kc.start_channels()
        s = Started(km, kc, log)
        started.append(s)
        if wait:
            s.wait_ready(timeout)
        return s

    yield start
    for s in started:
        s.kc.stop_channels()
        if s.km.is_alive():
            s.km.shutdown_kernel(now=True)
        s.km.cleanup_resources()
        s.log.close()
