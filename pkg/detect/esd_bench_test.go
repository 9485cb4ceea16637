package detect

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkESD is the ESD loop alone on normal residuals with 1% spikes,
// K = 10 % of n (R's default max_anoms), both directions.
func BenchmarkESD(b *testing.B) {
	for _, n := range []int{10080, 100000} {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		r := make([]float64, n)
		for i := range r {
			r[i] = rng.NormFloat64()
			if rng.IntN(100) == 0 {
				r[i] += 20
			}
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var e esd
			k := n / 10
			if _, err := e.run(r, nil, k, 0.05, Both); err != nil { // size the buffers
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.run(r, nil, k, 0.05, Both); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
