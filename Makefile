# anomalyd — build, test and generate.
#
#   make build      build ./anomalyd
#   make run        build and serve on ./anomalyd.sock
#   make test       everything CI runs: vet, gofmt, unit tests with -race, end-to-end tests
#   make unit       unit tests only (go test -race ./..., pkg/detect in both modes, see below)
#   make e2e        end-to-end tests against real kapacitord and influxd (builds them once, cached)
#   make bench      the benchmarks quoted in README.md (with the vector kernels);
#                   make bench-detection the daemon's detection benchmark
#   make generate   regenerate pkg/udfpb from udf.proto (needs protoc: apt-get install protobuf-compiler)
#   make docker     build the container image $(IMAGE):$(VERSION) (its build stage runs `make build`)

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The same flags build the binary here and in the Dockerfile, whose build
# stage runs `make build` (cmd/anomalyd/docker_test.go checks it does).
BUILD_FLAGS = -trimpath -ldflags "-s -w -X main.version=$(VERSION)"
# The binary is built with Go's experimental simd package (GOEXPERIMENT=simd,
# Go 1.26, amd64): pkg/detect then has vector kernels for STL
# (pkg/detect/stl_vec.go), used on CPUs with AVX2. A plain `go build`
# leaves them out and runs the scalar code: the same results, bit for bit,
# only slower. `make build SIMD=` builds that way.
SIMD     = simd
IMAGE    ?= anomalyd
DOCKER   ?= docker

.PHONY: run build test unit lint e2e bench bench-detection generate docker clean

run: build
	./anomalyd serve --socket ./anomalyd.sock --log-format console

build: export GOEXPERIMENT = $(SIMD)
build:
	CGO_ENABLED=0 $(GO) build $(BUILD_FLAGS) -o anomalyd ./cmd/anomalyd

test: lint unit e2e

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	GOEXPERIMENT=$(SIMD) $(GO) vet ./...

# Everything as it is built (GOEXPERIMENT=simd), and pkg/detect once more as
# a plain `go build` builds it (the scalar code).
unit:
	GOEXPERIMENT=$(SIMD) $(GO) test -race -count=1 ./...
	GOEXPERIMENT= $(GO) test -race -count=1 ./pkg/detect/

e2e:
	@$(MAKE) --no-print-directory build
	@deps=$$(scripts/e2e-deps.sh) && eval "$$deps" && cd test/e2e && \
	E2E_ANOMALYD=$(CURDIR)/anomalyd E2E_KAPACITORD=$$KAPACITORD E2E_KAPACITOR=$$KAPACITOR E2E_INFLUXD=$$INFLUXD \
	$(GO) test -tags e2e -count=1 -parallel 6 -timeout 15m -v ./...

# The benchmarks quoted in README.md, medians of -count 5 (benchstat, if
# installed, or by eye). bench-detection (1,000 detections on 14-day
# histories per run) takes about a minute per run.
bench: export GOEXPERIMENT = $(SIMD)
bench:
	$(GO) test -run '^$$' -bench 'Ts|STL$$|ESD' -benchmem -count 5 ./pkg/detect/
	$(GO) test -run '^$$' -bench 'Throughput|DecodePoint' -benchmem -count 5 ./pkg/agent/
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./pkg/state/

bench-detection: export GOEXPERIMENT = $(SIMD)
bench-detection:
	$(GO) test -run '^$$' -bench Detection -benchtime 1x -benchmem -count 3 -timeout 30m ./pkg/agent/

generate:
	$(GO) generate ./pkg/udfpb/

docker:
	$(DOCKER) build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) .

clean:
	rm -f anomalyd
