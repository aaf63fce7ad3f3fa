# SPDX-License-Identifier: GPL-2.0-or-later
"""jupyter slurm doctor on the local cluster: all ok when it is healthy,
and the failing check named when munged is stopped, when the plugin's line
is gone from plugstack.conf and when a node's firewall drops the relay.

The broken states disturb every test that runs at the same time, so each
lasts only as long as one doctor run and is undone in a finally."""
import os
import re
import subprocess

from conftest import SHIM, STATE, inspect
from test_idle import SITE, site_conf  # noqa: F401 (a fixture)

DOCTOR = [STATE + "/bin/jupyter-slurm", "doctor"]
CHECKS = ["slurm", "plugin", "munge", "shim", "site", "rendezvous", "relay",
          "kernel"]


def doctor(*args, timeout=180, env=None):
    r = subprocess.run(DOCTOR + list(args), capture_output=True, text=True,
                       timeout=timeout, env=env)
    lines = r.stdout.splitlines()
    checks = {}
    for line in lines:
        verdict, rest = line.split(None, 1)
        name, text = rest.split(": ", 1)
        checks[name] = (verdict, text)
    assert list(checks) == CHECKS, r.stdout + r.stderr
    return r.returncode, checks, r.stdout


def first_failure(checks):
    return next(name for name, (v, _) in checks.items() if v != "ok")


def test_healthy_cluster_all_ok():
    rc, checks, out = doctor()
    assert rc == 0, out
    assert all(v == "ok" for v, _ in checks.values()), out
    # test_slurm_release.py: the FAIL on another Slurm release.
    built = subprocess.run([SHIM, "--version"], capture_output=True,
                           text=True, check=True).stdout
    built = re.search(r"built for Slurm (\d+\.\d+\.\d+)", built)[1]
    assert re.match(r"/\S+/srun is Slurm " + re.escape(built[:5]),
                    checks["slurm"][1]), out
    assert checks["slurm"][1].endswith(
        f"; jupyter-slurm was built for Slurm {built}, {SHIM} for Slurm "
        f"{built}"), out
    assert "--jupyter-kernel" in checks["plugin"][1]
    assert STATE + "/bin/slurm-jupyter-shim" in checks["shim"][1]
    # This host's own site defaults: none, or the package's that sets
    # nothing.
    assert checks["site"][1] in (
        "no /etc/slurm-jupyter/shim.conf: the shim's built-in defaults",
        "/etc/slurm-jupyter/shim.conf sets nothing"), out
    assert "answered kernel_info" in checks["kernel"][1]


def test_site_defaults_are_checked(site_conf):
    """doctor reads the site file the shim would (SLURM_JUPYTER_SHIM_CONF
    here): what it sets, or why the shim would refuse it."""
    env = {**os.environ, "SLURM_JUPYTER_SHIM_CONF": SITE}
    site_conf("# the test site", "idle_timeout=20s", "linger=0")
    rc, checks, out = doctor(env=env)
    assert rc == 0, out
    assert checks["site"] == (
        "ok", f"{SITE} sets idle_timeout=20s (line 2), linger=0 (line 3)"), out
    site_conf("linger=5")
    rc, checks, out = doctor(env=env)
    assert rc == 1, out
    verdict, text = checks["site"]
    assert verdict == "FAIL", out
    assert text.startswith(f"{SITE} line 1: linger=5: 0 or one duration "
                           "with a unit (s, m or h) up to 24h"), out
    # The trial kernel's shim refused the same file.
    assert [checks[c][0] for c in ("rendezvous", "relay", "kernel")] != \
        ["ok", "ok", "ok"], out


def test_bad_option_is_usage_error():
    r = subprocess.run(DOCTOR + ["--timeout=0"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert r.stderr.startswith("jupyter-slurm: doctor: --timeout=0")
    assert r.stdout == ""


def test_munged_stopped():
    inspect("stop-munged")
    try:
        rc, checks, out = doctor()
    finally:
        inspect("start-munged")
    assert rc == 1, out
    assert first_failure(checks) == "munge", out
    verdict, text = checks["munge"]
    assert verdict == "FAIL" and "fix: start munged" in text, out
    assert checks["plugin"][0] == "ok"
    # The site's defaults are a local file: checked whatever else fails.
    assert checks["site"][0] == "ok", out
    assert all(checks[c][0] == "skip" for c in CHECKS[3:] if c != "site"), out


def test_plugin_line_removed():
    inspect("plugin-line", "off")
    try:
        rc, checks, out = doctor()
    finally:
        inspect("plugin-line", "on")
    assert rc == 1, out
    assert first_failure(checks) == "plugin", out
    verdict, text = checks["plugin"]
    assert verdict == "FAIL" and "plugstack.conf" in text, out
    assert checks["rendezvous"][0] == "skip", out


def test_relay_blocked_by_node_firewall():
    inspect("firewall", "n3", "on")
    try:
        rc, checks, out = doctor("--timeout=30",
                                 "--salloc-arg=--nodelist=n3")
    finally:
        inspect("firewall", "n3", "off")
    assert rc == 1, out
    assert first_failure(checks) == "relay", out
    assert checks["rendezvous"][0] == "ok", out
    verdict, text = checks["relay"]
    assert verdict == "FAIL" and "did not reach n3's relay port" in text, \
        out
    assert checks["kernel"][0] == "skip", out
