# SPDX-License-Identifier: GPL-2.0-or-later
"""jupyter slurm: kernelspecs made by the generator, made and used as a user
would, against the real cluster.

Every test writes into its own JUPYTER_DATA_DIR (a temporary directory), so
nothing lands in sjtest's home.  The generator is the cluster's copy, next
to the shim, so the kernelspecs it writes name the cluster's shim.
"""
import json
import os
import re
import shutil
import stat
import subprocess

import pytest

from conftest import (ME, NODES, SHIM, STATE, job_gone, run_cell, squeue,
                      wait_until)

GEN = STATE + "/bin/jupyter-slurm"
JUPYTER = "/usr/bin/jupyter"
SYSTEM_PYTHON3 = "/usr/share/jupyter/kernels/python3"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """The user's Jupyter data directory, where add writes."""
    d = tmp_path / "data"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(d))
    return d


def slurm(*args, env=None, timeout=120):
    return subprocess.run([GEN, *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def added(*args, **kw):
    r = slurm("add", *args, **kw)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    return r


def refused(r, needle):
    """Exit status 2, nothing on stdout, one line on stderr naming it."""
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("jupyter-slurm: "), r.stderr
    assert needle in lines[0], r.stderr


def nothing_written(data_dir):
    kernels = data_dir / "kernels"
    assert not kernels.exists() or list(kernels.iterdir()) == []
    assert not data_dir.exists() or \
        [p.name for p in data_dir.iterdir() if p.name != "kernels"] == []


def no_leftovers(data_dir):
    """No temporary directory of the generator stayed behind."""
    assert [p.name for p in data_dir.iterdir()
            if p.name.startswith(".jupyter-slurm-")] == []


def kernelspec_list():
    r = subprocess.run([JUPYTER, "kernelspec", "list", "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["kernelspecs"]


def job_fields(jobid):
    out = subprocess.run(["scontrol", "-o", "show", "job", str(jobid)],
                         capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return dict(f.split("=", 1) for f in out.split() if "=" in f)


def assert_job(jobid, **want):
    """The job's scontrol fields named in want have those values."""
    job = job_fields(jobid)
    assert {k: job.get(k) for k in want} == want, job


def stop_and_wait_release(k, jobid):
    """Shuts the kernel down; the shim's janitor must release the
    allocation after the default linger time."""
    k.kc.stop_channels()
    k.km.shutdown_kernel(now=False)
    wait_until(job_gone(jobid), 60, f"job {jobid} to be released")


# --- add, and Jupyter sees it ---------------------------------------------

def test_add_then_jupyter_kernelspec_list(data_dir):
    r = added("python3", "--partition=debug", "--time=60")
    assert "added slurm-python3-debug, " \
        "\"Python 3 (Slurm: debug, 1 node, 1h)\"" in r.stdout

    specs = kernelspec_list()
    assert "slurm-python3-debug" in specs
    got = specs["slurm-python3-debug"]
    d = data_dir / "kernels" / "slurm-python3-debug"
    assert got["resource_dir"] == str(d)
    spec = got["spec"]
    wrapped = json.loads((open(SYSTEM_PYTHON3 + "/kernel.json").read()))
    assert spec["argv"] == [SHIM, "--partition=debug", "--time=60", "-f",
                            "{connection_file}", "--", *wrapped["argv"]]
    assert spec["display_name"] == "Python 3 (Slurm: debug, 1 node, 1h)"
    assert spec["language"] == wrapped["language"]
    assert spec["metadata"]["debugger"] == wrapped["metadata"]["debugger"]
    mark = spec["metadata"]["slurm_jupyter"]
    assert mark["generator"] == 1
    assert mark["wraps"] == "python3"
    assert mark["wraps_dir"] == SYSTEM_PYTHON3
    assert mark["options"] == {"partition": "debug", "time": "60"}

    # Logos and the other resources, copied; modes as jupyter's own.
    assert sorted(p.name for p in d.iterdir()) == \
        sorted(os.listdir(SYSTEM_PYTHON3))
    assert stat.S_IMODE(d.stat().st_mode) == 0o755
    for p in d.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p
    no_leftovers(data_dir)

    # The plain listing too, as a user reads it.
    r = subprocess.run([JUPYTER, "kernelspec", "list"], capture_output=True,
                       text=True, timeout=60)
    assert re.search(r"^\s+slurm-python3-debug\s+" + re.escape(str(d)) + "$",
                     r.stdout, re.M), r.stdout


def test_jupyter_runs_jupyter_slurm(data_dir):
    # Jupyter's dispatcher finds jupyter-slurm on PATH.
    r = subprocess.run([JUPYTER, "slurm", "add", "python3", "-p", "short",
                        "-t", "3"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([JUPYTER, "slurm", "list"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0
    assert re.search(r"^slurm-python3-short\s+python3\s+--partition=short "
                     r"--time=3$", r.stdout, re.M), r.stdout


@pytest.mark.parametrize("cmd", ["add", "list", "show", "remove"])
def test_help(cmd):
    r = slurm(cmd, "--help")
    assert r.returncode == 0
    assert r.stdout.startswith(f"usage: jupyter slurm {cmd}")
    assert r.stderr == ""


def test_help_top_level():
    r = slurm("--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: jupyter slurm")
    r = slurm()
    assert r.returncode == 2 and r.stderr.startswith("usage: jupyter slurm")
    refused(slurm("frob"), "unknown command \"frob\" (allowed: add, list, "
            "show, remove")


# --- a kernel from a generated kernelspec ---------------------------------

def test_kernel_runs_with_the_requested_options(data_dir, start_kernel):
    added("python3", "--name=gen-short", "--partition=short", "--time=3",
          "--env=SJ_GEN_VAR=from the kernelspec",
          "--setup=export SJ_GEN_SETUP=ran")
    show = slurm("show", "gen-short")
    assert show.returncode == 0, show.stderr
    name = re.search(r"salloc --no-shell --job-name=(jupyter-kernel-"
                     r"[0-9a-f]{8}) --partition=short --time=3\n",
                     show.stdout)
    assert name, show.stdout

    k = start_kernel("gen-short")
    node, jobid, _ = k.where()
    assert node in NODES
    content, out, _ = run_cell(
        k.kc, "import os\nprint(os.environ.get('SJ_GEN_VAR'), '|', "
        "os.environ.get('SJ_GEN_SETUP'))")
    assert content["status"] == "ok"
    assert out == "from the kernelspec | ran\n"

    # The name show predicted is the one the shim gave the allocation.
    assert_job(jobid, Partition="short", TimeLimit="00:03:00",
               JobName=name.group(1), JobState="RUNNING")
    assert job_fields(jobid)["UserId"].startswith(ME + "(")
    stop_and_wait_release(k, jobid)


def test_kernel_on_the_chosen_node_of_two(data_dir, start_kernel):
    added("python3", "--name=gen-two", "--nodes=2",
          "--salloc-arg=--nodelist=n1,n3", "--kernel-node=n3", "--time=5",
          "--kernel-transport=tcp")
    k = start_kernel("gen-two")
    node, jobid, _ = k.where()
    assert node == "n3"
    content, out, _ = run_cell(
        k.kc, "import json\nfrom ipykernel.connect import "
        "get_connection_file\nprint(json.load(open(get_connection_file()))"
        "['transport'])")
    assert content["status"] == "ok"
    assert out == "tcp\n"
    assert_job(jobid, NumNodes="2", NodeList="n[1,3]", Partition="debug",
               TimeLimit="00:05:00")
    stop_and_wait_release(k, jobid)


@pytest.fixture
def allocation():
    """An allocation of the user's own, made with salloc."""
    r = subprocess.run(["salloc", "--no-shell", "--partition=debug",
                        "--time=5", "--job-name=gen-test-own"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    jobid = re.search(r"Granted job allocation (\d+)", r.stderr).group(1)
    yield jobid
    subprocess.run(["scancel", jobid], timeout=60)
    wait_until(job_gone(jobid), 60, f"job {jobid} to end")


def test_kernel_in_an_existing_allocation(data_dir, start_kernel,
                                          allocation):
    r = added("python3", f"--jobid={allocation}")
    assert f"Python 3 (Slurm: job {allocation})" in r.stdout
    name = f"slurm-python3-job{allocation}"
    show = slurm("show", name)
    assert f"uses your allocation {allocation}" in show.stdout
    assert "salloc --no-shell" not in show.stdout

    k = start_kernel(name)
    _, jobid, _ = k.where()
    assert str(jobid) == allocation
    k.kc.stop_channels()
    k.km.shutdown_kernel(now=False)
    # Never cancelled: it is the user's.
    assert squeue("-j", allocation, "-o", "%T") == "RUNNING"


# --- every refusal: one line, exit status 2, nothing written --------------

REFUSALS = [
    (["add"], "missing KERNEL, the kernelspec to wrap"),
    (["add", "no-such-kernel"],
     "no kernelspec no-such-kernel (allowed: "),
    (["add", "python3", "--partition=nope"],
     "--partition=nope: no partition nope (allowed: debug, short)"),
    (["add", "python3", "--partition=short", "--time=10"],
     "--time=10: longer than partition short allows (allowed: at most "
     "00:05:00, its MaxTime)"),
    (["add", "python3", "--time=1-00:00:00"],
     "--time=1-00:00:00: longer than partition debug allows (allowed: at "
     "most 01:00:00"),
    (["add", "python3", "--partition=debug,short", "--time=30"],
     "--time=30: longer than partition short allows"),
    (["add", "python3", "--time=1h"],
     "--time=1h: not a Slurm time limit (allowed: M, M:S, H:M:S, D-H, "
     "D-H:M or D-H:M:S"),
    (["add", "python3", "--nodes=two"],
     "--nodes=two: not a node count (allowed: a number N >= 1, or a range "
     "MIN-MAX)"),
    (["add", "python3", "--nodes=4"],
     "--nodes=4: more than partition debug has (allowed: 1 to 3)"),
    (["add", "python3", "--cpus-per-task=many"],
     "--cpus-per-task=many: not a number (allowed: a whole number >= 1)"),
    (["add", "python3", "--gpus=some"], "--gpus=some: not a GPU count"),
    (["add", "python3", "--mem=lots"], "--mem=lots: not a memory size"),
    (["add", "python3", "--jobid=abc"], "--jobid=abc: not a job id"),
    (["add", "python3", "--jobid=99999999"],
     "--jobid=99999999: no such job"),
    (["add", "python3", "--jobid=5", "--partition=debug"],
     "--partition does not apply with --jobid"),
    (["add", "python3", "--frobnicate"], "unknown option --frobnicate"),
    (["add", "python3", "--linger=soon"],
     "--linger=soon: not a number of seconds (allowed: 0 to 86400)"),
    (["add", "python3", "--linger=86401"], "--linger=86401: not a number"),
    (["add", "python3", "--name=Has Space"],
     "--name=Has Space: not a kernelspec name"),
    (["add", "python3", "--env=1X=y"], "--env=1X=y: expected NAME=VALUE"),
    (["add", "python3", "--salloc-arg=--jobid=3"],
     "the shim reads --jobid itself"),
    (["add", "python3", "--name=python3", "--force"],
     "--name=python3: that is the kernelspec being wrapped"),
    (["show"], "show: missing NAME"),
    (["remove", "a", "b"], "remove: unexpected argument \"b\""),
]


@pytest.mark.parametrize("args,needle", REFUSALS,
                         ids=[" ".join(a) for a, _ in REFUSALS])
def test_refused(data_dir, args, needle):
    refused(slurm(*args), needle)
    nothing_written(data_dir)


def test_name_clash_needs_force(data_dir):
    added("python3", "-p", "debug", "-t", "5")
    d = data_dir / "kernels" / "slurm-python3-debug"
    before = (d / "kernel.json").read_text()
    refused(slurm("add", "python3", "-p", "debug", "-t", "10"),
            f"--name=slurm-python3-debug: a kernelspec of that name exists "
            f"({d}); --force replaces it")
    assert (d / "kernel.json").read_text() == before

    added("python3", "-p", "debug", "-t", "10", "--force")
    spec = json.loads((d / "kernel.json").read_text())
    assert spec["display_name"] == "Python 3 (Slurm: debug, 1 node, 10min)"
    assert "--time=10" in spec["argv"]
    no_leftovers(data_dir)


def test_name_hidden_by_jupyter_path(data_dir, kernelspecs):
    kernelspecs.add("taken")
    refused(slurm("add", "python3", "--name=taken", "--force"),
            "--name=taken: the kernelspec")
    nothing_written(data_dir)


def test_wrapping_a_slurm_kernelspec_is_refused(data_dir):
    added("python3", "--name=inner")
    refused(slurm("add", "inner", "--name=outer"),
            "inner is itself a Slurm kernelspec; wrap the kernel it wraps "
            "(python3) instead")


def test_slurmctld_unreachable(data_dir, tmp_path):
    # The same cluster, but a port no slurmctld listens on.
    conf = tmp_path / "slurm.conf"
    text = open(os.environ["SLURM_CONF"]).read()
    conf.write_text(text + "\nSlurmctldPort=1\n")
    env = dict(os.environ, SLURM_CONF=str(conf))
    r = slurm("add", "python3", "-p", "debug", env=env)
    refused(r, "cannot ask Slurm about its partitions: scontrol: "
            "slurm_load_partitions error: Unable to contact slurm "
            "controller")
    assert "--no-check writes the kernelspec without asking" in r.stderr
    nothing_written(data_dir)

    r = added("python3", "-p", "debug", "--no-check", env=env)
    assert "not checked with Slurm (--no-check)" in r.stdout
    assert (data_dir / "kernels" / "slurm-python3-debug" /
            "kernel.json").exists()


def test_no_accounting_takes_any_account(data_dir, tmp_path):
    # The cluster has accounting (tests/cluster/accounting); this scontrol
    # says it has none, as a cluster without slurmdbd would.  Slurm then
    # takes any name.
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "scontrol").write_text(
        "#!/bin/sh\n"
        "if [ \"$1\" = show ] && [ \"$2\" = config ]; then\n"
        f"  {shutil.which('scontrol')} show config | sed 's|^"
        "AccountingStorageType .*|AccountingStorageType   = "
        "accounting_storage/none|'\n"
        "  exit\n"
        "fi\n"
        f"exec {shutil.which('scontrol')} \"$@\"\n")
    (bin_ / "scontrol").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_}:{os.environ['PATH']}")
    added("python3", "--account=anything", "--qos=any", "--name=acct",
          env=env)
    spec = json.loads((data_dir / "kernels" / "acct" /
                       "kernel.json").read_text())
    assert "--account=anything" in spec["argv"]
    assert "--qos=any" in spec["argv"]


# --- list, show, remove ---------------------------------------------------

def test_list_and_show(data_dir, kernelspecs):
    r = slurm("list")
    assert r.returncode == 0 and r.stdout == ""
    assert "no Slurm kernelspecs yet" in r.stderr
    kernelspecs.add("handmade")
    added("python3", "-p", "short", "-t", "3", "--env=A=b c")
    added("python3", "--name=other", "--nodes=2", "--srun-arg=--exclusive")
    r = slurm("list")
    assert r.returncode == 0
    assert r.stdout.splitlines() == [
        "other                python3  --srun-arg=--exclusive --nodes=2",
        "slurm-python3-short  python3  --partition=short --time=3 "
        "'--env=A=b c'",
    ]

    r = slurm("show", "slurm-python3-short")
    assert r.returncode == 0, r.stderr
    d = data_dir / "kernels" / "slurm-python3-short"
    for line in ["slurm-python3-short",
                 "  display name  Python 3 (Slurm: short, 1 node, 3min)",
                 f"  directory     {d}",
                 f"  wraps         python3 ({SYSTEM_PYTHON3})",
                 "  options       --partition=short --time=3",
                 "  environment   'A=b c'",
                 f"  argv          {SHIM} --partition=short --time=3 -f "
                 "'{connection_file}' -- /usr/bin/python3 -m "
                 "ipykernel_launcher -f '{connection_file}'"]:
        assert line + "\n" in r.stdout, r.stdout
    assert re.search(r"salloc --no-shell --job-name=jupyter-kernel-"
                     r"[0-9a-f]{8} --partition=short --time=3\n", r.stdout)
    assert f"srun --jobid=JOBID --overlap --nodes=1 --ntasks=1 " \
        f"--job-name=jupyter-kernel --jupyter-kernel=HOST:PORT:NONCE " \
        f"{SHIM} --node -- /usr/bin/python3" in r.stdout
    r = slurm("show", "other")
    assert "--nodelist" not in r.stdout
    assert "HOST:PORT:NONCE --exclusive " in r.stdout

    refused(slurm("show", "handmade"),
            "handmade (" + str(kernelspecs.root / "kernels" / "handmade") +
            ") is not a kernelspec jupyter slurm made")
    refused(slurm("show", "nope"), "no kernelspec nope")


def test_remove(data_dir, kernelspecs):
    added("python3", "-p", "debug")
    d = data_dir / "kernels" / "slurm-python3-debug"
    assert "slurm-python3-debug" in kernelspec_list()
    r = slurm("remove", "slurm-python3-debug")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"jupyter-slurm: removed slurm-python3-debug ({d})\n"
    assert not d.exists()
    assert "slurm-python3-debug" not in kernelspec_list()
    no_leftovers(data_dir)
    refused(slurm("remove", "slurm-python3-debug"),
            "no kernelspec slurm-python3-debug")

    # Refuses what it did not make, and leaves it alone.
    kernelspecs.add("handmade")
    refused(slurm("remove", "handmade"),
            "is not a kernelspec jupyter slurm made")
    assert (kernelspecs.root / "kernels" / "handmade" / "kernel.json").exists()
    refused(slurm("remove", "python3"),
            f"python3 ({SYSTEM_PYTHON3}) is not a kernelspec jupyter slurm "
            f"made")
    assert "python3" in kernelspec_list()


def test_share_and_linger_reach_the_shim(data_dir):
    added("python3", "--name=shared", "--share", "--linger=0")
    spec = json.loads((data_dir / "kernels" / "shared" /
                       "kernel.json").read_text())
    shim_part = spec["argv"][:spec["argv"].index("-f")]
    assert "--share" in shim_part and "--linger=0" in shim_part
    r = slurm("show", "shared")
    assert r.returncode == 0, r.stderr
    assert "--share" in r.stdout
