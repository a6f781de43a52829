# camgate — the two commands of the quick start are `make run` and `make test`.
GO      ?= go
BIN     := bin/camgate
ARGS    ?=
# camgate --version prints them: the nearest tag and the commits since
# (or the short hash), "-dirty" for uncommitted changes; "devel" outside git.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# golangci-lint, pinned. Built from source with the installed Go (a release
# binary is built with whatever Go its release used, which may be older than
# the one go.mod asks for), once per version: the version is in the path, so
# changing GOLANGCI_LINT_VERSION builds the new one and an existing binary of
# the pinned version is kept. A cold build takes a few minutes.
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := bin/tools/golangci-lint-$(GOLANGCI_LINT_VERSION)/golangci-lint

.PHONY: build run test test-go test-e2e bench lint fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/camgate

# The demo: camgate with its embedded demo camera; open the printed URL.
run: build
	./$(BIN) $(ARGS)

# Everything: Go tests under the race detector, then the browser tests.
test: test-go test-e2e

# The Go tests mostly wait (real sockets, cameras paced in real time), so
# each package runs up to TEST_PARALLEL of its tests at once instead of the
# default one per core; packages run two at a time, and gateway, the
# longest, is named first so that it starts first.
TEST_PARALLEL ?= 8

test-go:
	$(GO) test -race -count=1 -parallel $(TEST_PARALLEL) ./gateway ./...

test-e2e: build
	./e2e/run.sh

# Speed, measured (docs/performance.md): the Go benchmarks of every package
# that has some, then the load scenario: an RTSP camera at 2 Mbit/s, camgate
# built and run as its own process, 1 to 200 WebRTC viewers signaled over
# REST; then a shorter one with the viewers signaled over the WebSocket
# (1 to 50 viewers, 5 s windows); then viewers that answer without
# candidates and send none, as go2rtc does (1 and 10 viewers, 5 s windows:
# their first frame). Each prints its tables and writes
# bench/results/<date>-<host>.json (the WebSocket one <date>-<host>-ws.json,
# the last <date>-<host>-nocand.json). Needs ffmpeg for the clip; BENCH_ARGS
# adds camgate-bench flags to all three (e.g. --perf-step 100),
# BENCH_WS_ARGS and BENCH_NOCAND_ARGS come after them in the WebSocket run
# and the last run only (their steps and window; empty: the same ramp as
# the REST run).
BENCH_CLIP := bench/clip.h264
BENCH_ARGS ?=
BENCH_WS_ARGS ?= --steps 1,10,50 --window 5s
BENCH_NOCAND_ARGS ?= --steps 1,10 --window 5s

bench: build $(BENCH_CLIP)
	$(GO) build -o bin/camgate-bench ./cmd/camgate-bench
	@status=0; \
	$(GO) test -run '^$$' -bench . -benchmem $$(grep -rl --include='*_test.go' '^func Benchmark' . | xargs -n1 dirname | sort -u) || status=$$?; \
	./bin/camgate-bench run --camgate $(BIN) --config bench --clip $(BENCH_CLIP) --out bench/results $(BENCH_ARGS) || status=$$?; \
	./bin/camgate-bench run --camgate $(BIN) --config bench --clip $(BENCH_CLIP) --out bench/results $(BENCH_ARGS) --flow ws $(BENCH_WS_ARGS) || status=$$?; \
	./bin/camgate-bench run --camgate $(BIN) --config bench --clip $(BENCH_CLIP) --out bench/results $(BENCH_ARGS) --flow rest-no-candidates $(BENCH_NOCAND_ARGS) || status=$$?; \
	exit $$status

# 20 s of 1280x720 at 25 fps, 2 Mbit/s, an IDR every 4 s, one slice per frame.
$(BENCH_CLIP):
	@command -v ffmpeg >/dev/null || { echo "make bench needs ffmpeg to make $@ (apt-get install ffmpeg)"; exit 1; }
	ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t 20 \
		-c:v libx264 -preset veryfast -threads 1 -profile:v baseline -pix_fmt yuv420p \
		-g 100 -keyint_min 100 -sc_threshold 0 -b:v 2M -maxrate 2M -bufsize 2M -f h264 $@

# Every fuzz target of the repository for FUZZTIME each (see .ci/fuzz.sh).
FUZZTIME ?= 8s

fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./.ci/fuzz.sh

# go vet, a gofmt check, then golangci-lint with .golangci.yml.
lint: $(GOLANGCI_LINT)
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GOLANGCI_LINT) run ./...

# The linter's build; `make lint` runs it only when the binary is missing.
$(GOLANGCI_LINT):
	GOBIN=$(CURDIR)/$(@D) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

# Everything under bin/ but the linter, which is slow to build again.
clean:
	rm -rf $(filter-out bin/tools,$(wildcard bin/*))
