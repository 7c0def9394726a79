# ktcp-rs: in-kernel TCP servers in Rust. `make help` lists the targets.
SHELL := /bin/bash
FLAVOUR ?= debug
CARGO_DIR := userspace-tests
export RUSTUP_TOOLCHAIN := 1.95.0

.PHONY: all modules setup kernel run check bench soak vm shell fmt clippy host-test tools clean help

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
	@rustfmt --edition 2021 --config-path "$$(source scripts/common.sh && kernel_src)/.rustfmt.toml" src/*.rs src/proto/*.rs

clippy:
	@cd $(CARGO_DIR) && cargo clippy --all-targets --quiet -- -D warnings
	@KTCP_CLIPPY=1 bash scripts/modules.sh $(FLAVOUR)

clean:
	rm -rf build results
	cd $(CARGO_DIR) && cargo clean
