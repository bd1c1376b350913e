# ndn-invoke — see README.md. Every target works from a clean clone with only Go installed.
GO       ?= go
FUZZTIME ?= 30s
BIN      := $(CURDIR)/bin
export NDND_BIN := $(BIN)/ndnd

.PHONY: all build test fuzz lint vuln generate tidy demo demo-security demo-repo bench bench-micro clean

all: build

build:
	$(GO) build -o $(BIN)/ndnd github.com/named-data/ndnd/cmd/ndnd
	$(GO) build -o $(BIN)/ndn-invoke ./cmd/ndn-invoke
	$(GO) build -o $(BIN)/ndn-repo ./cmd/ndn-repo

$(BIN)/ndnd: go.mod go.sum
	$(GO) build -o $(BIN)/ndnd github.com/named-data/ndnd/cmd/ndnd

# Unit and integration tests (a real forwarder per test binary), with the race detector.
test: $(BIN)/ndnd
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...
	cd bench && $(GO) vet ./... && $(GO) test -count=1 -timeout 5m ./...

# Every fuzz target, FUZZTIME each (see scripts/fuzz.sh).
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

lint:
	@out=$$(gofmt -s -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt -s needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -version >/dev/null 2>&1; then \
	  echo "staticcheck ./..."; $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...; else echo "staticcheck unavailable: skipped"; fi
	@! grep -rn --include='*.go' -E 'time\.(After|AfterFunc)\(' . | grep -v '_test.go' | grep -v '^./bench/' || { echo "time.After/AfterFunc in library code"; exit 1; }
	@! grep -rn --include='*.go' 'interface{}' . || { echo "use any, not interface{}"; exit 1; }
	@! grep -rn 'AI GENERATED DESCRIPTION' --include='*.go' . || exit 1

vuln:
	$(GO) run golang.org/x/vuln/cmd/govulncheck@latest ./...

tidy:
	$(GO) mod tidy
	cd bench && $(GO) mod tidy
	git diff --exit-code go.mod go.sum bench/go.mod bench/go.sum

# The main job: a forwarder of its own, the calc service, and the CLI
# calling it (signed, public, denied, timed out). Leaves nothing running.
demo: build
	$(GO) run ./examples/calc/cmd/calc-demo

# The security walk-through: accepted, replayed, forged, uncertified,
# expired and policy-denied requests.
# The repo: ndnd put -> ndn-invoke repo insert -> ndnd cat after restarts.
demo-repo: build
	bash scripts/demo-repo.sh

demo-security: build
	$(GO) run ./examples/hello/cmd/hello

# Side by side in one run: ndn-invoke (Ed25519 per packet, session-signed,
# sealed, cached) against gRPC-go over TLS; prints a table, writes JSON.
# Then the repo: durable inserts against the bare store, and a 100 MiB
# object from the repo against ndnd cat <- ndnd put.
bench: $(BIN)/ndnd
	cd bench && $(GO) run ./cmd/compare --out results.json
	cd bench && $(GO) run ./cmd/repo --out repo-results.json

# Micro-benchmarks of the packages (signing, verification, codecs, ...).
bench-micro: $(BIN)/ndnd
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(BIN)
