# SPDX-License-Identifier: GPL-2.0-or-later
"""Kernels other than ipykernel, as `jupyter slurm add` wraps them with no
extra flag: xeus-python (Debian's xpython) gets loopback tcp, IRkernel
keeps ipc; a hand-written xpython spec on ipc fails with one line that
says what to add.
"""
import json

from conftest import NODES, run_cell, squeue, wait_until
from test_generator import (added, data_dir,  # noqa: F401 (a fixture)
                            stop_and_wait_release)
from test_irkernel import r_cell

XPYTHON = json.load(open("/usr/share/jupyter/kernels/xpython/kernel.json"))
HINT = "add --kernel-transport=tcp to the kernelspec's argv"


def add(*args):
    return added(*args).stdout


def spec_argv(data_dir, name):
    return json.loads((data_dir / "kernels" / name /
                       "kernel.json").read_text())["argv"]


def test_xpython_by_default(data_dir, start_kernel):
    """add xpython says and writes tcp; the kernel runs code on a node,
    over loopback tcp."""
    out = add("xpython", "--name=gen-xpython", "-p", "debug", "-t", "5",
              "--linger=0")
    assert ("jupyter-slurm: xpython is a xeus kernel (xeus aborts on an "
            "ipc endpoint of 32 bytes or more): its kernel listens on "
            "127.0.0.1 of its node (--kernel-transport=tcp)\n") in out
    argv = spec_argv(data_dir, "gen-xpython")
    assert "--kernel-transport=tcp" in argv
    assert argv[argv.index("--") + 1:] == XPYTHON["argv"]

    k = start_kernel("gen-xpython")
    k.kc.kernel_info()
    info = k.kc.get_shell_msg(timeout=30)["content"]
    assert info["implementation"] == "xeus-python"
    content, out, _ = run_cell(
        k.kc, "import os, json\n"
        "a = open('/proc/self/cmdline').read().split('\\0')\n"
        "cf = json.load(open(a[a.index('-f') + 1]))\n"
        "print(os.environ['SLURMD_NODENAME'], os.environ['SLURM_JOB_ID'],"
        " cf['transport'], cf['ip'])")
    assert content["status"] == "ok", content
    node, jobid, transport, ip = out.split()
    assert node in NODES
    assert (transport, ip) == ("tcp", "127.0.0.1")
    content, out, _ = run_cell(k.kc, "print(6 * 7)")
    assert (content["status"], out) == ("ok", "42\n")
    stop_and_wait_release(k, int(jobid))


def test_irkernel_by_default(data_dir, start_kernel):
    """add ir writes no transport: IRkernel runs on ipc sockets in its
    private directory."""
    out = add("ir", "--name=gen-ir", "-p", "debug", "-t", "5",
              "--linger=0")
    assert "transport" not in out
    argv = spec_argv(data_dir, "gen-ir")
    assert not [a for a in argv if a.startswith("--kernel-transport")]

    k = start_kernel("gen-ir")
    content, out, err, _ = r_cell(
        k.kc, "cf <- jsonlite::fromJSON(commandArgs(TRUE)[1]); "
        "cat(Sys.getenv(c('SLURMD_NODENAME', 'SLURM_JOB_ID')), "
        "cf$transport, cf$ip)")
    assert content["status"] == "ok", (content, err)
    node, jobid, transport, ip = out.split()
    assert node in NODES
    assert transport == "ipc"
    assert ip.startswith(f"/run/spank-jupyter/{jobid}.")
    content, out, _, _ = r_cell(k.kc, "cat(6 * 7)")
    assert (content["status"], out) == ("ok", "42")
    stop_and_wait_release(k, int(jobid))


def test_hand_written_xpython_on_ipc_says_what_to_add(kernelspecs,
                                                      start_kernel):
    """A spec written by hand without --kernel-transport: xpython aborts
    on ipc; the shim's log says, in one line of its own, what to add, the
    shim fails, and no job is left."""
    name = kernelspecs.add("xpython-ipc", ["-p", "debug", "-t", "5"],
                           kernel_argv=XPYTHON["argv"])
    k = start_kernel(name, wait=False)
    assert k.wait_exit(120) != 0
    log = k.shim_log()
    ours = [line for line in log.splitlines()
            if line.startswith("slurm-jupyter-shim: ")]
    hints = [line for line in ours if HINT in line]
    assert hints == ["slurm-jupyter-shim: the kernel aborted before it "
                     "answered, on ipc sockets: if it cannot use ipc (xeus "
                     "kernels such as xpython cannot), add "
                     "--kernel-transport=tcp to the kernelspec's argv "
                     "before -f"], log
    assert "killed by signal" not in log
    wait_until(lambda: squeue("-h", "-o", "%i") == "", 60,
               "no job to be left")
