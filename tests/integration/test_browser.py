# SPDX-License-Identifier: GPL-2.0-or-later
"""A real browser: Debian's chromium, driven through playwright-core
(tests/browser/drive.js), on Debian's classic Notebook 6.4 started as the
test user, and behind JupyterHub 3.0 (PAM login, LocalProcessSpawner) run
as root through sj-inspect.  What the tests read is what a person sees on
the page: prompts, outputs, the Kernel menu's effects.

Each test leaves a screenshot of the page at its end (or where it failed)
in its tmp_path, and the news tests one per thing they show
(news-waiting.png, ...), all named in every failure message and printed;
pytest keeps the last runs' tmp_path directories."""
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from conftest import (INSPECT, LOGIN_HOST, ME, NODES, START_TIMEOUT,
                      job_gone, squeue, wait_until)
from test_news import DEATH, job_field

DRIVE = Path(__file__).parent / "browser" / "drive.js"
# Longer than Notebook's 60 s wait for kernel_info_reply and its 60 s of
# nudging after: without the login shim's answers the page would hang.
QUEUE_WAIT = 180
WHERE = ("import os; print('node=' + os.environ['SLURMD_NODENAME'], "
         "'job=' + os.environ['SLURM_JOB_ID'], "
         "'step=' + os.environ['SLURM_STEP_ID'])")
# A finished cell's prompt: "In", a non-breaking space, "[N]:".
DONE = re.compile(r"^In\xa0\[\d+\]:$")
RUNNING = "In\xa0[*]:"


def where(cell):
    """{"node": .., "job": .., "step": ..} from WHERE's output in cell (a
    step's result): its stdout only, for the shim may have put Slurm's
    news (the waiting line, "Job N started on NODE") above it."""
    out = " ".join(o["text"] for o in cell["outputs"] if o["kind"] == "stdout")
    return dict(w.split("=", 1) for w in out.split())


def free_ports(n):
    """n consecutive loopback ports that are free now."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n > 65500:
            continue
        try:
            for p in range(base + 1, base + n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return base


def my_jobs(tag):
    """{job id: state} of this user's jobs with comment tag."""
    out = squeue("-u", ME, "-o", "%i %T %k")
    jobs = {}
    for line in out.splitlines():
        job, state, *comment = line.split(None, 2)
        if comment == [tag]:
            jobs[job] = state
    return jobs


def write_notebook(path, spec):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": spec, "display_name": spec,
                                 "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell(""))
    nbformat.write(nb, path)
    return path.name


class Browser:
    """One drive.js run: the plan's steps, one result at a time."""

    def __init__(self, tmp_path, plan, logs=()):
        self.shot = tmp_path / "screenshot.png"
        # The steps' own screenshots (a step's "shot").
        self.shots = [s["shot"] for s in plan["steps"] if "shot" in s]
        for shot in [self.shot, *self.shots]:
            print(f"screenshot: {shot}")
        self.logs = logs
        plan = dict(plan, screenshot=str(self.shot))
        (tmp_path / "plan.json").write_text(json.dumps(plan))
        home = tmp_path / "browser-home"
        home.mkdir()
        self.stderr = open(tmp_path / "browser.log", "w+")
        # HOME: chromium's own files (~/.pki) stay out of the user's home.
        # A session of its own: the browser goes with it on a kill.
        self.proc = subprocess.Popen(
            ["node", str(DRIVE), str(tmp_path / "plan.json")],
            stdout=subprocess.PIPE, stderr=self.stderr, text=True,
            env=dict(os.environ, HOME=str(home)), start_new_session=True)

    def why(self):
        """What to look at after a failure."""
        self.stderr.seek(0)
        text = [f"screenshot: {shot}" for shot in self.shots] + [
                f"screenshot: {self.shot}",
                f"browser stderr:\n{self.stderr.read()[-3000:]}"]
        for log in self.logs:
            try:
                text.append(f"{log}:\n{Path(log).read_text()[-4000:]}")
            except OSError as e:
                text.append(f"{log}: {e}")
        return "\n".join(text)

    def next(self, do):
        """The result of the next step, which must be do."""
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"the browser ended before {do}\n"
                                 f"{self.why()}")
        got = json.loads(line)
        if "error" in got or got.get("do") != do:
            raise AssertionError(f"browser, waiting for {do}: {got}\n"
                                 f"{self.why()}")
        return got

    def close(self):
        """Waits for the end of the plan; kills what is left of it."""
        try:
            rest = self.proc.stdout.read()
            rc = self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.stderr.close()
        assert rc == 0 and not rest.strip(), f"{rest}\n{self.why()}"


@pytest.fixture
def notebook_server(tmp_path, kernelspecs):
    """A classic Notebook server of this user's on loopback, token login;
    notebooks in tmp_path/notebooks.  Stopped afterwards (it shuts its
    kernels down)."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    token = secrets.token_hex(16)
    port = free_ports(1)
    log = tmp_path / "notebook-server.log"
    # Its config, data and runtime files in tmp_path, not in the home; the
    # shims' lock directory and kernel_info recordings too (XDG_CACHE_HOME).
    env = dict(os.environ,
               XDG_CACHE_HOME=str(tmp_path / "cache"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
               JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"))
    with open(log, "w") as out:
        server = subprocess.Popen(
            ["jupyter-notebook", "--no-browser", "--ip=127.0.0.1",
             f"--port={port}", "--NotebookApp.port_retries=0",
             f"--NotebookApp.token={token}", f"--notebook-dir={nbdir}"],
            stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"

    def up():
        assert server.poll() is None, \
            f"the Notebook server exited:\n{log.read_text()}"
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}",
                                        timeout=10) as r:
                return r.status == 200
        except OSError:
            return False

    wait_until(up, 60, "the Notebook server to answer")
    server.base, server.token, server.nbdir, server.log = \
        base, token, nbdir, log
    yield server
    server.terminate()
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        raise


def spec_for(kernelspecs, tag, *slurm_args, linger=0, time=10,
             shim_args=()):
    return kernelspecs.add(
        f"b-{tag}", ["-p", "debug", "-t", str(time), f"--comment={tag}",
                     *slurm_args],
        shim_args=(f"--linger={linger}", *shim_args))


def of_kind(cell, kind):
    """The texts of cell's output areas of kind (stdout, stderr, error,
    display), as drive.js read them off the page."""
    return [o["text"].strip() for o in cell["outputs"] if o["kind"] == kind]


def shut_kernels(server):
    """Shuts down the server's kernels, as its Running tab would."""
    q = f"token={server.token}"
    with urllib.request.urlopen(f"{server.base}/api/kernels?{q}",
                                timeout=30) as r:
        kernels = json.load(r)
    for k in kernels:
        req = urllib.request.Request(
            f"{server.base}/api/kernels/{k['id']}?{q}", method="DELETE")
        with urllib.request.urlopen(req, timeout=120) as r:
            assert r.status == 204, r.status


def drive(tmp_path, server, steps):
    return Browser(tmp_path, {"base": server.base, "token": server.token,
                              "steps": steps}, logs=[server.log])


def test_notebook_cell_on_a_node_then_close_and_halt(
        tmp_path, kernelspecs, notebook_server):
    """Open a notebook with a Slurm kernel, run a cell: the page shows the
    compute node's name; File > Close and Halt leaves no job."""
    tag = uuid.uuid4().hex[:8]
    nb = write_notebook(notebook_server.nbdir / "where.ipynb",
                        spec_for(kernelspecs, tag))
    b = drive(tmp_path, notebook_server, [
        {"do": "open", "path": nb, "timeout": START_TIMEOUT},
        {"do": "run", "cell": 0, "code": WHERE, "until": "step="},
        {"do": "close_halt"}])
    b.next("open")
    cell = b.next("run")
    assert DONE.match(cell["prompt"]), cell
    w = where(cell)
    assert w["node"] in NODES and w["node"] != LOGIN_HOST, cell
    assert my_jobs(tag) == {w["job"]: "RUNNING"}
    assert b.next("close_halt")["status"] == 204
    b.close()
    wait_until(job_gone(w["job"]), 45, f"job {w['job']} to end")


def test_notebook_interrupt(tmp_path, kernelspecs, notebook_server):
    """Kernel > Interrupt stops a running cell with KeyboardInterrupt
    shown; the same kernel runs the next cell."""
    tag = uuid.uuid4().hex[:8]
    nb = write_notebook(notebook_server.nbdir / "interrupt.ipynb",
                        spec_for(kernelspecs, tag))
    b = drive(tmp_path, notebook_server, [
        {"do": "open", "path": nb, "timeout": START_TIMEOUT},
        {"do": "run", "cell": 0, "wait": False,
         "code": "import time; x = 7; print('sleeping', flush=True); "
                 "time.sleep(600)"},
        {"do": "output", "cell": 0, "contains": "sleeping"},
        {"do": "interrupt"},
        {"do": "output", "cell": 0, "contains": "KeyboardInterrupt",
         "done": True},
        {"do": "run", "cell": 1, "code": "print('alive', 6 * x)",
         "until": "alive"}])
    b.next("open")
    assert b.next("run")["prompt"] == RUNNING
    b.next("output")
    b.next("interrupt")
    cell = b.next("output")
    assert DONE.match(cell["prompt"]), cell
    assert "KeyboardInterrupt" in cell["output"]
    cell = b.next("run")
    assert cell["output"].strip() == "alive 42", cell
    b.close()


def test_notebook_restart(tmp_path, kernelspecs, notebook_server):
    """Kernel > Restart: a fresh kernel in a new step of the same
    allocation (the shim lingers), without queueing again."""
    tag = uuid.uuid4().hex[:8]
    linger = 10
    nb = write_notebook(notebook_server.nbdir / "restart.ipynb",
                        spec_for(kernelspecs, tag, linger=linger))
    cell = WHERE + "; print('fresh=' + str('x' not in globals())); x = 1"
    b = drive(tmp_path, notebook_server, [
        {"do": "open", "path": nb, "timeout": START_TIMEOUT},
        {"do": "run", "cell": 0, "code": cell, "until": "fresh="},
        {"do": "restart", "timeout": START_TIMEOUT},
        {"do": "run", "cell": 1, "code": cell, "until": "fresh="},
        {"do": "close_halt"}])
    b.next("open")
    before = where(b.next("run"))
    b.next("restart")
    after = b.next("run")
    assert after["kept"] and DONE.match(after["prompt"]), after
    after = where(after)
    assert before["fresh"] == "True" and after["fresh"] == "True"
    assert after["job"] == before["job"], (before, after)
    assert after["step"] != before["step"], (before, after)
    b.next("close_halt")
    b.close()
    wait_until(job_gone(before["job"]), linger + 45,
               f"job {before['job']} to end")


def test_notebook_queued_kernel(tmp_path, kernelspecs, notebook_server):
    """A notebook opened while its kernel's job waits 3 minutes in the
    queue: the page sees a live kernel (the login shim's kernel_info
    reply), the cell typed meanwhile waits ("In [*]") and runs on the
    node when the job starts, on the same page (no reload)."""
    tag = uuid.uuid4().hex[:8]
    nb = write_notebook(notebook_server.nbdir / "queued.ipynb",
                        spec_for(kernelspecs, tag,
                                 f"--begin=now+{QUEUE_WAIT}"))
    b = drive(tmp_path, notebook_server, [
        {"do": "open", "path": nb},
        {"do": "run", "cell": 0, "code": WHERE, "wait": False},
        {"do": "output", "cell": 0, "contains": "step=", "done": True,
         "timeout": QUEUE_WAIT + START_TIMEOUT + 60}])
    got = b.next("open")
    assert got["implementation"] == "slurm-jupyter-shim", got
    # salloc may still be on its way when the shim answers for the kernel.
    [job] = wait_until(lambda: my_jobs(tag), 30, "the job to be queued")
    assert my_jobs(tag) == {job: "PENDING"}
    assert b.next("run")["prompt"] == RUNNING
    assert my_jobs(tag) == {job: "PENDING"}, "the job waits no more"
    cell = b.next("output")
    assert cell["kept"] and DONE.match(cell["prompt"]), cell
    w = where(cell)
    assert w["job"] == job and w["node"] in NODES, cell
    # Above the output, the shim's line that said the job was waiting.
    assert of_kind(cell, "display") == [
        f"Job {job} started on {w['node']}"], cell
    b.close()


@pytest.fixture
def hub(tmp_path, kernelspecs):
    """A JupyterHub as root (sj-inspect hub-start) with PAM login for this
    user, whose password is a fresh random one until the hub stops; the
    single-user server's notebooks in tmp_path/notebooks and its
    kernelspecs from kernelspecs."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    password = secrets.token_urlsafe(18)
    port = free_ports(3)
    r = subprocess.run(INSPECT + ["hub-start", str(port), str(nbdir),
                                  str(kernelspecs.root)],
                       input=password + "\n", text=True,
                       capture_output=True, timeout=120)
    assert r.returncode == 0, f"hub-start: {r.stderr}"
    state = r.stdout.strip()
    try:
        yield {"base": f"http://127.0.0.1:{port}", "user": ME,
               "password": password, "nbdir": nbdir}
    finally:
        r = subprocess.run(INSPECT + ["hub-stop", state], text=True,
                           capture_output=True, timeout=120)
        assert r.returncode == 0, f"hub-stop: {r.stderr}"


def test_hub_login_spawn_run_a_cell(tmp_path, kernelspecs, hub):
    """Log in to JupyterHub with the user's password, the hub starts the
    user's Notebook server; a notebook with a Slurm kernel runs a cell on
    a compute node; Close and Halt leaves no job."""
    tag = uuid.uuid4().hex[:8]
    nb = write_notebook(hub["nbdir"] / "hub.ipynb",
                        spec_for(kernelspecs, tag))
    steps = [{"do": "login", "timeout": 90},
             {"do": "open", "path": nb, "timeout": START_TIMEOUT},
             {"do": "run", "cell": 0, "code": WHERE, "until": "step="},
             {"do": "close_halt"}]
    b = Browser(tmp_path, {"base": hub["base"], "user": hub["user"],
                           "password": hub["password"], "steps": steps})
    assert b.next("login")["url"] == f"{hub['base']}/user/{ME}/tree"
    b.next("open")
    cell = b.next("run")
    w = where(cell)
    assert w["node"] in NODES and w["node"] != LOGIN_HOST, cell
    b.next("close_halt")
    b.close()
    wait_until(job_gone(w["job"]), 45, f"job {w['job']} to end")


def test_notebook_news_waiting_then_started(
        tmp_path, kernelspecs, notebook_server):
    """A cell run while the kernel's job is held shows, on the page, one
    line with Slurm's reason; once the job is released, that same line
    says where the job started, and the cell's own output follows."""
    tag = uuid.uuid4().hex[:8]
    nb = write_notebook(notebook_server.nbdir / "held.ipynb",
                        spec_for(kernelspecs, tag, "--hold"))
    b = drive(tmp_path, notebook_server, [
        {"do": "open", "path": nb},
        {"do": "run", "cell": 0, "code": WHERE, "wait": False},
        {"do": "output", "cell": 0, "contains": "Waiting for Slurm job",
         "shot": str(tmp_path / "news-waiting.png")},
        {"do": "output", "cell": 0, "contains": "step=", "done": True,
         "timeout": START_TIMEOUT + 60,
         "shot": str(tmp_path / "news-started.png")},
        {"do": "close_halt"}])
    b.next("open")
    [job] = wait_until(lambda: my_jobs(tag), 30, "the job to be queued")
    assert b.next("run")["prompt"] == RUNNING
    cell = b.next("output")
    assert cell["prompt"] == RUNNING, cell
    assert of_kind(cell, "display") == [
        f"Waiting for Slurm job {job} on partition debug: JobHeldUser"], cell
    assert my_jobs(tag) == {job: "PENDING"}
    subprocess.run(["scontrol", "release", job], check=True, timeout=60)
    cell = b.next("output")
    assert DONE.match(cell["prompt"]), cell
    w = where(cell)
    assert w["job"] == job and w["node"] in NODES, cell
    # Updated in place: the waiting line became this one, nothing else.
    assert of_kind(cell, "display") == [
        f"Job {job} started on {w['node']}"], cell
    assert of_kind(cell, "stderr") == [], cell
    b.next("close_halt")
    b.close()
    wait_until(job_gone(job), 45, f"job {job} to end")


SLEEPING = "import time; print('sleeping', flush=True); time.sleep(900)"


def stopped_plan(nb, watch, shot, timeout):
    """The steps: open nb, run WHERE in cell 0, then in cell 1 a cell that
    sleeps; watch (steps on cell 1 while it runs); then cell 1 shows why
    the kernel was stopped and its prompt is no longer [*] (shot)."""
    return [
        {"do": "open", "path": nb, "timeout": START_TIMEOUT},
        {"do": "run", "cell": 0, "code": WHERE, "until": "step="},
        {"do": "run", "cell": 1, "wait": False, "code": SLEEPING},
        *watch,
        {"do": "output", "cell": 1, "contains": "The kernel was stopped:",
         "done": True, "timeout": timeout, "shot": shot}]


def check_stopped(b, server, tag, cause):
    """Cell 1's error names cause and its prompt is a finished cell's (the
    shim answered the cell for the kernel); then the kernels go, with
    their jobs (Jupyter's restarter has started another meanwhile)."""
    cell = b.next("output")
    assert of_kind(cell, "error") == [DEATH.format(cause)], cell
    assert DONE.match(cell["prompt"]), cell
    b.close()
    shut_kernels(server)
    wait_until(lambda: not my_jobs(tag), 90, "the jobs to end")


def test_notebook_news_warning_then_time_limit(
        tmp_path, kernelspecs, notebook_server):
    """A 2-minute job with --warn-before=1m: a minute before its end the
    running cell shows the warning (stderr) on the page; at its time
    limit, the same cell shows why the kernel was stopped."""
    tag = uuid.uuid4().hex[:8]
    nb = write_notebook(notebook_server.nbdir / "limit.ipynb",
                        spec_for(kernelspecs, tag, time=2,
                                 shim_args=("--warn-before=1m",)))
    b = drive(tmp_path, notebook_server, stopped_plan(
        nb, [{"do": "output", "cell": 1, "contains": "Save your work.",
              "timeout": 150, "shot": str(tmp_path / "news-warning.png")}],
        str(tmp_path / "news-ended.png"), 180))
    b.next("open")
    job = where(b.next("run"))["job"]
    end = job_field(job, "EndTime")           # 2026-12-03T15:40:00
    assert b.next("run")["prompt"] == RUNNING
    cell = b.next("output")
    assert cell["prompt"] == RUNNING, cell
    assert of_kind(cell, "stdout") == ["sleeping"], cell
    assert of_kind(cell, "stderr") == [
        f"Slurm job {job} ends in 1 minute (at {end[11:16]}). "
        "Save your work."], cell
    check_stopped(b, notebook_server, tag,
                  f"Slurm job {job} reached its time limit (0:02:00)")


def test_notebook_news_cancelled(tmp_path, kernelspecs, notebook_server):
    """The user's scancel while a cell runs: the cell shows who stopped the
    kernel, and its prompt leaves [*] (the shim's execute_reply ends it)."""
    tag = uuid.uuid4().hex[:8]
    nb = write_notebook(notebook_server.nbdir / "cancel.ipynb",
                        spec_for(kernelspecs, tag))
    b = drive(tmp_path, notebook_server, stopped_plan(
        nb, [{"do": "output", "cell": 1, "contains": "sleeping"}],
        str(tmp_path / "news-cancelled.png"), 120))
    b.next("open")
    job = where(b.next("run"))["job"]
    assert b.next("run")["prompt"] == RUNNING
    assert b.next("output")["prompt"] == RUNNING
    subprocess.run(["scancel", job], check=True, timeout=60)
    check_stopped(b, notebook_server, tag,
                  f"Slurm job {job} was cancelled by you (scancel)")
