# infertop: every target provisions what is missing first (libtorch in the per-user cache).
SHELL := /bin/bash
ifndef LIBTORCH
LIBTORCH := $(shell bash scripts/fetch-libtorch.sh)
endif
export LIBTORCH
# Headless when there is no terminal, otherwise the live monitor. Extra flags: make run ARGS="--only vgg16".
ARGS ?=

.PHONY: run test bench build libtorch clean-cache

libtorch:
	@test -n "$(LIBTORCH)" || { echo "libtorch could not be provisioned" >&2; exit 1; }
	@echo "LIBTORCH=$(LIBTORCH)"

build: libtorch
	cargo build --release

run: build
	./target/release/infertop $(ARGS)

# Unit, integration and doc tests; benchmarks are only compiled here (they run with `make bench`).
test: libtorch
	cargo test
	cargo test --benches --no-run

bench: libtorch
	cargo bench

clean-cache:
	rm -rf "$${XDG_CACHE_HOME:-$$HOME/.cache}/infertop"
