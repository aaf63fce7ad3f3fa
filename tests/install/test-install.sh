#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-install.sh - make install and make uninstall into a scratch DESTDIR
# (run from the top of the tree, by make install-test).
#
#   - install puts exactly the files of docs/install-files.txt there, with
#     the default and with given PREFIX, SYSCONFDIR and SLURM_PLUGIN_DIR;
#   - a site's own plugstack.conf.d/jupyter.conf and slurm-jupyter/shim.conf
#     are left as they are;
#   - every man page renders with man -l without a warning;
#   - uninstall leaves no file behind (but the site's);
#   - rpm/spank-jupyter.spec parses (rpmspec -P), where rpmspec exists.
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")/../.."
passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
# Quiet, also under make check (a sub-make would name its directory).
mk() { make -s --no-print-directory "$@"; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The documented list, with the Makefile variables of one make command.
expected() {
	local bindir mandir sysconfdir plugindir
	bindir=$(mk "$@" print-BINDIR)
	mandir=$(mk "$@" print-MANDIR)
	sysconfdir=$(mk "$@" print-SYSCONFDIR)
	plugindir=$(mk "$@" print-SLURM_PLUGIN_DIR)
	grep -v '^#' docs/install-files.txt |
		sed -e "s|\$(BINDIR)|$bindir|" -e "s|\$(MANDIR)|$mandir|" \
			-e "s|\$(SYSCONFDIR)|$sysconfdir|" \
			-e "s|\$(SLURM_PLUGIN_DIR)|$plugindir|" | sort
}

files_in() { (cd "$1" && find . -type f -o -type l | sed 's|^\.||' | sort); }

# One round trip; $1 names it, the rest are make variables.
round_trip() {
	local name=$1 dest site conf diff left out f
	shift
	dest=$(mktemp -d "$scratch/dest.XXXXXX")
	if ! mk install DESTDIR="$dest" "$@" >"$scratch/log" 2>&1; then
		fail "$name: make install failed: $(tail -n 3 "$scratch/log")"
		return
	fi
	if diff=$(diff <(expected "$@") <(files_in "$dest")); then
		ok "$name: make install installs exactly docs/install-files.txt"
	else
		fail "$name: installed files differ from docs/install-files.txt:"
		echo "$diff"
	fi
	for f in $(files_in "$dest" | grep -E '\.[18]$'); do
		if out=$(MANWIDTH=80 man -l --warnings "$dest$f" 2>&1 >/dev/null) &&
			[ -z "$out" ]; then
			ok "$name: man -l --warnings ${f##*/}: no warnings"
		else
			fail "$name: man -l --warnings ${f##*/}: $out"
		fi
	done
	if ! mk uninstall DESTDIR="$dest" "$@" >"$scratch/log" 2>&1; then
		fail "$name: make uninstall failed: $(tail -n 3 "$scratch/log")"
		return
	fi
	left=$(files_in "$dest")
	if [ -z "$left" ]; then
		ok "$name: make uninstall leaves no file"
	else
		fail "$name: make uninstall left: $left"
	fi

	# A site's own file survives install and uninstall.
	site=$dest$(mk "$@" print-SYSCONFDIR)/slurm/plugstack.conf.d/jupyter.conf
	conf=$dest$(mk "$@" print-SYSCONFDIR)/slurm-jupyter/shim.conf
	mkdir -p "$(dirname "$site")" "$(dirname "$conf")"
	echo "# the site's own" >"$site"
	echo "idle_timeout=1h" >"$conf"
	if ! mk install DESTDIR="$dest" "$@" >/dev/null 2>&1 ||
		! mk uninstall DESTDIR="$dest" "$@" >/dev/null 2>&1; then
		fail "$name: make install or uninstall failed next to a site's jupyter.conf and shim.conf"
	fi
	if [ "$(cat "$site")" = "# the site's own" ] &&
		[ "$(cat "$conf")" = "idle_timeout=1h" ] &&
		[ "$(files_in "$dest")" = "$(printf '%s\n' "${site#"$dest"}" "${conf#"$dest"}" | sort)" ]; then
		ok "$name: a site's own jupyter.conf and shim.conf are kept as they are"
	else
		fail "$name: the site's jupyter.conf or shim.conf was touched, or files were left"
	fi
}

round_trip defaults
round_trip custom PREFIX=/opt/sj SYSCONFDIR=/opt/sj/etc \
	SLURM_PLUGIN_DIR=/opt/slurm/lib/slurm

if command -v rpmspec >/dev/null; then
	if out=$(rpmspec -P rpm/spank-jupyter.spec 2>&1 >/dev/null) &&
		[ -z "$out" ]; then
		ok "rpmspec -P rpm/spank-jupyter.spec parses without a warning"
	else
		fail "rpmspec -P rpm/spank-jupyter.spec: $out"
	fi
else
	echo "skip rpmspec is not installed (apt-get install rpm): the spec is not checked"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
