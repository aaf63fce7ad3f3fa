# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/report.py - statistics of the figures and the results table
(ratios to local, checked against the targets)."""
import statistics

from config import LABELS, MODES, TARGETS


def rnd(x, n=4):
    return None if x is None else round(x, n)


def med(xs):
    return rnd(statistics.median(xs))


def pct(xs, p):
    """The p-th percentile, nearest rank."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, -(-p * len(s) // 100) - 1))
    return s[int(k)]


# ------------------------------------------------------------------ table

def _ratio(v, base):
    if v is None or not base:
        return None
    return v / base


def _fmt_ratio(r):
    return "" if r is None else f" ({r:.2f}×)"


def _verdict(kind, bound, value):
    if value is None:
        return ""
    if kind == "max":
        return " ✓" if value <= bound else " ✗"
    if kind == "min":
        return " ✓" if value >= bound else " ✗"
    return " ✓" if value <= bound else " ✗"


def table(res):
    """A markdown table: one row per figure, one column per mode; every
    cell of a shim mode has its ratio to local, ✓/✗ against the DESIGN
    target where there is one."""
    modes = [m for m in MODES if res["modes"][m]["figures"]]
    F = {m: res["modes"][m]["figures"] for m in modes}

    def get(m, *path):
        v = F[m]
        for p in path:
            if not isinstance(v, dict) or p not in v:
                return None
            v = v[p]
        return v

    rows = []

    def row(name, path, unit, fmt, target_key=None, higher_better=False,
            target_text=""):
        cells = []
        for m in modes:
            v = get(m, *path)
            if v is None:
                cells.append("—")
                continue
            base = get("local", *path) if "local" in F else None
            r = _ratio(v, base) if m != "local" else None
            cell = f"{fmt.format(v)} {unit}".strip()
            if r is not None:
                cell += _fmt_ratio(r)
                t = TARGETS.get((target_key, m)) or TARGETS.get(
                    (target_key, None))
                if t:
                    cell += _verdict(t[0], t[1], r)
            cells.append(cell)
        rows.append((name, cells, target_text))

    row("start → ready, median", ("start", "median_s"), "s", "{:.2f}",
        "start", target_text="≤ 1.10× new, ≤ 1.05× restart")
    row("start → ready, min", ("start", "min_s"), "s", "{:.2f}")
    row("start → ready, max", ("start", "max_s"), "s", "{:.2f}")
    row("start → first iopub message, median", ("start", "iopub_median_s"),
        "s", "{:.2f}")
    cells = []
    for m in modes:
        a = get(m, "start", "allocations") or {}
        cells.append("—" if m == "local" else
                     ", ".join(f"{n} {k}" for k, n in sorted(a.items())))
    rows.append(("allocation of each timed start", cells, ""))
    row("execute round trip, median", ("rtt", "median_ms"), "ms", "{:.2f}",
        "rtt_median", target_text="≤ 1.15×")
    row("execute round trip, p99", ("rtt", "p99_ms"), "ms", "{:.2f}",
        "rtt_p99", target_text="≤ 1.15×")
    mb = res["config"]["stdout_mb"]
    row(f"{mb} MB of stdout", ("stdout", "mb_per_s"), "MB/s", "{:.1f}",
        "stdout", higher_better=True, target_text="≥ 0.8×")
    row(f"{res['config']['small_msgs']} small messages",
        ("small_msgs", "msgs_per_s"), "msg/s", "{:.0f}", higher_better=True)
    row("shutdown_request → process exit, median", ("shutdown", "median_s"),
        "s", "{:.2f}")
    row("restart (Jupyter's restart_kernel) → ready, median",
        ("restart", "median_s"), "s", "{:.2f}")

    # Memory: absolute, against 4 MiB.
    def mem_row(name, proc, shim, fig="memory", stat="hwm_kib"):
        cells = []
        for m in modes:
            v = get(m, fig, proc, stat)
            if v is None:
                cells.append("—")
            else:
                cells.append(f"{v / 1024:.1f} MiB" +
                             (_verdict(*mem_target, v) if shim else ""))
        rows.append((name, cells, "≤ 4 MiB" if shim else ""))

    mem_target = TARGETS[("memory", None)]

    mem_row("RSS at rest, login shim", "login_shim", True, "memory_rest",
            "rss_kib")
    mem_row("RSS at rest, node shim", "node_shim", True, "memory_rest",
            "rss_kib")
    mem_row("… of which private (RssAnon), login shim", "login_shim", False,
            "memory_rest", "anon_kib")
    mem_row("… of which private (RssAnon), node shim", "node_shim", False,
            "memory_rest", "anon_kib")
    mem_row(f"peak RSS after {mb} MB bursts, login shim", "login_shim", True)
    mem_row(f"peak RSS after {mb} MB bursts, node shim", "node_shim", True)
    mem_row("peak RSS, janitor (fork of the login shim)", "janitor", True)
    mem_row("peak RSS, srun (Slurm's)", "srun", False)
    mem_row("peak RSS, kernel", "kernel", False)

    n = res["config"]["scale"]
    row(f"{n} kernels at once: all ready", ("scale", "all_ready_s"), "s",
        "{:.1f}", target_text="all ready")
    cells = []
    for m in modes:
        s = get(m, "scale")
        if s is None:
            cells.append("—")
        elif "leftovers" not in s:
            cells.append("not finished")
        else:
            left = sum(len(v) for v in s["leftovers"].values())
            cells.append("nothing left ✓" if not left else f"{left} left ✗")
    rows.append((f"{n} kernels: after shutdown", cells, "none leaked"))

    head = ["figure"] + [LABELS[m] for m in modes] + ["target"]
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" for _ in head) + "|"]
    for name, cells, tt in rows:
        out.append("| " + " | ".join([name] + cells + [tt]) + " |")
    return "\n".join(out)

