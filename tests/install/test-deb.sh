#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-deb.sh DIR - the Debian package of DIR (make deb) on this machine
# and the local test cluster, as root (make deb-test, after the
# integration tests):
#
#   - dpkg -i installs it, with the plugin in Debian's Slurm plugin
#     directory and the plugstack line only as an example;
#   - with the cluster's plugstack.conf pointing at the installed plugin
#     (restored on exit, whatever happens), sjtest starts a kernel through
#     the installed /usr/bin/slurm-jupyter-shim with jupyter_client and it
#     runs on a compute node; jupyter slurm doctor passes;
#   - its conffile /etc/slurm-jupyter/shim.conf (the shim's site defaults)
#     is root's and sets nothing;
#   - dpkg -r removes it but its conffile, dpkg -P that too, and nothing is
#     left: dpkg knows no file of it, and every file it had is gone.
set -euo pipefail

dir=${1:?usage: $0 DIR (with the .deb of make deb)}
STATE=/var/lib/spank-jupyter-cluster
CONF=$STATE/etc/plugstack.conf
PKG=spank-jupyter
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

[ "$(id -u)" -eq 0 ] || { echo "$0: run as root" >&2; exit 1; }
shopt -s nullglob
debs=("$dir/${PKG}_"*.deb)
[ ${#debs[@]} -eq 1 ] || { echo "$0: expected one ${PKG}_*.deb in $dir" >&2; exit 1; }
deb=${debs[0]}
"$here/../cluster/cluster" status >/dev/null || {
	echo "$0: the test cluster is not up (tests/cluster/cluster up)" >&2
	exit 1
}

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null)" = installed ]
}
# Never remove an installation this test did not make.
if installed || [ -e /usr/bin/slurm-jupyter-shim ] ||
	[ -e /etc/slurm-jupyter/shim.conf ]; then
	echo "$0: $PKG, /usr/bin/slurm-jupyter-shim or /etc/slurm-jupyter/shim.conf is installed already; not touching it" >&2
	exit 1
fi

work=$(mktemp -d "$STATE/deb-test.XXXXXX")
saved=$work/plugstack.conf.saved
cp -p "$CONF" "$saved"
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	# The cluster's own plugin line first, then the package goes.
	if [ -f "$saved" ]; then
		cp -p "$saved" "$CONF.tmp.$$" && mv -f "$CONF.tmp.$$" "$CONF"
	fi
	if installed || [ -e /etc/slurm-jupyter/shim.conf ]; then
		dpkg -P "$PKG" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if out=$(dpkg -i "$deb" 2>&1); then
	ok "dpkg -i $(basename "$deb")"
else
	fail "dpkg -i: $out"
	finish
fi
mapfile -t files < <(dpkg -L "$PKG" | while read -r f; do [ -d "$f" ] || echo "$f"; done)
plugin=$(dpkg -L "$PKG" | grep '/slurm-wlm/spank_jupyter\.so$' || true)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
if [ "$plugin" = "/usr/lib/$multiarch/slurm-wlm/spank_jupyter.so" ]; then
	ok "the plugin is in Debian's Slurm plugin directory ($plugin)"
else
	fail "the plugin is at '$plugin', not /usr/lib/$multiarch/slurm-wlm"
fi
if [ -f /usr/share/doc/"$PKG"/examples/jupyter.conf ] &&
	[ ! -e /etc/slurm/plugstack.conf.d/jupyter.conf ]; then
	ok "the plugstack line is an example only, not enabled"
else
	fail "the example is missing, or /etc/slurm/plugstack.conf.d/jupyter.conf exists"
fi
if strings "$plugin" | grep -q "built for Slurm $(/usr/bin/slurm-jupyter-shim --version | sed -n 's/.*built for Slurm \([0-9.]*\).*/\1/p')"; then
	ok "the installed plugin records its Slurm version ($(strings "$plugin" | grep 'built for Slurm'))"
else
	fail "the installed plugin does not record the Slurm version it was built for"
fi
# The shim's site defaults: a conffile, all commented out, root's.
if [ "$(stat -c '%U %a' /etc/slurm-jupyter/shim.conf 2>&1)" = "root 644" ] &&
	dpkg-query -W -f='${Conffiles}' "$PKG" | grep -q '^ /etc/slurm-jupyter/shim.conf ' &&
	! grep -qv '^#' /etc/slurm-jupyter/shim.conf; then
	ok "/etc/slurm-jupyter/shim.conf is a conffile of root's that sets nothing"
else
	fail "/etc/slurm-jupyter/shim.conf: $(ls -l /etc/slurm-jupyter/shim.conf 2>&1)"
fi
if man -w spank_jupyter >/dev/null 2>&1 && man -w slurm-jupyter-shim >/dev/null 2>&1; then
	ok "man finds spank_jupyter(8) and slurm-jupyter-shim(1)"
else
	fail "man does not find the installed man pages"
fi

# The cluster's plugin line, with the installed plugin.
sed "s|^required [^ ]*spank_jupyter\.so|required $plugin|" "$saved" >"$CONF.tmp.$$"
chmod 0644 "$CONF.tmp.$$"
mv -f "$CONF.tmp.$$" "$CONF"
if grep -q "^required $plugin " "$CONF"; then
	ok "the cluster's plugstack.conf names the installed plugin"
else
	fail "could not point plugstack.conf at $plugin"
fi

# A kernel as sjtest would start one from Jupyter, through the installed
# shim; it prints the node it runs on.
mkdir -p "$work/jupyter/kernels/deb-python3"
cat >"$work/jupyter/kernels/deb-python3/kernel.json" <<JSON
{"argv": ["/usr/bin/slurm-jupyter-shim", "--linger=0", "-f", "{connection_file}",
  "--", "/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
 "display_name": "deb test", "language": "python", "interrupt_mode": "signal"}
JSON
cat >"$work/start.py" <<'PY'
import jupyter_client, os, sys
km = jupyter_client.KernelManager(kernel_name="deb-python3")
km.start_kernel(stderr=open(os.environ["SHIM_LOG"], "w"))
kc = km.client()
kc.start_channels()
try:
    kc.wait_for_ready(timeout=90)
    out = []
    kc.execute_interactive(
        "import os; print(os.environ['SLURMD_NODENAME'], os.environ['SLURM_JUPYTER_DIR'])",
        timeout=60, output_hook=lambda m: out.append(m["content"].get("text", ""))
        if m["msg_type"] == "stream" else None)
    print("".join(out).strip())
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
PY
chmod -R a+rX "$work"
as_sjtest() {
	(cd "$work" && runuser -u sjtest -- env -i HOME=/home/sjtest LANG=C.UTF-8 \
		PATH=/usr/bin:/bin SLURM_CONF="$STATE/etc/slurm.conf" \
		JUPYTER_PATH="$work/jupyter" SHIM_LOG="$work/shim.log" "$@")
}
touch "$work/shim.log"
chown sjtest "$work/shim.log"
# Only stdout counts: jupyter_client may print noise from __del__ at exit.
if out=$(as_sjtest timeout 180 /usr/bin/python3 "$work/start.py" 2>"$work/client.err") &&
	[[ $out =~ ^n[1-3]\ /run/spank-jupyter/[0-9]+\.[0-9]+$ ]]; then
	ok "a kernel through /usr/bin/slurm-jupyter-shim runs on $out (node, step directory)"
else
	fail "kernel through the installed shim: $out $(cat "$work/client.err"); shim log: $(cat "$work/shim.log")"
fi
if out=$(as_sjtest timeout 300 /usr/bin/jupyter-slurm doctor 2>&1); then
	ok "/usr/bin/jupyter-slurm doctor passes with the installed plugin and shim"
else
	fail "jupyter-slurm doctor: $out"
fi

# Back to the cluster's plugin before the package goes.
cp -p "$saved" "$CONF.tmp.$$" && mv -f "$CONF.tmp.$$" "$CONF"
if out=$(dpkg -r "$PKG" 2>&1); then
	ok "dpkg -r $PKG"
else
	fail "dpkg -r: $out"
fi
# Removed, a conffile stays (a site may have edited it); purged, it goes.
if [ -f /etc/slurm-jupyter/shim.conf ] && out=$(dpkg -P "$PKG" 2>&1) &&
	[ ! -e /etc/slurm-jupyter/shim.conf ]; then
	ok "dpkg -r keeps /etc/slurm-jupyter/shim.conf, dpkg -P removes it"
else
	fail "shim.conf after dpkg -r and -P: $out $(ls -l /etc/slurm-jupyter 2>&1)"
fi
status=$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null || true)
if [ -z "$status" ] || [ "$status" = not-installed ]; then
	ok "dpkg knows nothing of $PKG any more (no config-files state)"
else
	fail "dpkg status of $PKG after dpkg -P: $status"
fi
if dpkg -L "$PKG" >/dev/null 2>&1; then
	fail "dpkg -L $PKG still lists files"
else
	ok "dpkg -L $PKG lists nothing"
fi
left=()
for f in "${files[@]}"; do [ -e "$f" ] && left+=("$f"); done
[ -d /usr/share/doc/"$PKG" ] && left+=(/usr/share/doc/"$PKG")
if [ ${#left[@]} -eq 0 ]; then
	ok "all ${#files[@]} files of the package are gone"
else
	fail "left behind: ${left[*]}"
fi
finish
