package detect

import (
	"math"
	"testing"
)

// TestESD_RTrace replays R's ESD loop on raw_data (max_anoms 0.02, both):
// the residuals are R's own (esd_input of the decomposition), and every
// step must pick R's row with R's median, MAD and statistic, bit for bit.
func TestESD_RTrace(t *testing.T) {
	dec := readCSV(t, "reference/raw_data__ts_both_0.02.decomp.csv")
	trace := readCSV(t, "reference/raw_data__ts_both_0.02.esd.csv")
	r := column(t, dec, "esd_input")
	wantRow := column(t, trace, "row")
	wantMed := column(t, trace, "median")
	wantMAD := column(t, trace, "mad")
	wantR := column(t, trace, "R")
	wantLambda := column(t, trace, "lambda")

	k := int(float64(len(r)) * 0.02)
	if k != len(wantRow) {
		t.Fatalf("K = %d, R ran %d steps", k, len(wantRow))
	}
	var e esd
	var gotMed, gotMAD []float64
	e.trace = func(step int, med, sigma float64) {
		gotMed = append(gotMed, med)
		gotMAD = append(gotMAD, sigma)
	}
	res, err := e.run(r, nil, k, 0.05, Both)
	if err != nil {
		t.Fatal(err)
	}
	if res.steps != k {
		t.Fatalf("steps = %d, want %d", res.steps, k)
	}
	for s := 0; s < k; s++ {
		if got := int(e.cand[s]) + 1; got != int(wantRow[s]) {
			t.Fatalf("step %d: row %d, R chose %d", s+1, got, int(wantRow[s]))
		}
		if gotMed[s] != wantMed[s] || gotMAD[s] != wantMAD[s] || e.score[s] != wantR[s] {
			t.Fatalf("step %d: median %v mad %v R %v; R has %v %v %v",
				s+1, gotMed[s], gotMAD[s], e.score[s], wantMed[s], wantMAD[s], wantR[s])
		}
		if l := criticalValue(len(r), s+1, 0.05, Both); math.Abs(l-wantLambda[s]) > 1e-12*wantLambda[s] {
			t.Errorf("step %d: lambda %v, R %v", s+1, l, wantLambda[s])
		}
	}
	last := 0
	for s, ex := range trace[1:] {
		if ex[len(ex)-1] == "TRUE" {
			last = s + 1
		}
	}
	if res.numAnoms != last {
		t.Errorf("numAnoms = %d, R %d", res.numAnoms, last)
	}
}

// TestNumAnoms_BoundsAgreeWithExact: the shortcut bounds in numAnoms never
// change the outcome of evaluating every λ_s exactly.
func TestNumAnoms_BoundsAgreeWithExact(t *testing.T) {
	for _, n := range []int{10, 49, 672, 14398} {
		for _, dir := range []Direction{Pos, Both} {
			for _, alpha := range []float64{0.001, 0.05, 0.5, 0.9} {
				steps := n * 2 / 5
				score := make([]float64, steps)
				exact := make([]float64, steps)
				for s := 1; s <= steps; s++ {
					exact[s-1] = criticalValue(n, s, alpha, dir)
				}
				// Scores just above, at and below each λ_s, one step at a
				// time, so every step is once the last exceeding one.
				for _, j := range []int{0, 1, steps / 2, steps - 1} {
					for _, f := range []float64{1 + 1e-15, 1, 1 - 1e-15, 0.5} {
						for i := range score {
							score[i] = exact[i] * 0.9
						}
						score[j] = exact[j] * f
						want := 0
						for s := steps; s >= 1; s-- {
							if score[s-1] > exact[s-1] {
								want = s
								break
							}
						}
						got, err := numAnoms(score, n, alpha, dir)
						if err != nil || got != want {
							t.Fatalf("n=%d dir=%v alpha=%v j=%d f=%v: %d, %v; want %d", n, dir, alpha, j, f, got, err, want)
						}
					}
				}
			}
		}
	}
}
