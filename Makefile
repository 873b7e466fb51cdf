# Switchboard: `make serve` and `make test` do all set-up on a fresh machine.
HOST ?= 127.0.0.1
PORT ?= 8080
SWIFT ?= swift
# Extra flags for `switchboard serve` (e.g. SERVE_FLAGS="--api-key secret").
SERVE_FLAGS ?=

.PHONY: bootstrap build serve test conformance bench clean

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c release --product switchboard

serve: build
	.build/release/switchboard serve --host $(HOST) --port $(PORT) $(SERVE_FLAGS)

# Every test: unit tests, HTTP integration tests on the real default model (and on the
# Qwen2.5-Coder GGUF where a tool-aware template matters), then the whole conformance kit.
test: bootstrap
	scripts/fetch-qwen
	$(SWIFT) build -c release --product switchboard
	$(SWIFT) test
	scripts/conformance

# The conformance kit of ../shared/conformance against a server started for the occasion.
conformance: build
	scripts/conformance

bench: bootstrap
	$(SWIFT) run -c release switchboard bench

clean:
	rm -rf .build
