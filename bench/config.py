# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/config.py - what the benchmark measures, how often, against which
targets, and where the test cluster keeps things; its log."""
import sys
import time

STATE = "/var/lib/spank-jupyter-cluster"
SHIM = STATE + "/bin/slurm-jupyter-shim"
RUNTIME_DIR = "/run/spank-jupyter"

# Every process this run starts (shims, janitors, srun, node shims,
# kernels) inherits this variable through Jupyter, srun and the step; the
# leak check looks for it, so kernels of other users of the cluster (the
# integration tests, say) never count.
TOKEN_VAR = "SJ_BENCH_RUN"

MODES = ("local", "new", "linger", "jobid")
LABELS = {
    "local": "local ipykernel",
    "new": "shim, new allocation",
    "linger": "shim, restart (lingering allocation)",
    "jobid": "shim, existing allocation (--jobid)",
}
SHIM_MODES = ("new", "linger", "jobid")
SCALE_MODES = ("local", "new", "jobid")

FULL = dict(start_reps=10, rtt_reps=1000, stdout_mb=20, small_msgs=10000,
            output_rounds=3, restart_reps=3, scale=50)
QUICK = dict(start_reps=2, rtt_reps=50, stdout_mb=1, small_msgs=200,
             output_rounds=1, restart_reps=1, scale=3)

START_TIMEOUT = 120
SCALE_TIMEOUT = 600
CELL_TIMEOUT = 300
CLEAN_TIMEOUT = 90

# The project's performance targets (the README's table shows them).  (figure, mode or None for every
# shim mode): (kind, bound); "max": the ratio to local must not exceed
# bound, "min": it must reach it, "kib": an absolute bound.
TARGETS = {
    ("start", "new"): ("max", 1.10),
    ("start", "linger"): ("max", 1.05),
    ("start", "jobid"): ("max", 1.05),
    ("rtt_median", None): ("max", 1.15),
    ("rtt_p99", None): ("max", 1.15),
    ("stdout", None): ("min", 0.8),
    ("memory", None): ("kib", 4096),
}

mono = time.monotonic


def log(*a):
    print(*a, file=sys.stderr, flush=True)
