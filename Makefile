# infertop: every target that builds provisions what is missing first (libtorch in the per-user
# cache; for aarch64 on an x86_64 machine also the cross toolchain and qemu). Targets that do not
# build (clean-cache) never provision anything.
SHELL := /bin/bash
# Headless when there is no terminal, otherwise the live monitor. Extra flags: make run ARGS="--only vgg16".
ARGS ?=
# The architecture `make bundle` packs for: this machine's, or aarch64 from x86_64.
HOST_ARCH = $(shell uname -m)
ARCH ?= $(HOST_ARCH)
CACHE := $(or $(INFERTOP_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/infertop)
# Where `make bundle` writes infertop-<version>-<arch>.tar.gz.
BUNDLE_DIR := target/bundle
# Provision libtorch, then run the rest of the recipe with LIBTORCH exported. Expanded inside
# recipes only, so `make clean-cache` (or any target without it) downloads nothing.
# rustfmt.toml and the [lints] table in Cargo.toml say what these check; any warning fails.
LINT = cargo fmt --check && cargo clippy --all-targets --locked -- -D warnings
WITH_LIBTORCH = LIBTORCH="$${LIBTORCH:-$$(bash scripts/fetch-libtorch.sh)}" && test -n "$$LIBTORCH" && export LIBTORCH &&
# tests/prometheus.rs checks `--listen` with a real Prometheus server and an OpenMetrics parser:
# installed here when missing (Debian packages, when root or sudo can), and required, so that a
# machine without them fails those tests instead of skipping them.
WITH_PROMETHEUS = bash scripts/ensure-prometheus.sh && export INFERTOP_REQUIRE_PROMETHEUS=1 &&
# The same for building for architecture $(1): scripts/arch-env.sh provisions and prints the
# environment (for aarch64 on x86_64: cross-building cargo, tests run under qemu).
WITH_ARCH = arch_env="$$(bash scripts/arch-env.sh $(1))" && eval "$$arch_env" &&
# Packs the release binary for $(1) (built first) with its libtorch; leaves the path in $$tarball.
BUNDLE = $(call WITH_ARCH,$(1)) cargo build --release --locked && \
	tarball="$$(bash scripts/bundle.sh $(1) "$$INFERTOP_RELEASE_BIN" "$$LIBTORCH" $(BUNDLE_DIR))" &&

.PHONY: run test test-native test-aarch64 lint bench build libtorch bundle bundle-smoke screen clean-cache

libtorch:
	@$(WITH_LIBTORCH) echo "LIBTORCH=$$LIBTORCH"

build:
	@$(WITH_LIBTORCH) cargo build --release

run: build
	./target/release/infertop $(ARGS)

# The whole suite: on x86_64 the native suite, then the aarch64 board path under emulation
# (test-aarch64); on an aarch64 machine the native suite and its own bundle's smoke run.
ifeq ($(HOST_ARCH),x86_64)
test: test-native test-aarch64
else
test: test-native bundle-smoke
endif

# Debian's chromium first (installed when missing and possible: tests/report.rs renders a report
# in it, and fails here without it), formatting and lints (cheap: a red gate should not wait
# for the suite; clippy --all-targets also type-checks the benchmarks, which run with
# `make bench`), then unit, integration and doc tests.
test-native:
	@bash scripts/ensure-chromium.sh
	@$(WITH_LIBTORCH) $(LINT) && $(WITH_PROMETHEUS) INFERTOP_REQUIRE_CHROMIUM=1 cargo test --locked

# The board path, built once for aarch64 (release: emulated code runs faster optimised): the
# test build also makes the release binary, which is packed into the bundle, untarred into an
# empty folder and run on each emulated core (scripts/bundle-smoke.sh); then the whole suite
# runs under qemu-aarch64 (natively on an aarch64 machine), including the tests that start the
# binary (all of it: one failure does not hide the others).
test-aarch64:
	@$(call WITH_ARCH,aarch64) $(WITH_PROMETHEUS) cargo test --release --locked --no-run && \
		tarball="$$(bash scripts/bundle.sh aarch64 "$$INFERTOP_RELEASE_BIN" "$$LIBTORCH" $(BUNDLE_DIR))" && \
		bash scripts/bundle-smoke.sh aarch64 "$$tarball" && cargo test --release --locked --no-fail-fast

# infertop-<version>-$(ARCH).tar.gz: the binary, the libtorch it loads, the manifest, the themes.
bundle:
	@$(call BUNDLE,$(ARCH)) echo "$$tarball"

# Builds the bundle for $(ARCH) and runs it as a user would: an empty folder, no LD_LIBRARY_PATH.
bundle-smoke:
	@$(call BUNDLE,$(ARCH)) bash scripts/bundle-smoke.sh $(ARCH) "$$tarball"

lint:
	@$(WITH_LIBTORCH) $(LINT)

# Redraws docs/screen.svg, the README's picture of the live screen, from a real short run
# (tests/screen_picture.rs, which fails while the picture no longer matches the screen).
screen:
	@$(WITH_LIBTORCH) INFERTOP_UPDATE_SCREEN=1 cargo test --locked --test screen_picture

bench:
	@$(WITH_LIBTORCH) cargo bench

clean-cache:
	rm -rf "$(CACHE)"
