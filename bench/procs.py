# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/procs.py - what the run has on this machine and in Slurm's queue:
processes (memory, children, the run's token in their environment), jobs,
steps and step directories."""
import os
import re
import subprocess

from config import RUNTIME_DIR, STATE, TOKEN_VAR


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
