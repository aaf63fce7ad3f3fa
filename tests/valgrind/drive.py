# SPDX-License-Identifier: GPL-2.0-or-later
"""Drives one Slurm kernel whose shim runs under valgrind (see run)."""
import json
import os
import sys
import time

import jupyter_client

STATE = "/var/lib/spank-jupyter-cluster"
work = sys.argv[1]
vg = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
      f"--log-file={work}/logs/login.%p.log"]
kernel = ["/usr/bin/python3", "-m", "ipykernel_launcher",
          "-f", "{connection_file}"]
spec_dir = os.path.join(work, "kernels", "vg")
os.makedirs(spec_dir)
with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
    json.dump({"argv": vg + [STATE + "/bin/slurm-jupyter-shim",
                             f"--node-shim={work}/node-shim", "--linger=0",
                             "-p", "debug", "-t", "10",
                             "-f", "{connection_file}", "--"] + kernel,
               "display_name": "valgrind", "language": "python"}, f)
os.environ["JUPYTER_PATH"] = work


def cell(kc, code, **kw):
    out = []
    reply = kc.execute_interactive(
        code, timeout=300, output_hook=lambda m: out.append(
            m["content"].get("text", "")) if m["msg_type"] == "stream"
        else None, **kw)
    return reply["content"], "".join(out)


km = jupyter_client.KernelManager(kernel_name="vg")
km.shutdown_wait_time = 30     # valgrind is slow to end
km.start_kernel()
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=300)
content, out = cell(kc, "import os; print(os.environ['SLURMD_NODENAME'])")
assert content["status"] == "ok" and out.strip() in ("n1", "n2", "n3"), out
print("kernel on", out.strip(), flush=True)
content, out = cell(kc, "print(input('? '))", allow_stdin=True,
                    stdin_hook=lambda m: kc.input("typed"))
assert out.endswith("typed\n"), out
content, out = cell(kc, "print('x' * (2 << 20))")
assert len(out) == (2 << 20) + 1, len(out)
msg_id = kc.execute("import time; time.sleep(60)")
time.sleep(3)
km.interrupt_kernel()
while True:
    r = kc.get_shell_msg(timeout=120)
    if r["parent_header"].get("msg_id") == msg_id:
        break
assert r["content"].get("ename") == "KeyboardInterrupt", r["content"]
km.restart_kernel(now=False)
kc.wait_for_ready(timeout=300)
for _ in range(2):   # ipykernel may abort the first request after an error
    content, out = cell(kc, "print('after restart')")
    if content["status"] == "ok":
        break
assert out == "after restart\n", out
kc.stop_channels()
del kc
km.shutdown_kernel(now=False)
# The janitors and the node sides finish after the login shim.
time.sleep(15)
print("driven: cells, input, 2 MB, interrupt, restart, shutdown", flush=True)
