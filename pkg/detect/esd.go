package detect

import (
	"math"
)

// esd runs Rosner's generalized ESD test the way R's AnomalyDetection does
// (spec §5.6), in O(n log n) instead of R's O(K·n):
//
//   - the residuals are sorted once by (value, row) with a radix sort;
//   - the remaining elements form a doubly linked list in sorted order, so
//     removing one is O(1);
//   - the median is a pointer into that list that moves at most a step or
//     two per removal;
//   - the MAD is the median of |r − med|. Along the sorted order these
//     deviations fall and then rise (float subtraction is monotone), so the
//     k smallest of them are a contiguous run of the list; the run is kept
//     and slid as the median moves, again a few steps per removal;
//   - the largest statistic is at one end of the list.
//
// Every value it computes (median, MAD, each |r − med| and each quotient)
// is the same float64 expression R evaluates, so the outcome is R's, bit
// for bit. The critical values λ are computed only where a test outcome is
// not already certain (see numAnoms).
//
// An esd is reused across calls; after the first call of a given size it
// does not allocate.
type esd struct {
	radix radixSorter

	keys []uint64  // sort keys, then scratch
	elem []int32   // sorted position → element (row within the window)
	val  []float64 // sorted position → residual
	prev []int32   // linked list of remaining positions; -1 ends it
	next []int32   // … len(val) ends it
	find []int32   // union-find: next remaining position at or after i
	gEnd []int32   // sorted position → last position of its run of equal values
	gBeg []int32   // … first position of that run
	pos  []int32   // element → sorted position
	same []int32   // element → next element with the same timestamp (cycle), or nil slice when all unique

	// Output of run: one entry per step performed.
	cand  []int32   // element removed first at each step (earliest row)
	score []float64 // the step's statistic R_s

	trace func(step int, med, sigma float64) // tests only
}

// esdResult is what one ESD run decided.
type esdResult struct {
	steps    int // steps performed (K, or fewer when MAD reached 0)
	numAnoms int // the first numAnoms candidates are anomalies
}

// run performs the ESD loop on the residuals r (one per element, in row
// order) with at most k steps. ts, when not nil, gives each element's
// timestamp; elements sharing a timestamp are removed together, as R does.
// n is the number of non-missing values used for the critical values
// (len(r) here: missing values were dropped before).
func (e *esd) run(r []float64, ts []int64, k int, alpha float64, dir Direction) (esdResult, error) {
	n := len(r)
	e.cand = e.cand[:0]
	e.score = e.score[:0]
	if n == 0 {
		if k > 0 {
			return esdResult{}, ErrExhausted
		}
		return esdResult{}, nil
	}
	// Scalar code from here on: clear the vector registers' upper halves,
	// which the vector kernels, or a preemption in GOEXPERIMENT=simd
	// builds, may have left dirty (stl_vec.go, vzeroupper).
	vzeroupper()
	e.prepare(r, ts)

	head, tail := int32(0), int32(n-1)
	alive := n
	// lo is the position of the element of rank ⌈alive/2⌉ (1-based); rank
	// is that rank, tracked as elements before it are removed.
	lo := int32((n+1)/2 - 1)
	rank := (n + 1) / 2
	// The MAD window: positions wl..wh (a run of the list), size ws.
	wl, wh, ws := lo, lo, 1

	res := esdResult{}
	for step := 1; step <= k; step++ {
		if alive == 0 {
			return res, ErrExhausted
		}
		// Median of the remaining residuals.
		var med float64
		if alive%2 == 1 {
			med = e.val[lo]
		} else {
			med = (e.val[lo] + e.val[e.next[lo]]) / 2
		}

		// The MAD: the ⌈alive/2⌉ smallest deviations form the window.
		want := (alive + 1) / 2
		wl, wh, ws = e.fitWindow(wl, wh, ws, want, med, head, tail)
		dmax := math.Max(math.Abs(e.val[wl]-med), math.Abs(e.val[wh]-med))
		var mad float64
		if alive%2 == 1 {
			mad = dmax
		} else {
			// The next smallest deviation lies just outside the window.
			nx := math.Inf(1)
			if p := e.prev[wl]; p >= 0 {
				nx = math.Abs(e.val[p] - med)
			}
			if q := e.next[wh]; int(q) < n {
				nx = math.Min(nx, math.Abs(e.val[q]-med))
			}
			mad = (dmax + nx) / 2
		}
		sigma := madConstant * mad
		if e.trace != nil {
			e.trace(step, med, sigma)
		}
		if sigma == 0 {
			break
		}

		// The largest statistic and, among the elements reaching it, the
		// earliest row.
		chosen, rs := e.extreme(head, tail, med, sigma, dir)
		e.cand = append(e.cand, e.elem[chosen])
		e.score = append(e.score, rs)
		res.steps = step

		// Remove the chosen element and every element sharing its
		// timestamp.
		el := e.elem[chosen]
		for {
			p := e.pos[el]
			e.remove(p, &head, &tail)
			alive--
			// Keep the median pointer on rank ⌈alive/2⌉.
			switch {
			case p < lo:
				rank--
			case p == lo:
				if q := e.next[p]; int(q) < n {
					lo = q
				} else {
					lo = e.prev[p]
					rank--
				}
			}
			// Keep the window a run of remaining positions.
			if p >= wl && p <= wh {
				ws--
				if p == wl {
					wl = e.next[p]
				}
				if p == wh {
					wh = e.prev[p]
				}
			}
			if e.same == nil {
				break
			}
			el = e.same[el]
			if el == e.elem[chosen] {
				break
			}
		}
		if alive > 0 {
			target := (alive + 1) / 2
			for rank < target {
				lo = e.next[lo]
				rank++
			}
			for rank > target {
				lo = e.prev[lo]
				rank--
			}
			if ws <= 0 {
				wl, wh, ws = lo, lo, 1
			}
		}
	}
	var err error
	res.numAnoms, err = numAnoms(e.score[:res.steps], n, alpha, dir)
	return res, err
}

// prepare sorts the residuals and builds the list and lookup tables.
func (e *esd) prepare(r []float64, ts []int64) {
	n := len(r)
	e.keys = resize(e.keys, n)
	e.elem = resize(e.elem, n)
	for i, v := range r {
		e.keys[i] = floatKey(v)
	}
	e.radix.sortPerm(e.keys, e.elem)

	e.val = resize(e.val, n)
	e.prev = resize(e.prev, n)
	e.next = resize(e.next, n)
	e.find = resize(e.find, n+1)
	e.gBeg = resize(e.gBeg, n)
	e.gEnd = resize(e.gEnd, n)
	e.pos = resize(e.pos, n)
	for p := 0; p < n; p++ {
		el := e.elem[p]
		e.val[p] = r[el]
		e.pos[el] = int32(p)
		e.prev[p] = int32(p - 1)
		e.next[p] = int32(p + 1)
		e.find[p] = int32(p)
		if p > 0 && e.val[p] == e.val[p-1] {
			e.gBeg[p] = e.gBeg[p-1]
		} else {
			e.gBeg[p] = int32(p)
		}
	}
	e.find[n] = int32(n)
	for p := n - 1; p >= 0; p-- {
		if p < n-1 && e.val[p] == e.val[p+1] {
			e.gEnd[p] = e.gEnd[p+1]
		} else {
			e.gEnd[p] = int32(p)
		}
	}
	e.prepareSame(ts)
}

// prepareSame links elements that share a timestamp into cycles; it leaves
// e.same nil in the usual case of strictly increasing timestamps.
func (e *esd) prepareSame(ts []int64) {
	e.same = e.same[:0]
	if ts == nil {
		e.same = nil
		return
	}
	increasing := true
	for i := 1; i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			increasing = false
			break
		}
	}
	if increasing {
		e.same = nil
		return
	}
	n := len(ts)
	// Sort elements by timestamp (stable), then link runs into cycles.
	keys := resize(e.keys, n)
	order := resize(e.cand[:0], n) // borrowed; cand is reset before use
	for i, t := range ts {
		keys[i] = uint64(t) ^ 1<<63
		order[i] = int32(i)
	}
	e.radix.sortPairs(keys, order)
	e.same = resize(e.same, n)
	for i := 0; i < n; {
		j := i
		for j+1 < n && keys[j+1] == keys[i] {
			j++
		}
		for t := i; t < j; t++ {
			e.same[order[t]] = order[t+1]
		}
		e.same[order[j]] = order[i]
		i = j + 1
	}
	e.keys = keys
	e.cand = order[:0]
}

// remove unlinks position p.
func (e *esd) remove(p int32, head, tail *int32) {
	pp, np := e.prev[p], e.next[p]
	if pp >= 0 {
		e.next[pp] = np
	} else {
		*head = np
	}
	if int(np) < len(e.val) {
		e.prev[np] = pp
	} else {
		*tail = pp
	}
	e.find[p] = p + 1
}

// firstAlive returns the first remaining position at or after p (len(val)
// if none), with path halving.
func (e *esd) firstAlive(p int32) int32 {
	f := e.find
	for f[p] != p {
		f[p] = f[f[p]]
		p = f[p]
	}
	return p
}

// fitWindow resizes the window to want elements and slides it until it
// holds the want smallest deviations from med.
func (e *esd) fitWindow(wl, wh int32, ws, want int, med float64, head, tail int32) (int32, int32, int) {
	n := int32(len(e.val))
	dev := func(p int32) float64 { return math.Abs(e.val[p] - med) }
	for ws > want {
		if dev(wl) >= dev(wh) {
			wl = e.next[wl]
		} else {
			wh = e.prev[wh]
		}
		ws--
	}
	for ws < want {
		l, r := e.prev[wl], e.next[wh]
		switch {
		case l < 0:
			wh = r
		case r >= n:
			wl = l
		case dev(l) <= dev(r):
			wl = l
		default:
			wh = r
		}
		ws++
	}
	for {
		if l := e.prev[wl]; l >= 0 && dev(l) < dev(wh) {
			wl, wh = l, e.prev[wh]
			continue
		}
		if r := e.next[wh]; r < n && dev(r) < dev(wl) {
			wl, wh = e.next[wl], r
			continue
		}
		return wl, wh, ws
	}
}

// extreme returns the position of the element R's loop picks — the earliest
// row among those whose statistic equals the maximum — and that maximum.
// Statistics are compared as quotients, as R compares them: two different
// deviations can round to the same quotient.
func (e *esd) extreme(head, tail int32, med, sigma float64, dir Direction) (int32, float64) {
	n := int32(len(e.val))
	zLow := func(p int32) float64 { // statistic of a low-end element
		if dir == Both {
			return math.Abs(e.val[p]-med) / sigma
		}
		return (med - e.val[p]) / sigma
	}
	zHigh := func(p int32) float64 {
		if dir == Both {
			return math.Abs(e.val[p]-med) / sigma
		}
		return (e.val[p] - med) / sigma
	}
	var rs float64
	switch dir {
	case Pos:
		rs = zHigh(tail)
	case Neg:
		rs = zLow(head)
	default:
		rs = math.Max(zLow(head), zHigh(tail))
	}
	best := int32(-1)
	consider := func(p int32) {
		if best < 0 || e.elem[p] < e.elem[best] {
			best = p
		}
	}
	if dir != Pos {
		// From the low end upwards, one run of equal values at a time;
		// the first remaining element of a run is its earliest row.
		for p := head; p < n && zLow(p) == rs; {
			consider(p)
			end := e.gEnd[p]
			if end+1 >= n {
				break
			}
			p = e.firstAlive(end + 1)
		}
	}
	if dir != Neg {
		// From the high end downwards.
		for p := tail; p >= 0 && zHigh(p) == rs; {
			first := e.firstAlive(e.gBeg[p])
			consider(first)
			p = e.prev[first]
		}
	}
	return best, rs
}

// numAnoms returns the largest step s ≤ len(score) whose statistic exceeds
// its critical value λ_s (0 if none). For most steps the outcome is certain
// without computing λ_s exactly:
//
//   - λ = t·(N−1)/√((N−2+t²)·N), with N = n−s+1, grows with t, and the
//     normal quantile z(p) is below the Student-t quantile for p > ½, so
//     λ(z(p_s), N_s) ≤ λ_s: a statistic below it cannot exceed λ_s;
//   - z(p_s) shrinks as s grows (p_s gets less extreme), and for t ≥ 1 the
//     λ of a fixed t grows with N (d/dN ln λ² = 2/(N−1) − 1/(N−2+t²) − 1/N
//     > 0), so the bound of the last step bounds every step: statistics
//     below it need no work at all.
//
// The bounds are lowered by a relative 1e-9, far above their rounding
// errors and far below the gap between z and t (≥ 2.5e-7 relative for
// ν ≤ 10⁶).
func numAnoms(score []float64, n int, alpha float64, dir Direction) (int, error) {
	const margin = 1 - 1e-9
	steps := len(score)
	if steps == 0 {
		return 0, nil
	}
	if n-steps-1 < 1 {
		// R's qt() has no answer for ν < 1 and its loop fails there.
		return 0, ErrExhausted
	}
	global := math.Inf(-1)
	if z := normalQuantile(criticalP(n, steps, alpha, dir)); z >= 1 {
		global = lambda(z, n, steps) * margin
	}
	for s := steps; s >= 1; s-- {
		if score[s-1] < global {
			continue
		}
		p := criticalP(n, s, alpha, dir)
		if lb := lambda(normalQuantile(p), n, s); score[s-1] < lb*margin {
			continue
		}
		if score[s-1] > criticalValue(n, s, alpha, dir) {
			return s, nil
		}
	}
	return 0, nil
}

// criticalP is the probability whose t quantile gives λ_s (spec §5.6).
func criticalP(n, s int, alpha float64, dir Direction) float64 {
	if dir == Both {
		return 1 - alpha/float64(2*(n-s+1))
	}
	return 1 - alpha/float64(n-s+1)
}

// criticalValue is R's λ_s for step s of n values.
func criticalValue(n, s int, alpha float64, dir Direction) float64 {
	p := criticalP(n, s, alpha, dir)
	return lambda(studentTQuantile(p, float64(n-s-1)), n, s)
}

// lambda is λ = t·(n−s) / √((n−s−1+t²)·(n−s+1)).
func lambda(t float64, n, s int) float64 {
	return t * float64(n-s) / math.Sqrt(float64(float64(n-s-1)+float64(t*t))*float64(n-s+1))
}
