package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// synthSeasonal returns a fixed-seed series of n values with period np: a
// daily sine, a slow trend, Gaussian noise and a few large spikes.
func synthSeasonal(n, np int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	y := make([]float64, n)
	for i := range y {
		phase := 2 * math.Pi * float64(i%np) / float64(np)
		y[i] = 100 + 0.001*float64(i) + 30*math.Sin(phase) + 5*rng.NormFloat64()
	}
	for s := 0; s < n/500+3; s++ {
		y[rng.IntN(n)] += 200 * (rng.Float64() + 0.5)
	}
	return y
}

func BenchmarkSTL(b *testing.B) {
	for _, c := range []struct{ n, np int }{
		{1000, 24},
		{10080, 1440},
		{40320, 1440},
		{100000, 1440},
	} {
		b.Run(fmt.Sprintf("n=%d/np=%d", c.n, c.np), func(b *testing.B) {
			y := synthSeasonal(c.n, c.np, 1)
			seasonal := make([]float64, c.n)
			trend := make([]float64, c.n)
			var s STL
			if err := s.Decompose(seasonal, trend, y, c.np); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := s.Decompose(seasonal, trend, y, c.np); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSTL_Cold measures a call that must first build the plans (a new
// series length), as when a daemon's history grows by one batch.
func BenchmarkSTL_Cold(b *testing.B) {
	for _, c := range []struct{ n, np int }{
		{10080, 1440},
		{100000, 1440},
	} {
		b.Run(fmt.Sprintf("n=%d/np=%d", c.n, c.np), func(b *testing.B) {
			y := synthSeasonal(c.n+1, c.np, 1)
			seasonal := make([]float64, c.n+1)
			trend := make([]float64, c.n+1)
			var s STL
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m := c.n + i&1 // alternate lengths so that every call rebuilds
				i++
				if err := s.Decompose(seasonal[:m], trend[:m], y[:m], c.np); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
