package detect

import "math"

// Sorting for the ESD test: an LSD radix sort on
// order-preserving 64-bit keys. It is stable, so sorting (key, row) pairs
// that start in row order yields (value, row) order, which the ESD tie rule
// relies on. Cost: O(n) per pass, at most 6 passes of 11 bits, and passes
// whose digit is the same for every key are skipped.

const (
	radixBits    = 11
	radixBuckets = 1 << radixBits
	radixPasses  = (64 + radixBits - 1) / radixBits
)

// floatKey maps a float64 to a uint64 whose unsigned order is the numeric
// order of the floats (−0 and +0 map to the same key). NaN must not occur.
func floatKey(f float64) uint64 {
	if f == 0 {
		return 1 << 63
	}
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// radixSorter holds the histograms and ping-pong buffers of the sort.
type radixSorter struct {
	count [radixPasses][radixBuckets]int32
	tmpK  []uint64
	tmpI  []int32
}

// histogram fills r.count for keys and reports which passes are needed.
func (r *radixSorter) histogram(keys []uint64) (need [radixPasses]bool) {
	r.count = [radixPasses][radixBuckets]int32{}
	for _, k := range keys {
		for p := 0; p < radixPasses; p++ {
			r.count[p][(k>>(p*radixBits))&(radixBuckets-1)]++
		}
	}
	n := int32(len(keys))
	for p := 0; p < radixPasses; p++ {
		d := (keys[0] >> (p * radixBits)) & (radixBuckets - 1)
		need[p] = r.count[p][d] != n
	}
	return need
}

// sortPairs sorts keys ascending and applies the same permutation to idx,
// stably.
func (r *radixSorter) sortPairs(keys []uint64, idx []int32) {
	n := len(keys)
	if n < 2 {
		return
	}
	need := r.histogram(keys)
	r.tmpK = resize(r.tmpK, n)
	r.tmpI = resize(r.tmpI, n)
	srcK, dstK := keys, r.tmpK
	srcI, dstI := idx, r.tmpI
	for p := 0; p < radixPasses; p++ {
		if !need[p] {
			continue
		}
		r.prefix(p)
		off := &r.count[p]
		shift := p * radixBits
		for i, k := range srcK {
			d := (k >> shift) & (radixBuckets - 1)
			o := off[d]
			dstK[o] = k
			dstI[o] = srcI[i]
			off[d] = o + 1
		}
		srcK, dstK = dstK, srcK
		srcI, dstI = dstI, srcI
	}
	if &srcK[0] != &keys[0] {
		copy(keys, srcK)
		copy(idx, srcI)
	}
}

// prefix turns the counts of pass p into starting offsets.
func (r *radixSorter) prefix(p int) {
	var sum int32
	c := &r.count[p]
	for d := range c {
		v := c[d]
		c[d] = sum
		sum += v
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
