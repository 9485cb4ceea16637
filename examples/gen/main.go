// Command gen writes the example series of examples/: a week of synthetic
// per-minute web request counts with a daily cycle, noise and a handful of
// injected incidents. It is deterministic:
//
//	go run ./examples/gen > examples/requests-minutely.csv
package main

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"
)

func main() {
	rng := rand.New(rand.NewPCG(2024, 11))
	start := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	const n = 7 * 1440
	// Incidents: minute → added requests.
	incidents := map[int]float64{
		1*1440 + 13*60 + 7:  420, // a burst at lunchtime
		2*1440 + 3*60 + 30:  -180,
		3*1440 + 20*60 + 15: 350,
		4*1440 + 9*60 + 41:  510,
		5*1440 + 2*60 + 5:   260, // a burst at night, when traffic is low
		6*1440 + 17*60 + 58: -240,
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintln(w, "timestamp,value")
	for i := 0; i < n; i++ {
		t := start.Add(time.Duration(i) * time.Minute)
		hour := float64(i%1440) / 60
		daily := 300 + 180*math.Sin(2*math.Pi*(hour-9)/24) + 60*math.Sin(4*math.Pi*(hour-9)/24)
		v := daily + rng.NormFloat64()*12
		v += incidents[i]
		fmt.Fprintf(w, "%s,%.1f\n", t.Format(time.DateTime), math.Max(0, v))
	}
}
