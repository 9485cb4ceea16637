package detect

import "math"

// psort is the partial sort PSORT of the Fortran STL (shesd.md §9.8): a
// quicksort that only descends into segments still holding one of the
// target positions ind (0-based here). It expects ind in increasing order;
// STL passes its two targets in decreasing order, and psort must then do
// exactly what the Fortran code does, which is not always to leave the
// order statistics at those positions (§9.7). a must not contain NaN.
func psort(a []float64, ind []int) {
	var buf psortBuf
	buf.psort(a, ind, nil)
}

// psortBuf holds psort's scratch space for long segments.
type psortBuf struct {
	big, small []int32
	noVec      bool // for tests: list with the scalar loop even where list4 could
}

// psortFirst is PSORT's first split of a (the whole array) prepared
// elsewhere: the median-of-three swaps are done and t is the pivot; big
// and small list the positions of a's values ≥ t in (0, n−1] and ≤ t in
// [0, n−1), in increasing order (see partitionLists).
type psortFirst struct {
	t          float64
	big, small []int32
}

// psortState is PSORT's state: the segment [i, j], the range [jl, ju] of
// the targets in it, and the stack of saved segments il, iu with their
// ranges indl, indu; m is the index of the next free entry (the Fortran m
// counts from 1).
type psortState struct {
	i, j, m, jl, ju    int
	il, iu, indl, indu [64]int // the smaller part is pushed: depth ≤ 64
}

// PSORT's steps (§9.8).
const (
	psTop   = iota // i < j? split : pop
	psPop          // take a saved segment that still holds targets
	psCheck        // j − i > 10? split : small
	psSplit        // partition, push one part, continue with the other
	psSmall        // insertion sort (unless the segment starts at 0)
)

// psort is psort with reusable scratch space; first, if not nil, is the
// prepared first split.
func (buf *psortBuf) psort(a []float64, ind []int, first *psortFirst) {
	n := len(a)
	ni := len(ind)
	if n < 2 || ni == 0 {
		return
	}
	var st psortState
	st.jl, st.ju = 0, ni-1
	st.indl[0], st.indu[0] = 0, ni-1
	st.i, st.j = 0, n-1
	step := psTop
	for {
		switch step {
		case psTop:
			if st.i < st.j {
				step = psSplit
			} else {
				step = psPop
			}
		case psPop:
			if st.m == 0 {
				return
			}
			st.m--
			st.i, st.j, st.jl, st.ju = st.il[st.m], st.iu[st.m], st.indl[st.m], st.indu[st.m]
			if st.jl <= st.ju {
				step = psCheck
			}
		case psCheck:
			if st.j-st.i > 10 {
				step = psSplit
			} else {
				step = psSmall
			}
		case psSplit:
			i, j := st.i, st.j
			var k, l int
			switch {
			case first != nil:
				// Median of three done, lists ready.
				k, l = pairLists(a, i, j, first.big, first.small)
				first = nil
			default:
				// Median of three, in place: mid = i for a segment of
				// two, so the positions may alias.
				mid := (i + j) / 2
				t := a[mid]
				if a[i] > t {
					a[i], a[mid] = a[mid], a[i]
					t = a[mid]
				}
				if a[j] < t {
					a[j], a[mid] = a[mid], a[j]
					t = a[mid]
					if a[i] > t {
						a[i], a[mid] = a[mid], a[i]
						t = a[mid]
					}
				}
				if j-i >= listPartitionMin && n <= math.MaxInt32 {
					k, l = buf.partitionLists(a, i, j, t)
				} else {
					k, l = partition(a, i, j, t)
				}
			}
			step = st.push(k, l, ind)
		case psSmall:
			if st.i == 0 {
				step = psTop
				break
			}
			insertionSort(a, st.i, st.j)
			step = psPop
		}
	}
}

// push ends PSORT's SPLIT step after partitioning [i, j] into [i, l] and
// [k, j]: it saves one part, continues with the other and narrows the
// range of targets, and returns the next step.
func (st *psortState) push(k, l int, ind []int) int {
	st.indl[st.m], st.indu[st.m] = st.jl, st.ju
	p := st.m
	st.m++
	if l-st.i <= st.j-k {
		st.il[p], st.iu[p] = k, st.j
		st.j = l
		for st.jl <= st.ju && ind[st.ju] > st.j {
			st.ju--
		}
		if st.jl > st.ju {
			return psPop
		}
		st.indl[p] = st.ju + 1
		return psCheck
	}
	st.il[p], st.iu[p] = st.i, l
	st.i = k
	for st.jl <= st.ju && ind[st.jl] < st.i {
		st.jl++
	}
	if st.jl > st.ju {
		return psPop
	}
	st.indu[p] = st.jl - 1
	return psCheck
}

// partition is PSORT's split loop on a[k..l] around t, where a[k] ≤ t ≤
// a[l]: scanning down from l for values ≤ t and up from k for values ≥ t,
// swapping pairs until the scans cross. It returns the final k and l.
func partition(a []float64, k, l int, t float64) (int, int) {
	for {
		l--
		if a[l] <= t {
			tt := a[l]
			for {
				k++
				if a[k] >= t {
					break
				}
			}
			if k > l {
				return k, l
			}
			a[l] = a[k]
			a[k] = tt
		}
	}
}

// listPartitionMin is the segment length from which partitionLists is
// faster than partition.
const listPartitionMin = 256

// partitionLists does what partition(a, i, j, t) does, with the same
// swaps and the same result, without its unpredictable branches: it first
// lists the positions of the values ≥ t ("big", scanning up from i+1) and
// ≤ t ("small", scanning down from j−1), then pairs them.
//
// Why the pairing is partition: while the scans have not met, positions
// strictly between k and l still hold their original values, so the next
// position where the downward scan stops is the next listed small above k,
// and the upward scan's the next listed big up to l. When there is no
// listed small above k, the downward scan stops at k itself (a[k] ≤ t
// always holds there) and the upward scan at k+1; when there is no listed
// big up to l, the upward scan stops at l+1. A big found at l itself
// (a[l] = t) is swapped with itself, after which the scans stop at l−1 and
// l+1.
func (buf *psortBuf) partitionLists(a []float64, i, j int, t float64) (int, int) {
	n := j - i + 1
	if cap(buf.big) < n {
		buf.big = make([]int32, n, n+n/4)
		buf.small = make([]int32, n, n+n/4)
	}
	big, small := buf.big[:n], buf.small[:n]
	nb, ns := 0, 0
	if a[i] <= t {
		small[0] = int32(i)
		ns = 1
	}
	nb, ns = buf.list(a, i+1, j, t, big, small, nb, ns)
	if a[j] >= t {
		big[nb] = int32(j)
		nb++
	}
	return pairLists(a, i, j, big[:nb], small[:ns])
}

// pairLists is the pairing step of partitionLists: big and small list the
// positions of a[i..j]'s values ≥ t in (i, j] and ≤ t in [i, j), in
// increasing order.
func pairLists(a []float64, i, j int, big, small []int32) (int, int) {
	k, l := i, j
	pb, ps := 0, len(small)-1
	for {
		if ps < 0 || int(small[ps]) <= k {
			return k + 1, k
		}
		l = int(small[ps])
		ps--
		if pb >= len(big) || int(big[pb]) > l {
			return l + 1, l
		}
		k = int(big[pb])
		pb++
		if k == l {
			return l + 1, l - 1
		}
		a[l], a[k] = a[k], a[l]
	}
}

// median3 is the start of PSORT's SPLIT step on the values at positions
// i, (i+j)/2 and j, which must be distinct positions (j − i ≥ 2): it
// returns them after the swaps, and the pivot.
func median3(ai, am, aj float64) (bi, bm, bj, t float64) {
	t = am
	if ai > t {
		ai, am = am, ai
		t = am
	}
	if aj < t {
		aj, am = am, aj
		t = am
		if ai > t {
			ai, am = am, ai
			t = am
		}
	}
	return ai, am, aj, t
}

// compactChunk lists, for PSORT's first split of a (n values) around t,
// the positions lo ≤ x < hi of values ≥ t (excluding 0) and ≤ t
// (excluding n−1) at big[lo:] and small[lo:], and returns their numbers.
// a must hold the values after the median-of-three swaps.
func (buf *psortBuf) compactChunk(a []float64, lo, hi int, t float64) (nb, ns int) {
	n := len(a)
	big, small := buf.big[:n][lo:hi], buf.small[:n][lo:hi]
	x0, x1 := lo, hi
	if x0 == 0 {
		small[0] = 0 // a[0] ≤ t after the swaps
		ns = 1
		x0 = 1
	}
	if x1 == n {
		x1 = n - 1
	}
	nb, ns = buf.list(a, x0, x1, t, big, small, nb, ns)
	if hi == n {
		big[nb] = int32(n - 1) // a[n−1] ≥ t after the swaps
		nb++
	}
	return nb, ns
}

// list appends, for x ≤ p < x1 in increasing order, p to big (at nb) if
// a[p] ≥ t and to small (at ns) if a[p] ≤ t, and returns the new nb, ns:
// four values at a time with the vector kernels (list4), the rest one by
// one.
func (buf *psortBuf) list(a []float64, x, x1 int, t float64, big, small []int32, nb, ns int) (int, int) {
	if vecLanes > 0 && !buf.noVec {
		x, nb, ns = list4(a, x, x1, t, big, small, nb, ns)
	}
	ax := a[:x1]
	for ; x < x1; x++ {
		v := ax[x]
		big[nb] = int32(x)
		small[ns] = int32(x)
		nb += b2i(v >= t)
		ns += b2i(v <= t)
	}
	return nb, ns
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// insertionSort sorts a[i..j] using a[i−1] as the left sentinel (no value
// of a[i..j] is smaller), as PSORT does for short segments.
func insertionSort(a []float64, i, j int) {
	for q := i; q < j; q++ {
		t := a[q+1]
		if a[q] > t {
			r := q
			for {
				a[r+1] = a[r]
				r--
				if t >= a[r] {
					break
				}
			}
			a[r+1] = t
		}
	}
}

// residualChunk sets e_i = |y_i − (T_i + S_i)| for lo ≤ i < hi, the
// residuals that PSORT and the robustness weights use (§9.7), and notes a
// NaN (possible only if the data overflowed).
func (s *STL) residualChunk(lo, hi int) {
	y, T, S, e := s.y[lo:hi], s.T[lo:hi], s.S[lo:hi], s.e[lo:hi]
	T, S, e = T[:len(y)], S[:len(y)], e[:len(y)]
	nan, k := false, 0
	if s.vec {
		k, nan = residual4(e, y, T, S)
	}
	for i := k; i < len(y); i++ {
		v := y[i]
		r := math.Abs(v - (T[i] + S[i]))
		e[i] = r
		if r != r {
			nan = true
		}
	}
	if nan {
		s.par.nan.Store(true)
	}
}

// weightsChunk sets the robustness weights of lo ≤ i < hi from cm = 3·(e'[h1]
// + e'[h2]) (§9.7): ρ = 1 for e ≤ 0.001·cm, (1 − (e/cm)²)² for e ≤
// 0.999·cm, else 0, with e = |y − (T + S)|; and D = y − T for the next pass.
func (s *STL) weightsChunk(lo, hi int) {
	cm := s.par.task.cm
	c9 := 0.999 * cm
	c1 := 0.001 * cm
	y, T, S, rho, d := s.y[lo:hi], s.T[lo:hi], s.S[lo:hi], s.rho[lo:hi], s.d[lo:hi]
	T, S, rho, d = T[:len(y)], S[:len(y)], rho[:len(y)], d[:len(y)]
	k := 0
	if s.vec {
		k = weights4(rho, d, y, T, S, cm, c1, c9)
	}
	for i := k; i < len(y); i++ {
		v := y[i]
		t := T[i]
		r := math.Abs(v - (t + S[i]))
		switch {
		case r <= c1:
			rho[i] = 1
		case r <= c9:
			u := r / cm
			u = 1 - u*u
			rho[i] = u * u
		default:
			rho[i] = 0
		}
		d[i] = v - t
	}
}
