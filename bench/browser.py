#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/browser.py - what a person waits for in a browser: opening a
notebook in classic Notebook 6.4 until its first cell's output shows, with
a local ipykernel and with a Slurm kernel (slurm-jupyter-shim into a new
allocation, --linger=0), side by side in one run.

Runs as the unprivileged user of the local test cluster (bench/bench runs
it after run.py), with one Notebook server of its own on loopback and
Debian's chromium driven by tests/browser/drive.js.  Each repetition
visits both modes in turn, each time a new notebook (so a new kernel and,
for Slurm, a new job), a new browser, and File > Close and Halt at the
end.  The time is drive.js's: from the page being asked for to
"In [1]:" with the output on it (opening: the page and the kernel's
kernel_info reply; the cell: typing, Shift-Enter, the output).

Adds {"browser": ...} to the JSON of --out (run.py's) and prints a
markdown table.  Nothing here is a test: the exit status is 0 when every
measurement completed."""
import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

STATE = "/var/lib/spank-jupyter-cluster"
SHIM = STATE + "/bin/slurm-jupyter-shim"
KERNEL = ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f",
          "{connection_file}"]
SPECS = {
    "local": KERNEL,
    "slurm": [SHIM, "--linger=0", "-p", "debug", "-t", "10", "-f",
              "{connection_file}", "--", *KERNEL],
}
CELL = "print('first output')"
STEP_TIMEOUT = 120


def log(*a):
    print("browser:", *a, file=sys.stderr, flush=True)


def write_specs(root):
    for name, argv in SPECS.items():
        d = os.path.join(root, "kernels", f"bench-{name}")
        os.makedirs(d)
        with open(os.path.join(d, "kernel.json"), "w") as f:
            json.dump({"argv": argv, "display_name": name,
                       "language": "python", "interrupt_mode": "signal",
                       "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}}, f)


def write_notebook(path, spec):
    nb = {"cells": [{"cell_type": "code", "execution_count": None,
                     "metadata": {}, "outputs": [], "source": ""}],
          "metadata": {"kernelspec": {"name": spec, "display_name": spec,
                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    with open(path, "w") as f:
        json.dump(nb, f)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp, env):
    token = secrets.token_hex(16)
    port = free_port()
    out = open(os.path.join(tmp, "server.log"), "w")
    server = subprocess.Popen(
        ["jupyter-notebook", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", "--NotebookApp.port_retries=0",
         f"--NotebookApp.token={token}",
         f"--notebook-dir={os.path.join(tmp, 'nb')}"],
        stdout=out, stderr=subprocess.STDOUT, env=env)
    out.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            raise RuntimeError("the Notebook server exited (server.log)")
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}",
                                        timeout=10):
                return server, base, token
        except OSError:
            if time.monotonic() > deadline:
                server.terminate()
                raise RuntimeError("the Notebook server did not answer")
            time.sleep(0.25)


def one(drive, tmp, env, base, token, mode, rep):
    """Seconds from opening the notebook to its kernel's kernel_info reply
    and from there to the first cell's output."""
    name = f"{mode}-{rep}.ipynb"
    write_notebook(os.path.join(tmp, "nb", name), f"bench-{mode}")
    plan = os.path.join(tmp, f"plan-{mode}-{rep}.json")
    with open(plan, "w") as f:
        json.dump({"base": base, "token": token,
                   "screenshot": os.path.join(tmp, f"{mode}-{rep}.png"),
                   "steps": [
                       {"do": "open", "path": name,
                        "timeout": STEP_TIMEOUT},
                       {"do": "run", "cell": 0, "code": CELL,
                        "until": "first output", "timeout": STEP_TIMEOUT},
                       {"do": "close_halt"}]}, f)
    r = subprocess.run(["node", drive, plan], capture_output=True,
                       text=True, env=env, timeout=4 * STEP_TIMEOUT)
    steps = [json.loads(line) for line in r.stdout.splitlines()]
    if r.returncode != 0 or len(steps) != 3:
        raise RuntimeError(f"{mode} #{rep}: {r.stdout}{r.stderr[-2000:]}")
    return steps[0]["ms"] / 1000, steps[1]["ms"] / 1000


def table(res):
    loc, slu = res["local"]["median_s"], res["slurm"]["median_s"]
    parts = "".join(
        f"; {m}: open {res[m]['open_median_s']:.2f} s + cell "
        f"{res[m]['cell_median_s']:.2f} s" for m in ("local", "slurm"))
    return "\n".join([
        "",
        "| browser: open a notebook to its first cell's output "
        "| local | Slurm | ratio |",
        "|---|---|---|---|",
        f"| classic Notebook 6.4, chromium, median of {res['reps']} "
        f"| {loc:.2f} s | {slu:.2f} s | {slu / loc:.2f}x |",
        "", f"(medians{parts})", ""])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--drive", required=True, help="tests/browser/drive.js")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--out", help="JSON to add the figure to (run.py's)")
    a = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="sjbench-browser.")
    os.mkdir(os.path.join(tmp, "nb"))
    os.mkdir(os.path.join(tmp, "home"))
    write_specs(tmp)
    # Everything of Jupyter's, the shims' and chromium's in tmp.
    env = dict(os.environ, JUPYTER_PATH=tmp,
               JUPYTER_CONFIG_DIR=os.path.join(tmp, "config"),
               JUPYTER_DATA_DIR=os.path.join(tmp, "data"),
               JUPYTER_RUNTIME_DIR=os.path.join(tmp, "runtime"),
               XDG_CACHE_HOME=os.path.join(tmp, "cache"))
    server = None
    times = {m: [] for m in SPECS}
    parts = {m: ([], []) for m in SPECS}
    try:
        server, base, token = start_server(tmp, env)
        benv = dict(env, HOME=os.path.join(tmp, "home"))
        for rep in range(a.reps):
            for mode in SPECS:
                op, cell = one(a.drive, tmp, benv, base, token, mode, rep)
                log(f"{mode} #{rep}: {op + cell:.2f} s (open {op:.2f} s, "
                    f"cell {cell:.2f} s)")
                times[mode].append(round(op + cell, 3))
                parts[mode][0].append(op)
                parts[mode][1].append(cell)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    res = {"reps": a.reps, "what": "open notebook to first cell output, "
           "classic Notebook 6.4 + chromium (drive.js)"}
    for mode, ts in times.items():
        res[mode] = {"median_s": round(statistics.median(ts), 3),
                     "all_s": ts,
                     "open_median_s": round(statistics.median(
                         parts[mode][0]), 3),
                     "cell_median_s": round(statistics.median(
                         parts[mode][1]), 3)}
    res["ratio"] = round(res["slurm"]["median_s"] /
                         res["local"]["median_s"], 2)
    if a.out:
        try:
            with open(a.out) as f:
                doc = json.load(f)
        except FileNotFoundError:
            doc = {}
        doc["browser"] = res
        with open(a.out, "w") as f:
            json.dump(doc, f, indent=1)
    print(table(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
