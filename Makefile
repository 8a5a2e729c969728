# Switchboard: the two commands of the README are `make demo` and `make test`.
# Both install the Debian packages they need (only the missing ones) first.

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0

# What the demo needs at run time.
DEMO_PKGS := espeak-ng
# What the whole test suite needs: real SIP peers, speech engines, audio tools, namespaces.
TEST_PKGS := $(DEMO_PKGS) sip-tester baresip-core kamailio nftables iproute2 sox flite flite1-dev \
             libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us pkg-config gcc

.PHONY: demo test deps-demo deps-test vet staticcheck build-examples unit bench fuzz-smoke

demo: deps-demo
	$(GO) run ./examples/quickstart

test: deps-test vet staticcheck build-examples
	$(GO) test -race -count=1 -timeout 15m ./...

deps-demo:
	@bash .ci/apt-install $(DEMO_PKGS)

deps-test:
	@bash .ci/apt-install $(TEST_PKGS)

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

build-examples:
	$(GO) build ./examples/...

# Not part of `make test`: the benchmarks behind the README's performance figures.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Each fuzz target for a short while (corpora are committed under testdata/fuzz).
fuzz-smoke:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 10s $$pkg || exit 1; \
	  done; \
	done
