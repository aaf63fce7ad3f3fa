# SPDX-License-Identifier: GPL-2.0-or-later
# spank-jupyter: plain make, no autotools.
#
#   make            build everything into $(O)/
#   make deps       install the Debian packages (build, tests, local cluster)
#                   and the browser suite's playwright-core (npm ci)
#   make demo       deps + build + local cluster + a kernel on a compute node
#   make check      deps + build + unit tests (also under ASan/UBSan) +
#                   20 s of each fuzzer + local cluster + integration tests
#   make install    PREFIX, DESTDIR, SLURM_PLUGIN_DIR, SYSCONFDIR (the
#                   files: docs/install-files.txt); make uninstall
#   make SLURM_PREFIX=/opt/slurm   build against the Slurm installed there
#                   (or the one whose slurm.pc PKG_CONFIG_PATH names)
#                   instead of Debian's from /usr; the local cluster
#                   (demo, check, integration, bench) runs that Slurm
#   make check SLURM_VERSION=26.05.3   the same with a Slurm built from
#                   ../shared/slurm (once per machine, by
#                   tests/cluster/build-slurm), into build-26.05.3/
#   make deb        a Debian package in $(O)/deb/ (dpkg-buildpackage)
#   make bench      build + local cluster + the benchmark (bench/results/);
#                   make bench-quick: the same with few repetitions
#   make valgrind   both ends of the shim under valgrind on the cluster
#   make fuzz       the libFuzzer harnesses of tests/fuzz/ (clang), each
#                   FUZZ_SECONDS (300) on its corpus in build-fuzz/corpus/

# SLURM_VERSION: a Slurm built from its source tarball, outside the repo,
# and reused by every later make; everything is built against it into a
# directory of its own.  Built while this file is read, because the
# settings below are read off its headers and libslurm.
SLURM_VERSION ?=
ifneq ($(SLURM_VERSION),)
SLURM_PREFIX := $(shell tests/cluster/build-slurm $(SLURM_VERSION))
ifneq ($(.SHELLSTATUS),0)
$(error Slurm $(SLURM_VERSION) could not be built (tests/cluster/build-slurm $(SLURM_VERSION)))
endif
O        ?= build-$(SLURM_VERSION)
endif

O        ?= build
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR  ?=

# Which Slurm to build against.  SLURM_PREFIX names a Slurm installed under
# its own prefix; without it, slurm.pc (PKG_CONFIG_PATH) may name one.
# Neither (Debian, which ships no slurm.pc): the headers and libslurm from
# the compiler's default paths, as before SLURM_PREFIX existed.
SLURM_PREFIX ?=
ifneq ($(SLURM_PREFIX),)
SLURM_INCDIR ?= $(SLURM_PREFIX)/include
# lib64 where Slurm was configured so (RHEL's --libdir).
SLURM_LIBDIR ?= $(or $(patsubst %/libslurm.so,%,$(firstword $(wildcard \
	$(SLURM_PREFIX)/lib/libslurm.so $(SLURM_PREFIX)/lib64/libslurm.so))),$(SLURM_PREFIX)/lib)
else
SLURM_INCDIR ?= $(shell pkg-config --variable=includedir slurm 2>/dev/null)
SLURM_LIBDIR ?= $(shell pkg-config --variable=libdir slurm 2>/dev/null)
endif
# Asked once, not at every use.
SLURM_INCDIR := $(SLURM_INCDIR)
SLURM_LIBDIR := $(SLURM_LIBDIR)

# A Slurm of our own: its plugins are where its auth_munge.so is (upstream's
# default is LIBDIR/slurm, a distribution's may differ).  Debian's default
# otherwise; RHEL-family sites give SLURM_PLUGIN_DIR=/usr/lib64/slurm.
ifneq ($(SLURM_LIBDIR),)
SLURM_PLUGIN_DIR ?= $(or $(patsubst %/auth_munge.so,%,$(firstword $(wildcard \
	$(SLURM_LIBDIR)/slurm/auth_munge.so $(SLURM_LIBDIR)/slurm-wlm/auth_munge.so))),$(SLURM_LIBDIR)/slurm)
else
SLURM_PLUGIN_DIR ?= /usr/lib/$(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/slurm-wlm
endif

CC       ?= cc
V        ?= 0
ifeq ($(V),0)
Q        = @
say      = @echo "  $(1) $(2)";
endif
CFLAGS   ?= -O2 -g
SAN      ?=
ifeq ($(SAN),1)
CFLAGS   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
endif

# The plugin only loads into the Slurm major.minor it was built for, so the
# version it was built against is recorded in it ("strings" shows it).
SLURM_VERSION_HEX := $(shell sed -n 's/^\#define SLURM_VERSION_NUMBER //p' $(or $(SLURM_INCDIR),/usr/include)/slurm/slurm_version.h 2>/dev/null)
SLURM_BUILT_FOR := $(if $(SLURM_VERSION_HEX),$(shell v=$$(($(SLURM_VERSION_HEX))); printf '%d.%02d.%d' $$((v>>16)) $$(((v>>8)&255)) $$((v&255))))
SJ_VERSION    := 0.1.0
# The shim loads libslurm only in the short-lived children that ask
# slurmctld (shim/slurmapi.c), by this name.  A Slurm of our own is named by
# its path: its lib directory is rarely in ld.so's search path, and Debian's
# libslurm may be there under another soname.
ifneq ($(SLURM_LIBDIR),)
LIBSLURM_SONAME := $(shell n=$$(readelf -d "$$(readlink -f $(SLURM_LIBDIR)/libslurm.so)" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'); test -z "$$n" || echo $(SLURM_LIBDIR)/$$n)
else
LIBSLURM_SONAME := $(shell f=$$($(CC) -print-file-name=libslurm.so); readelf -d "$$(readlink -f "$$f")" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
endif

SJ_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-fPIC -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	$(COMMON_DIRS:%=-I%) -DSJ_VERSION='"$(SJ_VERSION)"' \
	-DSJ_SYSCONFDIR='"$(SYSCONFDIR)"' -DSJ_SLURM_VERSION='"$(SLURM_BUILT_FOR)"' \
	-DSJ_LIBSLURM='"$(LIBSLURM_SONAME)"' $(CFLAGS)
SJ_LDFLAGS = -Wl,-z,relro,-z,now $(LDFLAGS)

# Slurm's headers are not ours to keep warning-free (25.11's slurm.h trips
# -Wstrict-prototypes): -isystem silences them, our own warnings stay
# errors.  /usr/include is a system directory already, and naming it again
# would only reorder the search.
ifneq ($(filter-out /usr/include,$(SLURM_INCDIR)),)
SJ_CFLAGS += -isystem $(SLURM_INCDIR)
endif

# common/ by layer (docs/architecture.md); one -I each, so an #include
# names the header, not where it lives.
COMMON_DIRS = $(patsubst %/,%,$(sort $(dir $(wildcard common/*/*.h))))
COMMON_SRC = $(wildcard common/*/*.c)
SPANK_SRC  = $(wildcard spank/*.c)
SHIM_SRC   = $(wildcard shim/*.c)
GEN_SRC    = $(wildcard kernelspec-generator/*.c)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)

COMMON_OBJ = $(COMMON_SRC:%.c=$(O)/%.o)
SPANK_OBJ  = $(SPANK_SRC:%.c=$(O)/%.o)
SHIM_OBJ   = $(SHIM_SRC:%.c=$(O)/%.o)
GEN_MAIN   = $(O)/kernelspec-generator/main.o
GEN_OBJ    = $(filter-out $(GEN_MAIN),$(GEN_SRC:%.c=$(O)/%.o))
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

PLUGIN = $(O)/spank_jupyter.so
SHIM   = $(O)/slurm-jupyter-shim
LIBCOMMON = $(O)/libsjcommon.a
GENERATOR = $(O)/jupyter-slurm
LIBGEN    = $(O)/libsjgen.a

LIBS_PLUGIN = -lmunge -ljansson -lsodium
LIBS_SHIM   = -lmunge -ljansson -lsodium
LIBS_GEN    = -lzmq -lmunge -ljansson -lsodium

.PHONY: all deps demo check unit unit-asan integration install uninstall \
	install-test deb deb-test clean cluster-up cluster-down bench bench-quick \
	valgrind fuzz fuzz-bins fuzz-seeds

all: $(PLUGIN) $(SHIM) $(GENERATOR)

# Each object depends on the headers it includes, as the compiler found
# them (-MMD); -MP keeps a deleted header from breaking the build.
DEPFLAGS = -MMD -MP

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(SJ_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJ)
	@rm -f $@
	$(call say,AR,$@)$(AR) rcs $@ $^

# The version script keeps everything but the SPANK entry points local, so
# our helpers can never clash with symbols of slurmstepd or other plugins.
$(PLUGIN): $(SPANK_OBJ) $(LIBCOMMON) spank/spank_jupyter.lds
	@test -n "$(SLURM_BUILT_FOR)" || { echo "Slurm version unknown: is libslurm-dev installed (or SLURM_PREFIX right)?" >&2; exit 1; }
	$(call say,LD,$@)$(CC) -shared -o $@ $(SPANK_OBJ) $(LIBCOMMON) $(SJ_LDFLAGS) \
		-Wl,--version-script=spank/spank_jupyter.lds $(LIBS_PLUGIN)

$(SHIM): $(SHIM_OBJ) $(LIBCOMMON)
	@test -n '$(LIBSLURM_SONAME)' || { echo "libslurm.so not found: install libslurm-dev (make deps), or check SLURM_PREFIX" >&2; exit 1; }
	$(call say,LD,$@)$(CC) -o $@ $(SHIM_OBJ) $(LIBCOMMON) $(SJ_LDFLAGS) $(LIBS_SHIM)

# Everything but main(), so that unit tests can link what they test.
$(LIBGEN): $(GEN_OBJ)
	@rm -f $@
	$(call say,AR,$@)$(AR) rcs $@ $^

$(GENERATOR): $(GEN_MAIN) $(LIBGEN) $(LIBCOMMON)
	$(call say,LD,$@)$(CC) -o $@ $(GEN_MAIN) $(LIBGEN) $(LIBCOMMON) $(SJ_LDFLAGS) $(LIBS_GEN)

# Unit tests link the pure-logic objects they test; spank/config.o has no
# SPANK calls and is tested like common/.
$(O)/tests/%: tests/unit/%.c $(LIBGEN) $(LIBCOMMON) $(O)/spank/config.o $(O)/shim/args.o
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(SJ_CFLAGS) $(DEPFLAGS) -MF $@.d -Ispank -Ishim -Ikernelspec-generator -o $@ $< \
		$(O)/spank/config.o $(O)/shim/args.o \
		$(LIBGEN) $(LIBCOMMON) $(SJ_LDFLAGS) -lcmocka $(LIBS_SHIM) -lzmq

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

unit-asan:
	$(MAKE) O=$(O)-asan SAN=1 unit

deps:
	@tests/cluster/install-deps
	@tests/browser/install

# The local cluster runs the Slurm this build is for.
CLUSTER_UP = tests/cluster/cluster up --slurm=$(or $(SLURM_PREFIX),/usr) --build=$(O)

demo: deps all
	$(CLUSTER_UP)
	tests/demo

# test_slurm_release.py runs the shim against a Slurm of another release
# than it was built for: on Debian's, this one (built once per machine).
SLURM_OTHER ?= 26.05.3
# Passed on to pytest, e.g. PYTEST_ARGS='-k "queue or news"'.
PYTEST_ARGS ?=

integration: all
	$(if $(SLURM_PREFIX),,tests/cluster/build-slurm $(SLURM_OTHER) >/dev/null)
	$(CLUSTER_UP)
	tests/integration/run $(PYTEST_ARGS)

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) fuzz FUZZ_SECONDS=20
	$(MAKE) install-test
	$(MAKE) integration
	$(if $(SLURM_VERSION),@echo "check: no .deb with SLURM_VERSION: the package is built for Debian's Slurm",$(MAKE) deb-test)

bench: all
	$(CLUSTER_UP)
	bench/bench

bench-quick: all
	$(CLUSTER_UP)
	bench/bench --quick

cluster-up: all
	$(CLUSTER_UP)

# Both shim ends under valgrind memcheck on the cluster (not in make
# check: it takes a few minutes).
valgrind: all
	$(CLUSTER_UP)
	tests/valgrind/run

cluster-down:
	tests/cluster/cluster down

# The parsers of outside bytes under libFuzzer, ASan and UBSan.  make
# check runs each for 20 s, so that none rots; a fuzzer's worth is in the
# hours it runs: make fuzz FUZZ_SECONDS=3600.  tests/fuzz/run runs one per
# core.  Each starts from the seeds
# in tests/fuzz/corpus/NAME (copied: a run never writes into the tree) and
# what earlier runs found in build-fuzz/corpus/NAME.
FUZZ_O       = $(O)-fuzz
FUZZ_SECONDS ?= 300
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC     = $(wildcard tests/fuzz/fuzz_*.c)

fuzz:
	$(MAKE) O=$(FUZZ_O) CC=clang \
		CFLAGS="-O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
		LDFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer" fuzz-bins
	tests/fuzz/run $(FUZZ_O) $(FUZZ_SECONDS) $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_O)/%)

fuzz-bins: $(FUZZ_SRC:tests/fuzz/%.c=$(O)/%)

# Rewrites the seeds in tests/fuzz/corpus/ (by hand, then commit them).
fuzz-seeds: $(O)/fuzz-seeds
	tests/fuzz/make-seeds $(O)/fuzz-seeds

$(O)/fuzz-seeds: tests/fuzz/seeds.c $(LIBGEN) $(LIBCOMMON)
	$(call say,LD,$@)$(CC) $(SJ_CFLAGS) $(DEPFLAGS) -MF $@.d -Ikernelspec-generator -o $@ $< \
		$(LIBGEN) $(LIBCOMMON) $(SJ_LDFLAGS) $(LIBS_GEN)

# The harnesses of kernelspec argv link the shim's and jupyter slurm's
# readers of it, as the unit tests do.
$(O)/fuzz_%: tests/fuzz/fuzz_%.c $(LIBGEN) $(LIBCOMMON) $(O)/spank/config.o $(O)/shim/args.o
	$(call say,LD,$@)$(CC) $(SJ_CFLAGS) $(DEPFLAGS) -MF $@.d -Ispank -Ishim -Ikernelspec-generator -o $@ $< \
		$(O)/spank/config.o $(O)/shim/args.o $(LIBGEN) $(LIBCOMMON) \
		$(SJ_LDFLAGS) $(LIBS_GEN)

-include $(wildcard $(O)/*/*.d $(O)/common/*/*.d $(O)/tests/*.d $(O)/fuzz*.d)

# The plugstack line is installed as an example only: a site's own
# jupyter.conf is never touched, and a required plugin is never switched
# on behind the admin's back.  docs/install-files.txt lists these files.
EXAMPLE = $(SYSCONFDIR)/slurm/plugstack.conf.d/jupyter.conf.example
# The shim's site defaults, all commented out: installed where the shim
# reads it, but never over a site's own, and removed only as shipped.
SHIMCONF = $(SYSCONFDIR)/slurm-jupyter/shim.conf
MANPAGES = kernelspec-generator/jupyter-slurm.1 shim/slurm-jupyter-shim.1

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SLURM_PLUGIN_DIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(dir $(EXAMPLE))
	install -m 0755 $(SHIM) $(DESTDIR)$(BINDIR)/slurm-jupyter-shim
	install -m 0755 $(GENERATOR) $(DESTDIR)$(BINDIR)/jupyter-slurm
	install -m 0644 $(PLUGIN) $(DESTDIR)$(SLURM_PLUGIN_DIR)/spank_jupyter.so
	install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 spank/spank_jupyter.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 etc/slurm/plugstack.conf.d/jupyter.conf $(DESTDIR)$(EXAMPLE)
	install -d $(DESTDIR)$(dir $(SHIMCONF))
	test -e $(DESTDIR)$(SHIMCONF) || \
		install -m 0644 etc/slurm-jupyter/shim.conf $(DESTDIR)$(SHIMCONF)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/slurm-jupyter-shim
	rm -f $(DESTDIR)$(BINDIR)/jupyter-slurm
	rm -f $(DESTDIR)$(SLURM_PLUGIN_DIR)/spank_jupyter.so
	rm -f $(DESTDIR)$(MANDIR)/man1/jupyter-slurm.1
	rm -f $(DESTDIR)$(MANDIR)/man1/slurm-jupyter-shim.1
	rm -f $(DESTDIR)$(MANDIR)/man8/spank_jupyter.8
	rm -f $(DESTDIR)$(EXAMPLE)
	! cmp -s etc/slurm-jupyter/shim.conf $(DESTDIR)$(SHIMCONF) || \
		rm -f $(DESTDIR)$(SHIMCONF)

# For tests and packaging: make -s print-SLURM_PLUGIN_DIR
print-%:
	@echo '$($*)'

install-test: all
	tests/install/test-install.sh

# Built from a copy of the tree without build output, so that neither the
# tree nor its parent gets dpkg-buildpackage's files; its log is
# $(O)/deb/build.log.
DEB_DIR = $(O)/deb
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	tar -c --exclude=./.git --exclude=./build --exclude='./build-*' \
		--exclude=./tests/browser/node_modules \
		--exclude='./$(O)' . | tar -x -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -n 30 ../build.log >&2; exit 1; }
	@ls $(DEB_DIR)/*.deb

deb-test: deb
	$(CLUSTER_UP)
	tests/install/test-deb.sh $(DEB_DIR)

clean:
	rm -rf build build-*
