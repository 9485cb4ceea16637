# anomalyd — build, test and generate.
#
#   make build      build ./anomalyd
#   make run        build and serve on ./anomalyd.sock
#   make test       everything CI runs: vet, gofmt, unit tests with -race, end-to-end tests
#   make unit       unit tests only (go test -race ./...)
#   make e2e        end-to-end tests against real kapacitord and influxd (builds them once, cached)
#   make bench      the benchmarks quoted in README.md
#   make generate   regenerate pkg/udfpb from udf.proto (needs protoc: apt-get install protobuf-compiler)
#   make docker     build the container image $(IMAGE):$(VERSION) (its build stage runs `make build`)

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The same flags build the binary here and in the Dockerfile, whose build
# stage runs `make build` (cmd/anomalyd/deploy_test.go checks it does).
BUILD_FLAGS = -trimpath -ldflags "-s -w -X main.version=$(VERSION)"
IMAGE    ?= anomalyd
DOCKER   ?= docker

.PHONY: run build test unit lint e2e bench generate docker clean

run: build
	./anomalyd serve --socket ./anomalyd.sock --log-format console

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
	@$(MAKE) --no-print-directory build
	@deps=$$(scripts/e2e-deps.sh) && eval "$$deps" && cd test/e2e && \
	E2E_ANOMALYD=$(CURDIR)/anomalyd E2E_KAPACITORD=$$KAPACITORD E2E_KAPACITOR=$$KAPACITOR E2E_INFLUXD=$$INFLUXD \
	$(GO) test -tags e2e -count=1 -parallel 6 -timeout 15m -v ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./pkg/detect/

generate:
	$(GO) generate ./pkg/udfpb/

docker:
	$(DOCKER) build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) .

clean:
	rm -f anomalyd
