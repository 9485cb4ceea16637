package detect

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// refDir holds R's reference results (spec §12). Tests read it in place;
// the project does not ship it.
const refDir = "../../../shared/data/twitter"

// readCSV returns the rows of a CSV file under refDir, header first. It
// skips the test when the shared data is not there.
func readCSV(tb testing.TB, name string) [][]string {
	tb.Helper()
	f, err := os.Open(filepath.Join(refDir, name))
	if os.IsNotExist(err) {
		tb.Skipf("reference data %s not present (it lives in ../shared beside the project)", name)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return rows
}

// column returns the named column of rows (header first) as float64.
func column(tb testing.TB, rows [][]string, name string) []float64 {
	tb.Helper()
	c := -1
	for i, h := range rows[0] {
		if h == name {
			c = i
		}
	}
	if c < 0 {
		tb.Fatalf("no column %q in %v", name, rows[0])
	}
	out := make([]float64, len(rows)-1)
	for i, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[c], 64)
		if err != nil {
			tb.Fatalf("row %d: %v", i+1, err)
		}
		out[i] = v
	}
	return out
}
