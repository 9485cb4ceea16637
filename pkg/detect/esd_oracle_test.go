package detect

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveESD is spec §5.6 written the way R runs it: a full median and MAD of
// the remaining elements at every step. It is the oracle for the fast esd.
func naiveESD(r []float64, ts []int64, k int, dir Direction) (cand []int32, score []float64, err error) {
	type el struct {
		row int32
		r   float64
		t   int64
	}
	w := make([]el, len(r))
	for i := range r {
		w[i] = el{int32(i), r[i], int64(i)}
		if ts != nil {
			w[i].t = ts[i]
		}
	}
	vals := func() []float64 {
		v := make([]float64, len(w))
		for i, e := range w {
			v[i] = e.r
		}
		return v
	}
	for s := 1; s <= k; s++ {
		if len(w) == 0 {
			return cand, score, ErrExhausted
		}
		med := Median(vals())
		sigma := MAD(vals())
		if sigma == 0 {
			break
		}
		best, rs := -1, math.Inf(-1)
		for i, e := range w {
			var dev float64
			switch dir {
			case Pos:
				dev = e.r - med
			case Neg:
				dev = med - e.r
			default:
				dev = math.Abs(e.r - med)
			}
			if z := dev / sigma; z > rs {
				best, rs = i, z
			}
		}
		cand = append(cand, w[best].row)
		score = append(score, rs)
		t := w[best].t
		w = slices.DeleteFunc(w, func(e el) bool { return e.t == t })
	}
	return cand, score, nil
}

// TestESD_MatchesNaive compares the fast ESD loop with the literal one on
// random series full of ties, on all directions, with and without shared
// timestamps.
func TestESD_MatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var e esd
	for iter := 0; iter < 3000; iter++ {
		n := 1 + rng.IntN(60)
		r := make([]float64, n)
		kind := rng.IntN(4)
		for i := range r {
			switch kind {
			case 0: // heavy ties
				r[i] = float64(rng.IntN(4))
			case 1: // ties plus outliers
				r[i] = float64(rng.IntN(3))
				if rng.IntN(8) == 0 {
					r[i] = rng.NormFloat64() * 50
				}
			case 2: // values whose deviations round to equal quotients
				r[i] = 1 + float64(rng.IntN(3))*1e-16
			default:
				r[i] = rng.NormFloat64()
			}
		}
		var ts []int64
		if rng.IntN(3) == 0 {
			ts = make([]int64, n)
			for i := range ts {
				ts[i] = int64(rng.IntN(n/2 + 1))
			}
		}
		k := 1 + rng.IntN(n)
		dir := Direction(rng.IntN(3))
		wantC, wantS, wantErr := naiveESD(r, ts, k, dir)
		_, gotErr := e.run(r, ts, k, 0.05, dir)
		if (gotErr == nil) != (wantErr == nil) && wantErr != nil {
			t.Fatalf("iter %d: err %v, naive %v", iter, gotErr, wantErr)
		}
		if wantErr != nil {
			continue
		}
		if !slices.Equal(e.cand, wantC) || !slices.Equal(e.score, wantS) {
			t.Fatalf("iter %d (n=%d k=%d dir=%v ts=%v r=%v):\n got  %v %v\n want %v %v",
				iter, n, k, dir, ts, r, e.cand, e.score, wantC, wantS)
		}
	}
}
