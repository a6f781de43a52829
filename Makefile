# camgate — the two commands of the quick start are `make run` and `make test`.
GO      ?= go
BIN     := bin/camgate
ARGS    ?=

.PHONY: build run test test-go test-e2e bench lint fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/camgate

# The demo: camgate with its embedded demo camera; open the printed URL.
run: build
	./$(BIN) $(ARGS)

# Everything: Go tests under the race detector, then the browser tests.
test: test-go test-e2e

test-go:
	$(GO) test -race -count=1 ./...

test-e2e: build
	./e2e/run.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin
