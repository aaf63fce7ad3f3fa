# SPDX-License-Identifier: GPL-2.0-or-later
"""Jupyter's own frontends with a Slurm kernel: `jupyter console` typed into
as a user would, and `jupyter nbconvert --execute` of a notebook whose
kernelspec is a Slurm one."""
import io
import os
import re
import subprocess

import nbformat
import pexpect

from conftest import (START_TIMEOUT, job_gone, nbconvert_argv, runtime_dirs,
                      wait_until)

WHERE = ("import os; print(os.environ['SLURMD_NODENAME'], "
         "os.environ['SLURM_JOB_ID'], os.environ['SLURM_STEP_ID'])")
# What WHERE prints: node, job id, step id.
WHERE_OUT = re.compile(r"\b(n[123]) (\d+) (\d+)\r?\n")


def assert_released(job, step):
    wait_until(job_gone(job), 45, f"job {job} to be released")
    wait_until(lambda: f"{job}.{step}" not in runtime_dirs(), 30,
               f"the step directory {job}.{step} to be removed")


def test_jupyter_console(kernelspecs):
    """`jupyter console --kernel NAME`: the prompt comes, a cell prints the
    compute node's name, `exit` leaves the console cleanly and the job is
    released."""
    name = kernelspecs.add("console", ["-p", "debug", "-t", "10"])
    transcript = io.StringIO()
    con = pexpect.spawn("jupyter", ["console", "--kernel", name,
                                    "--simple-prompt"],
                        env=dict(os.environ), encoding="utf-8",
                        timeout=START_TIMEOUT)
    con.logfile_read = transcript
    try:
        con.expect(r"In \[1\]: ")
        con.sendline(WHERE)
        con.expect(WHERE_OUT, timeout=60)
        node, job, step = con.match.groups()
        con.expect(r"In \[2\]: ", timeout=60)
        con.sendline("exit")
        con.expect(pexpect.EOF, timeout=60)
    except pexpect.ExceptionPexpect as e:
        raise AssertionError(f"{type(e).__name__}; the console showed:\n"
                             f"{transcript.getvalue()}") from None
    finally:
        con.close(force=True)
    assert con.exitstatus == 0, transcript.getvalue()
    assert node in ("n1", "n2", "n3")
    assert "Shutting down kernel" in transcript.getvalue()
    assert_released(int(job), int(step))


def test_nbconvert_execute(kernelspecs, tmp_path):
    """`jupyter nbconvert --to notebook --execute` of a notebook whose
    kernelspec is a Slurm one: the executed notebook holds the compute
    node's name as the cell's output, and the job is released."""
    name = kernelspecs.add("nbconvert", ["-p", "debug", "-t", "10"])
    argv, dst = nbconvert_argv(tmp_path, name, WHERE, "where")
    r = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr

    [output] = nbformat.read(dst, as_version=4).cells[0].outputs
    assert (output.output_type, output.name) == ("stream", "stdout")
    m = WHERE_OUT.fullmatch(output.text)
    assert m, output.text
    assert_released(int(m.group(2)), int(m.group(3)))
