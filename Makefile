# ktcp-rs: in-kernel TCP servers in Rust. `make help` lists the targets.
SHELL := /bin/bash
FLAVOUR ?= debug
CARGO_DIR := userspace-tests
export RUSTUP_TOOLCHAIN := 1.95.0
# The one version, dkms.conf's PACKAGE_VERSION (also the modules' MODULE_VERSION, see Kbuild).
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="*\([^"]*\)"*$$/\1/p' dkms.conf)
# make install: the running kernel's tree unless KDIR says otherwise; INSTALL_MOD_PATH (or
# DESTDIR) stages under a prefix. make dkms-source: the sources dkms builds from.
INSTALL_KDIR = $(or $(KDIR),/lib/modules/$(shell uname -r)/build)
INSTALL_MOD_PATH ?= $(DESTDIR)
DKMS_SOURCE_TREE ?= $(DESTDIR)/usr/src

.PHONY: all modules setup kernel run check bench soak vm shell fmt clippy host-test tools clean help \
	install uninstall dkms-source

all: modules

help:
	@echo "make            build kecho_rs.ko and khttpd_rs.ko (FLAVOUR=debug|perf, or KDIR=/built/kernel)"
	@echo "make setup      install what this machine lacks (idempotent)"
	@echo "make kernel     build (or find cached) the perf and debug guest kernels"
	@echo "make run        boot the perf guest, load the modules, show them working"
	@echo "make check      host lint+tests, module build (kernel clippy), guest integration tests (debug kernel)"
	@echo "                SEED=N replays the storms, KEEP_GOING=1 runs the guest after a host failure"
	@echo "make bench      kecho_rs / khttpd_rs against their peers in one perf-guest run"
	@echo "make soak       the long hostile-input / load-unload / fault-injection / 1,000-client run"
	@echo "make vm CMD='...'  run CMD as root in a guest (FLAVOUR=debug|perf); make shell: interactive"
	@echo "make install    build for KDIR (default: the running kernel) and install into"
	@echo "                /lib/modules/<kver>/extra, then depmod (INSTALL_MOD_PATH or DESTDIR: staged)"
	@echo "make uninstall  remove them again, then depmod"
	@echo "make dkms-source  copy the module sources to /usr/src/ktcp-rs-$(VERSION) for dkms (README \"Install\")"

setup:
	@bash scripts/setup.sh

kernel: setup
	@bash scripts/kernel.sh perf
	@bash scripts/kernel.sh debug

modules: setup
	@bash scripts/modules.sh $(FLAVOUR)

tools: setup
	@cd $(CARGO_DIR) && cargo build --release --quiet --bins

host-test: setup
	@cd $(CARGO_DIR) && cargo test --release --quiet 2>&1 | tee /tmp/ktcp-host-test.log | grep -E '^test result|FAILED|panicked' ; test $${PIPESTATUS[0]} = 0

run: setup
	@bash scripts/run.sh

check: setup
	@bash scripts/check.sh

bench: setup
	@bash scripts/bench.sh

soak: setup
	@bash scripts/soak.sh

vm:
	@bash scripts/vm.sh --flavour $(FLAVOUR) -- $(if $(CMD),'$(subst ','\'',$(CMD))')

shell:
	@bash scripts/vm.sh --flavour $(FLAVOUR)

fmt:
	@cd $(CARGO_DIR) && cargo fmt --all
	@rustfmt --edition 2021 --config-path "$$(source scripts/common.sh && kernel_rustfmt_toml)" src/*.rs src/proto/*.rs

clippy:
	@cd $(CARGO_DIR) && cargo clippy --all-targets --quiet -- -D warnings
	@KTCP_CLIPPY=1 bash scripts/modules.sh $(FLAVOUR)

install:
	@KDIR='$(INSTALL_KDIR)' INSTALL_MOD_PATH='$(INSTALL_MOD_PATH)' bash scripts/install.sh install

uninstall:
	@KDIR='$(INSTALL_KDIR)' INSTALL_MOD_PATH='$(INSTALL_MOD_PATH)' bash scripts/install.sh uninstall

# What dkms builds: the Kbuild, its sources and dkms.conf, nothing else of the repository.
dkms-source:
	@test -n '$(VERSION)' || { echo 'error: no PACKAGE_VERSION in dkms.conf' >&2; exit 1; }
	rm -rf '$(DKMS_SOURCE_TREE)/ktcp-rs-$(VERSION)'
	mkdir -p '$(DKMS_SOURCE_TREE)/ktcp-rs-$(VERSION)'
	cp -r dkms.conf Kbuild src '$(DKMS_SOURCE_TREE)/ktcp-rs-$(VERSION)/'

clean:
	rm -rf build results
	cd $(CARGO_DIR) && cargo clean
