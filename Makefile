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

# Function calling and structured output on local models arrive with issue 5; until then the
# conformance kit skips those checks (everything else must pass with 0 failures).
CONFORMANCE_SKIPS = --skip 'tools.*' --skip 'stream.tools_*' --skip 'format.*' \
	--skip 'sdk.tools.*' --skip 'sdk.stream.tools_*' --skip 'sdk.stream_helper.*' --skip 'sdk.format.*' --skip 'sdk.parse*'

# Every test: unit tests, HTTP integration tests on the real default model, conformance kit.
test: bootstrap
	$(SWIFT) build -c release --product switchboard
	$(SWIFT) test
	scripts/conformance $(CONFORMANCE_SKIPS)

# The conformance kit of ../shared/conformance against a server started for the occasion.
conformance: build
	scripts/conformance $(CONFORMANCE_SKIPS)

bench: bootstrap
	$(SWIFT) run -c release switchboard bench

clean:
	rm -rf .build
