# SPDX-License-Identifier: GPL-2.0-or-later
"""Root's paths on the node: what slurmstepd (task_exit, exit) and the job
epilog remove, as root, when another user has planted a symlink where the
runtime_dir should be.

The attack: runtime_dir is below a directory another user can make (here
/tmp/sj-attack, made by sjother in the world-writable /tmp); sjother puts a
symlink to somebody's files in runtime_dir's place.  task_init_privileged
refuses it, and then nothing of the step's end or of the epilog may follow
it: root removes nothing there, and the node's log says why.
"""
import os
import subprocess

import fakeshim
from conftest import (LOGIN_ADDR, STATE, as_other, inspect, job_gone,
                      squeue, wait_until)

ATTACK_PARENT = "/tmp/sj-attack"
ATTACK_RT = ATTACK_PARENT + "/runtime"   # sj-inspect plugin-runtime-dir


def slurmd_log(node):
    with open(f"{STATE}/log/slurmd-{node}.log", errors="replace") as f:
        return f.read()


def test_planted_runtime_dir_symlink_is_never_followed(tmp_path):
    # sjtest's files, the symlink's target: named like step directories
    # of the job, as root would remove them.
    victim = tmp_path / "victim"
    victim.mkdir()
    r = as_other("rm", "-rf", ATTACK_PARENT)   # an earlier run's
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["sbatch", "--parsable", "-N1", "-w", "n1", "-t", "5",
                        "-p", "debug", "-o", "/dev/null", "--wrap",
                        "sleep 600"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    job = r.stdout.strip().split(";")[0]
    try:
        wait_until(lambda: squeue("-j", job, "-o", "%T") == "RUNNING", 60,
                   f"job {job} to run")
        for step in ("0", "1", "77"):
            d = victim / f"{job}.{step}"
            d.mkdir()
            (d / "precious").write_text("keep me")
        for cmd in (["mkdir", "-m", "0777", ATTACK_PARENT],
                    ["ln", "-s", str(victim), ATTACK_RT]):
            r = as_other(*cmd)
            assert r.returncode == 0, (cmd, r.stderr)
        inspect("plugin-runtime-dir", "attack")

        # Step 0 of the job: a kernel step that gets as far as
        # task_init_privileged, then ends (task_exit, exit).
        r = subprocess.run(
            ["srun", f"--jobid={job}", "--overlap", "-N1", "-n1", "-w", "n1",
             f"--jupyter-kernel={LOGIN_ADDR}:1:{fakeshim.nonce()}", "true"],
            capture_output=True, text=True, timeout=120)
        assert r.returncode != 0, r
        step_stderr = r.stderr
        # The job's end: the epilog on n1.
        subprocess.run(["scancel", job], check=True, timeout=60)
        wait_until(job_gone(job), 60, f"job {job} to end")
    finally:
        inspect("plugin-runtime-dir", "default")
        subprocess.run(["scancel", job], timeout=60)
        r = as_other("rm", "-rf", ATTACK_PARENT)
        assert r.returncode == 0, r.stderr

    # Root removed nothing through the symlink.
    for step in ("0", "1", "77"):
        assert (victim / f"{job}.{step}" / "precious").read_text() == \
            "keep me", f"{job}.{step} lost its file"
    assert sorted(os.listdir(victim)) == sorted(
        f"{job}.{s}" for s in ("0", "1", "77"))
    # And both the user and the node's log say why: the step's refusal,
    # the epilog's.
    refused = (f"{ATTACK_RT} is not a directory (or is a symbolic link), "
               f"refused")
    assert refused in step_stderr, step_stderr
    epilog = f"job_epilog: job {job}: nothing removed: {refused}"

    def logged():
        log = slurmd_log("n1").splitlines()
        return (any(f"[{job}.0]" in x and refused in x for x in log) and
                any(epilog in x for x in log))
    wait_until(logged, 30, "the step's and the epilog's refusals in "
               "slurmd-n1.log")
