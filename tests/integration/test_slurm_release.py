# SPDX-License-Identifier: GPL-2.0-or-later
"""A Slurm of another release (major.minor) than the one spank-jupyter was
built for, as after a Slurm upgrade: the shim and jupyter slurm doctor
refuse it with one line naming both releases and what to do, and submit
nothing.

The other Slurm is real, found among what is installed: Debian's
slurm-client in /usr/bin, and each Slurm built under
/var/cache/spank-jupyter/slurm-*/ (with its .spank-jupyter-built stamp);
the first whose srun is of another release than the installed shim was
built for.  On a 22.05 cluster that is a built 25.11 or 26.05; on a 26.05
cluster, Debian's 22.05.  Its srun reads the cluster's slurm.conf to say
its version; an old srun may not parse a newer Slurm's slurm.conf, and
then the shim refuses with "cannot tell which Slurm this is" and srun's
own line instead, which is checked in its place."""
import glob
import os
import re
import subprocess

import jupyter_client

from conftest import PYTHON_KERNEL, SHIM, STATE
from test_doctor import DOCTOR

BUILT = "/var/cache/spank-jupyter/slurm-*/.spank-jupyter-built"


def release(text):
    m = re.match(r"slurm(?:-\S+)? (\d+)\.(\d+)\.(\d+)", text)
    return (int(m[1]), int(m[2])) if m else None


def built_for():
    out = subprocess.run([SHIM, "--version"], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"\(built for Slurm (\d+)\.(\d+)\.\d+\)", out)
    assert m, out
    return int(m[1]), int(m[2])


def other_slurm():
    """(bin directory, its release or None when its srun cannot say)."""
    mine = built_for()
    dirs = ["/usr/bin"] + [os.path.dirname(s) + "/bin"
                           for s in sorted(glob.glob(BUILT))]
    unknown = None
    for d in dirs:
        if not os.access(d + "/srun", os.X_OK):
            continue
        r = subprocess.run([d + "/srun", "--version"], capture_output=True,
                           text=True, timeout=60)
        rel = release(r.stdout) if r.returncode == 0 else None
        if rel is not None and rel != mine:
            return d, rel
        if rel is None and unknown is None:
            unknown = (d, None)
    assert unknown is not None, (
        f"this test needs a Slurm of another release than {mine}: "
        f"Debian's slurm-client in /usr/bin, or one built under "
        f"{os.path.dirname(os.path.dirname(BUILT))}; found {dirs}")
    return unknown


def refusal(rel, d):
    mine = "%d.%02d" % built_for()
    if rel is None:
        return (f"was built for Slurm {mine} but cannot tell which Slurm "
                f"this is ({d}/srun --version said")
    other = "%d.%02d" % rel
    return (f"was built for Slurm {mine} but this is Slurm {other} "
            f"({d}/srun): reinstall spank-jupyter built against Slurm "
            f"{other}")


def jobs_submitted():
    """slurmctld's count of the jobs submitted to it since it started."""
    out = subprocess.run(["sdiag"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    m = re.search(r"^\s*Jobs submitted:\s*(\d+)", out, re.M)
    assert m, out
    return int(m[1])


def other_env(d):
    env = dict(os.environ)
    env["PATH"] = d + ":" + env["PATH"]
    return env


def test_shim_refuses_another_slurm_release(tmp_path):
    d, rel = other_slurm()
    cf = str(tmp_path / "kernel.json")
    jupyter_client.write_connection_file(cf)
    argv = [SHIM, "--linger=0", "-p", "debug", "-t", "5", "-f", cf, "--",
            *[a.replace("{connection_file}", cf) for a in PYTHON_KERNEL]]
    before = jobs_submitted()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                       env=other_env(d))
    assert r.returncode == 1, r.stderr
    lines = r.stderr.splitlines()
    # One line, the shim's, and nothing from a salloc it never ran.
    assert len(lines) == 1, r.stderr
    line = "slurm-jupyter-shim: this shim " + refusal(rel, d)
    if rel is not None:
        assert lines[0] == line, r.stderr
    else:
        assert lines[0].startswith(line), r.stderr
    assert jobs_submitted() == before


def test_doctor_refuses_another_slurm_release():
    d, rel = other_slurm()
    before = jobs_submitted()
    r = subprocess.run(DOCTOR + ["--timeout=30"], capture_output=True,
                       text=True, timeout=300, env=other_env(d))
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("FAIL slurm: jupyter-slurm "
                               + refusal(rel, d)), r.stdout
    assert "shim: needs slurm" in r.stdout, r.stdout
    assert jobs_submitted() == before

