package detect

import (
	"cmp"
	"math"
	"slices"
)

// Sorting for the ESD test: a stable sort on order-preserving 64-bit keys,
// so that rows come out in (value, row) order, which the ESD tie rule
// relies on. sortPerm gives the sorting permutation (the ESD's rows in
// value order); sortPairs sorts (key, payload) pairs with it.
//
// The sort is an LSD radix sort on the keys' upper halves only, each packed
// with the pair's input position into one word, with 8-bit digits: four
// passes at most, each moving 8 bytes per pair, and a digit's 256 buckets
// fit in L1 (with 11-bit digits on whole pairs, the scattered stores of six
// passes missed the cache and made the sort the largest serial cost of a
// detection). Pairs whose upper halves agree are then put in full-key
// order run by run; for real-valued data such runs are short.

const (
	radixBits    = 8
	radixBuckets = 1 << radixBits
	radixPasses  = 32 / radixBits // over the upper half of the key
	// runSortMin is the run length from which runs of equal upper halves
	// are sorted by slices.SortStableFunc rather than by insertion.
	runSortMin = 24
)

// floatKey maps a float64 to a uint64 whose unsigned order is the numeric
// order of the floats (−0 and +0 map to the same key). NaN must not occur.
// It has no branch: residuals' signs are random.
func floatKey(f float64) uint64 {
	b := math.Float64bits(f + 0) // −0 + 0 = +0
	m := uint64(int64(b)>>63) | 1<<63
	return b ^ m
}

// radixSorter holds the histograms and buffers of the sort.
type radixSorter struct {
	count [2][radixPasses][radixBuckets]int32
	a, t  []uint64 // packed upper half and position, ping-pong
	tmpK  []uint64 // sortPairs' gathered keys; a run's keys
	tmpI  []int32  // sortPairs' gathered payloads
	perm  []int32  // sortPairs' permutation
	run   []runPair
}

// runPair is a pair of a long run, sorted stably by key.
type runPair struct {
	k uint64
	i int32
}

// sortPerm sets perm[p] to the position in keys of the p-th smallest key,
// equal keys in position order (a stable sort's permutation); keys are
// left as they are. len(perm) must be len(keys), below 2³².
func (r *radixSorter) sortPerm(keys []uint64, perm []int32) {
	n := len(keys)
	perm = perm[:n]
	if n < 2 {
		if n == 1 {
			perm[0] = 0
		}
		return
	}
	r.a = resize(r.a, n)
	r.t = resize(r.t, n)
	a := r.a[:n]
	// Residuals' digits are far from uniform (the upper digits hold the
	// exponent): a counter or an offset bumped for consecutive pairs is a
	// chain through memory. Counting alternates between two tables and the
	// scatter runs from both ends, so that two chains overlap.
	r.count = [2][radixPasses][radixBuckets]int32{}
	c0, c1 := &r.count[0], &r.count[1]
	i := 0
	for ; i+1 < n; i += 2 {
		h, g := keys[i]>>32, keys[i+1]>>32
		a[i], a[i+1] = h<<32|uint64(i), g<<32|uint64(i+1)
		c0[0][h&0xff]++
		c1[0][g&0xff]++
		c0[1][h>>8&0xff]++
		c1[1][g>>8&0xff]++
		c0[2][h>>16&0xff]++
		c1[2][g>>16&0xff]++
		c0[3][h>>24]++
		c1[3][g>>24]++
	}
	if i < n {
		h := keys[i] >> 32
		a[i] = h<<32 | uint64(i)
		c0[0][h&0xff]++
		c0[1][h>>8&0xff]++
		c0[2][h>>16&0xff]++
		c0[3][h>>24]++
	}
	src, dst := a, r.t[:n]
	for p := range radixPasses {
		shift := 32 + p*radixBits
		lo, hi := &c0[p], &c1[p] // become each bucket's first and end offsets
		if d := src[0] >> shift & 0xff; lo[d]+hi[d] == int32(n) {
			continue // every key has this digit
		}
		var sum int32
		for d := range lo {
			v := lo[d] + hi[d]
			lo[d] = sum
			sum += v
			hi[d] = sum
		}
		// The front half fills each bucket forward from its start, the
		// back half backward from its end, so the order stays stable.
		f, b := 0, n-1
		for ; f < b; f, b = f+1, b-1 {
			v, w := src[f], src[b]
			d, e := v>>shift&0xff, w>>shift&0xff
			o := lo[d]
			dst[o] = v
			lo[d] = o + 1
			q := hi[e] - 1
			dst[q] = w
			hi[e] = q
		}
		if f == b {
			v := src[f]
			dst[lo[v>>shift&0xff]] = v
		}
		src, dst = dst, src
	}
	// src is in (upper half, position) order: the positions, each run of
	// equal upper halves put in full-key order as it ends (positions break
	// ties, which keeps the sort stable).
	s := 0 // the current run's first position
	for p, v := range src {
		perm[p] = int32(uint32(v))
		if v>>32 != src[s]>>32 {
			if p-s > 1 {
				r.orderRun(keys, perm[s:p])
			}
			s = p
		}
	}
	if n-s > 1 {
		r.orderRun(keys, perm[s:])
	}
}

// orderRun sorts perm, positions in increasing order, by their keys,
// stably.
func (r *radixSorter) orderRun(keys []uint64, perm []int32) {
	tk := resize(r.tmpK, len(perm))
	r.tmpK = tk
	for q, i := range perm {
		tk[q] = keys[i]
	}
	r.sortRun(tk, perm)
}

// sortPairs sorts keys ascending and applies the same permutation to idx,
// stably. len(keys) must be below 2³².
func (r *radixSorter) sortPairs(keys []uint64, idx []int32) {
	n := len(keys)
	r.perm = resize(r.perm, n)
	perm := r.perm[:n]
	r.sortPerm(keys, perm)
	r.tmpK = resize(r.tmpK, n)
	r.tmpI = resize(r.tmpI, n)
	tk, ti := r.tmpK[:n], r.tmpI[:n]
	for p, i := range perm {
		tk[p], ti[p] = keys[i], idx[i]
	}
	copy(keys, tk)
	copy(idx, ti)
}

// sortRun sorts a run of pairs, now in position order, by key, stably.
func (r *radixSorter) sortRun(k []uint64, idx []int32) {
	if len(k) < runSortMin {
		for p := 1; p < len(k); p++ {
			kv, iv := k[p], idx[p]
			q := p
			for q > 0 && k[q-1] > kv {
				k[q], idx[q] = k[q-1], idx[q-1]
				q--
			}
			k[q], idx[q] = kv, iv
		}
		return
	}
	run := resize(r.run, len(k))
	r.run = run
	for p := range run {
		run[p] = runPair{k: k[p], i: idx[p]}
	}
	slices.SortStableFunc(run, func(x, y runPair) int { return cmp.Compare(x.k, y.k) })
	for p, v := range run {
		k[p], idx[p] = v.k, v.i
	}
}

// resize returns s resliced to n elements, reallocating only when its capacity
// is too small. The contents are unspecified.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/8)
	}
	return s[:n]
}
