# infertop: every target that builds provisions what is missing first (libtorch in the per-user
# cache). Targets that do not build (clean-cache) never provision anything.
SHELL := /bin/bash
# Headless when there is no terminal, otherwise the live monitor. Extra flags: make run ARGS="--only vgg16".
ARGS ?=
CACHE := $(or $(INFERTOP_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/infertop)
# Provision libtorch, then run the rest of the recipe with LIBTORCH exported. Expanded inside
# recipes only, so `make clean-cache` (or any target without it) downloads nothing.
# rustfmt.toml and the [lints] table in Cargo.toml say what these check; any warning fails.
LINT = cargo fmt --check && cargo clippy --all-targets --locked -- -D warnings
WITH_LIBTORCH = LIBTORCH="$${LIBTORCH:-$$(bash scripts/fetch-libtorch.sh)}" && test -n "$$LIBTORCH" && export LIBTORCH &&

.PHONY: run test lint bench build libtorch clean-cache

libtorch:
	@$(WITH_LIBTORCH) echo "LIBTORCH=$$LIBTORCH"

build:
	@$(WITH_LIBTORCH) cargo build --release

run: build
	./target/release/infertop $(ARGS)

# Formatting and lints first (cheap: a red gate should not wait for the suite), then unit,
# integration and doc tests; benchmarks are only compiled here (they run with `make bench`).
test:
	@$(WITH_LIBTORCH) $(LINT) && cargo test --locked && cargo test --benches --no-run --locked

lint:
	@$(WITH_LIBTORCH) $(LINT)

bench:
	@$(WITH_LIBTORCH) cargo bench

clean-cache:
	rm -rf "$(CACHE)"
