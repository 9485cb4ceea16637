package detect

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMedianSelect_MatchesSortedMedian(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for it := 0; it < 2000; it++ {
		n := 1 + rng.IntN(300)
		x := make([]float64, n)
		kind := rng.IntN(4)
		for i := range x {
			switch kind {
			case 0:
				x[i] = float64(rng.IntN(3))
			case 1:
				x[i] = float64(i) // sorted
			case 2:
				x[i] = float64(n - i) // reversed
			default:
				x[i] = rng.NormFloat64()
			}
		}
		s := slices.Clone(x)
		slices.Sort(s)
		want := medianSorted(s)
		if got := medianSelect(slices.Clone(x)); got != want {
			t.Fatalf("n=%d kind=%d: %v, want %v", n, kind, got, want)
		}
	}
}
