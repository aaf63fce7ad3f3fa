"""Fixtures for the integration tests.

They run as the unprivileged user sjtest on the local test cluster
(tests/cluster/cluster), through Debian's jupyter_client, exactly as a
Jupyter server on a login node would start a Slurm kernel.  What needs root
(looking into a node's network namespace, other users' processes) goes
through `sudo -n sj-inspect`, a narrow tool installed by `cluster up`.
"""
import json
import os
import pwd
import socket
import subprocess
import time

import jupyter_client
import pytest

STATE = "/var/lib/spank-jupyter-cluster"
SHIM = STATE + "/bin/slurm-jupyter-shim"
INSPECT = ["sudo", "-n", STATE + "/bin/sj-inspect"]
PYTHON_KERNEL = ["/usr/bin/python3", "-m", "ipykernel_launcher",
                 "-f", "{connection_file}"]
NODES = ("n1", "n2", "n3")
LOGIN_HOST = socket.gethostname()
ME = pwd.getpwuid(os.getuid()).pw_name

# Generous: a start includes salloc, srun and the kernel's own start-up.
START_TIMEOUT = 90


def inspect(*args, stdin=None, check=True):
    """Runs sj-inspect as root; returns its stdout."""
    r = subprocess.run(INSPECT + list(args), input=stdin, text=True,
                       capture_output=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"sj-inspect {args}: {r.returncode}: {r.stderr}")
    return r.stdout


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


def squeue(*args):
    r = subprocess.run(["squeue", "--noheader"] + list(args),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def job_gone(jobid):
    """True once Slurm no longer lists the job as pending/running/ending."""
    return lambda: squeue("-j", str(jobid), "--states=PD,R,CG") == ""


def runtime_dirs():
    """Step directories the plugin left in the runtime dir, on any node."""
    out = inspect("ls-runtime", check=False)
    return [line.split()[-1] for line in out.splitlines()
            if line.startswith("d") and line.split()[-1] not in (".", "..")]


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

    @property
    def shim_pid(self):
        return self.km.provisioner.process.pid

    def shim_log(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def where(self):
        """(node, job id, step id) as the kernel sees them."""
        content, out, _ = run_cell(
            self.kc, "import os\nprint(os.environ['SLURMD_NODENAME'], "
            "os.environ['SLURM_JOB_ID'], os.environ['SLURM_STEP_ID'])")
        assert content["status"] == "ok", content
        node, job, step = out.split()
        return node, int(job), int(step)

    def wait_exit(self, timeout=60):
        proc = self.km.provisioner.process
        wait_until(lambda: proc.poll() is not None, timeout,
                   "the shim to exit")
        return proc.returncode


@pytest.fixture
def start_kernel(tmp_path):
    """start_kernel(name) -> Started; every kernel is stopped afterwards,
    and its allocation must be gone."""
    started = []

    def start(name, timeout=START_TIMEOUT):
        log = open(tmp_path / f"{name}-{len(started)}.log", "w+")
        km = jupyter_client.KernelManager(kernel_name=name)
        # The shim's stderr is what the Jupyter server log would show.
        km.start_kernel(stderr=log)
        kc = km.client()
        kc.start_channels()
        s = Started(km, kc, log)
        started.append(s)
        try:
            kc.wait_for_ready(timeout=timeout)
        except RuntimeError as e:
            raise AssertionError(f"kernel did not start: {e}\n"
                                 f"shim log:\n{s.shim_log()}")
        return s

    yield start
    for s in started:
        s.kc.stop_channels()
        if s.km.is_alive():
            s.km.shutdown_kernel(now=True)
        s.km.cleanup_resources()
        s.log.close()
