package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// minutely returns n minutely rows of a daily cycle with noise and 0.5 %
// spikes, fixed seed.
func minutely(n int) (times []int64, values []float64) {
	rng := rand.New(rand.NewPCG(42, uint64(n)))
	times = make([]int64, n)
	values = make([]float64, n)
	for i := range values {
		times[i] = epoch + int64(i)*int64(time.Minute)
		values[i] = 200 + 80*math.Sin(2*math.Pi*float64(i)/1440) + rng.NormFloat64()*5
		if rng.IntN(200) == 0 {
			values[i] += 60 * (1 + rng.Float64())
		}
	}
	return times, values
}

// BenchmarkTs is the whole S-H-ESD run the daemon does per group and batch:
// minutely data, period 1440, max_anoms 0.10 (R's default), both
// directions. The targets: 10,080 points ≤ 5 ms, 100,000 ≤ 80 ms.
func BenchmarkTs(b *testing.B) {
	for _, n := range []int{10080, 40320, 100000} {
		tm, v := minutely(n)
		p := DefaultParams()
		p.Direction = Both
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var d Detector
			dst := make([]Anomaly, 0, n/10)
			// The first call sizes the Detector's buffers and STL's plans
			// for this length; a daemon pays that once per group.
			if _, err := d.Ts(dst[:0], tm, v, p); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Ts(dst[:0], tm, v, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
