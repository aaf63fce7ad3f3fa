# SPDX-License-Identifier: GPL-2.0-or-later
"""Accounting, as every real site has it: slurmdbd with limits,
associations and QOS enforced (tests/cluster/accounting sets them up).

sjtest may charge account physics only (sjother also chemistry) and may use
the QOS normal and interactive, not vip; interactive allows one job per
user.  What a user sees: `jupyter slurm add` refuses what Slurm would
refuse, a kernelspec written without that check fails with Slurm's own
message, a QOS limit is the reason the kernel waits, and sacct lists every
kernel's job with the account it was charged to.
"""
import json
import re
import subprocess

import pytest

from conftest import (ME, STATE, job_gone, run_cell, squeue,
                      start_until_dead, wait_until)

GEN = STATE + "/bin/jupyter-slurm"
KERNEL_PREFIX = "jupyter-kernel-"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """The user's Jupyter data directory, where add writes and from which
    jupyter_client starts kernels."""
    d = tmp_path / "data"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(d))
    return d


def add(*args):
    return subprocess.run([GEN, "add", "python3", *args],
                          capture_output=True, text=True, timeout=120)


def added(name, *args):
    """A kernelspec written by add, with its allocation released as soon as
    the kernel ends (--linger=0)."""
    r = add(f"--name={name}", "--linger=0", *args)
    assert r.returncode == 0, r.stderr
    return name


def one_line_refusal(r):
    """Exit status 2, nothing on stdout, one line on stderr: the line."""
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("jupyter-slurm: "), r.stderr
    return lines[0]


def allowed_list(line):
    """The names of "(allowed: a, b)" at the end of a refusal."""
    m = re.search(r"\(allowed: ([^)]*)\)$", line)
    assert m, line
    return set(m.group(1).split(", "))


def kernels_in(data_dir):
    d = data_dir / "kernels"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def sacct(*args):
    r = subprocess.run(["sacct", "--noheader", "--parsable2", "-X",
                        "--user", ME, *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [line.split("|") for line in r.stdout.splitlines() if line]


def kernel_jobs():
    """{job id: (name, state, reason)} of my kernels' jobs in squeue."""
    jobs = {}
    for line in squeue("--user", ME, "--format=%i|%j|%T|%r").splitlines():
        jid, name, state, reason = line.split("|")
        if name.startswith(KERNEL_PREFIX):
            jobs[int(jid)] = (name, state, reason)
    return jobs


def stop(k):
    """What a Jupyter server does on "Shut down kernel"."""
    k.kc.stop_channels()
    k.km.shutdown_kernel(now=False)


# --- jupyter slurm add ----------------------------------------------------

def test_add_refuses_an_account_the_user_may_not_use(data_dir):
    line = one_line_refusal(add("--name=chem", "--account=chemistry"))
    assert line.startswith(
        f"jupyter-slurm: --account=chemistry: not an account of {ME}"), line
    assert allowed_list(line) == {"physics"}
    assert kernels_in(data_dir) == []
    added("phys", "--account=physics")
    assert kernels_in(data_dir) == ["phys"]


def test_add_refuses_a_qos_the_user_may_not_use(data_dir):
    # Without --account, the QOS of the default account (physics) count.
    line = one_line_refusal(add("--name=vip", "--qos=vip"))
    assert line.startswith(
        f"jupyter-slurm: --qos=vip: not a QOS {ME} may use with account "
        f"physics"), line
    assert allowed_list(line) == {"normal", "interactive"}
    line = one_line_refusal(add("--name=vip", "--account=physics",
                                "-q", "vip"))
    assert "--qos=vip: not a QOS" in line, line
    # The account is refused first: it is the bigger mistake.
    line = one_line_refusal(add("--name=vip", "--account=chemistry",
                                "--qos=vip"))
    assert "--account=chemistry: not an account" in line, line
    assert kernels_in(data_dir) == []
    added("inter", "--qos=interactive")
    added("inter-phys", "--account=physics", "--qos=interactive")
    assert kernels_in(data_dir) == ["inter", "inter-phys"]


# --- what Slurm refuses in a kernelspec nobody checked --------------------


# Slurm's messages for ESLURM_INVALID_ACCOUNT and ESLURM_INVALID_QOS, the
# same text from 22.05 to 26.05 (src/common/slurm_errno.c).
@pytest.mark.parametrize("args,message", [
    (["--account=chemistry"], "Invalid account"),
    (["--qos=vip"], "Invalid qos"),
], ids=["account", "qos"])
def test_forbidden_in_an_unchecked_spec_fails_with_slurms_message(
        data_dir, args, message):
    name = added("forbidden", "--no-check", *args)
    spec = json.loads((data_dir / "kernels" / name /
                       "kernel.json").read_text())
    assert args[0] in spec["argv"]
    code, text = start_until_dead(data_dir, name)
    assert code not in (None, 0), (code, text)
    assert re.search(r"^salloc: error: .*" + message, text, re.M), text
    # Refused at submission: no job was ever made, none is left.
    assert kernel_jobs() == {}
    # With --state and no --starttime, sacct lists the jobs in those
    # states now.
    assert sacct("--state=PENDING,RUNNING") == []


# --- QOS limits -----------------------------------------------------------

def test_qos_limit_is_the_pending_reason(data_dir, start_kernel):
    """interactive allows one job per user: a second kernel waits with
    Slurm's reason in the server log and starts when the first ends."""
    name = added("inter", "--qos=interactive", "-p", "debug", "-t", "10")
    first = start_kernel(name)
    _, job1, _ = first.where()
    second = start_kernel(name, wait=False)
    m = wait_until(lambda: re.search(
        r"job (\d+) is pending \(reason: QOSMaxJobsPerUserLimit\); the "
        r"kernel starts when Slurm grants the allocation",
        second.shim_log()), 60, "the QOS reason in the server log")
    job2 = int(m.group(1))
    _, state, reason = kernel_jobs()[job2]
    assert (state, reason) == ("PENDING", "QOSMaxJobsPerUserLimit")
    stop(first)
    wait_until(job_gone(job1), 60, f"the first kernel's job {job1} to end")
    second.wait_ready()
    content, out, _ = run_cell(second.kc, "print(6 * 7)")
    assert content["status"] == "ok" and out == "42\n", (content, out)
    assert second.where()[1] == job2


# --- sacct ----------------------------------------------------------------

def test_sacct_shows_each_kernel_and_its_account(data_dir, start_kernel):
    """Monitoring sees us: each kernel's job under its jupyter-kernel-...
    name, charged to the account asked for (or the user's default)."""
    default = start_kernel(added("plain"))
    asked = start_kernel(added("phys", "--account=physics",
                               "--qos=normal"))
    kernels = {}
    for k in (default, asked):
        _, job, _ = k.where()
        kernels[job] = k
    names = {job: kernel_jobs()[job][0] for job in kernels}

    def recorded(states):
        rows = {int(r[0]): r for r in sacct(
            "--format=JobID,JobName,Account,QOS,User,State",
            "--jobs=" + ",".join(str(j) for j in kernels))}
        # "CANCELLED by UID": the state is the first word.
        return (rows if set(rows) == set(kernels) and
                all(rows[j][5].split()[0] in states for j in kernels)
                else None)

    # slurmctld sends job records to slurmdbd as they come: poll.
    rows = wait_until(lambda: recorded({"RUNNING"}), 60,
                      "sacct to list both kernels' jobs as running")
    for job, row in rows.items():
        assert row[1] == names[job] and row[1].startswith(KERNEL_PREFIX), \
            row
        assert row[2] == "physics" and row[4] == ME, row
        assert row[3] == "normal", row
    for k in kernels.values():
        stop(k)
    # An ended kernel stays in the record, no longer running.
    rows = wait_until(lambda: recorded({"COMPLETED", "CANCELLED"}), 60,
                      "sacct to show both kernels' jobs as ended")
    assert {j: r[1] for j, r in rows.items()} == names
