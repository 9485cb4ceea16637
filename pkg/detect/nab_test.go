package detect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestVec_NABLikeR compares Vec with R on every series of the NAB benchmark.
// testdata/nab_vec_r.json holds what R 4.2.2 with AnomalyDetection 1.0
// returned for AnomalyDetectionVec(value, period, max_anoms, direction) on
// each file's value column (period 150, max_anoms 0.02, both; period 288,
// max_anoms 0.05, neg): 116 calls, about 12,000 anomalies. Every anomaly
// must come out at the same index, with the same value, in the same order.
func TestVec_NABLikeR(t *testing.T) {
	dir := filepath.Join(refDir, "..", "nab", "data")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("NAB data not present (it lives in ../shared beside the project): %v", err)
	}
	b, err := os.ReadFile("testdata/nab_vec_r.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			File      string       `json:"file"`
			Period    int          `json:"period"`
			MaxAnoms  float64      `json:"max_anoms"`
			Direction string       `json:"direction"`
			Anomalies [][2]float64 `json:"anomalies"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	var d Detector
	var got []Anomaly
	for _, c := range ref.Cases {
		rows := readCSV(t, filepath.Join("..", "nab", "data", c.File))
		values := column(t, append([][]string{{"t", "v"}}, rows[1:]...), "v")
		dir, err := ParseDirection(c.Direction)
		if err != nil {
			t.Fatal(err)
		}
		got, err = d.Vec(got[:0], values, VecParams{Period: c.Period, MaxAnoms: c.MaxAnoms, Alpha: 0.05, Direction: dir})
		if err != nil {
			t.Errorf("%s: %v", c.File, err)
			continue
		}
		if len(got) != len(c.Anomalies) {
			t.Errorf("%s (period %d, %v, %s): %d anomalies, R %d", c.File, c.Period, c.MaxAnoms, c.Direction, len(got), len(c.Anomalies))
			continue
		}
		for i, w := range c.Anomalies {
			if got[i].Index != int(w[0]) || got[i].Value != w[1] {
				t.Errorf("%s (period %d, %v, %s): anomaly %d at %d = %v, R at %v = %v",
					c.File, c.Period, c.MaxAnoms, c.Direction, i, got[i].Index, got[i].Value, w[0], w[1])
				break
			}
		}
	}
}
