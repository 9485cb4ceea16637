// Package e2e holds anomalyd's end-to-end tests. They run only with the e2e
// build tag and need real kapacitord, kapacitor and influxd binaries:
//
//	make e2e
//
// builds everything (the servers once, cached; see scripts/e2e-deps.sh) and
// runs them. See README.md in this directory.
package e2e
