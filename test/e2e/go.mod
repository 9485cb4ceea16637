// The end-to-end tests: anomalyd under a real kapacitord (and influxd for
// batch queries). A module of its own, standard library only, so that the
// main module's `go test ./...` never runs them; run them with `make e2e`.
module github.com/anomalyd/anomalyd/test/e2e

go 1.26
