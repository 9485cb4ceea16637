package detect

import "math"

// psort is the partial sort PSORT of the Fortran STL (shesd.md §9.8): a
// quicksort that only descends into segments still holding one of the
// target positions ind (0-based here). It expects ind in increasing order;
// STL passes its two targets in decreasing order, and psort must then do
// exactly what the Fortran code does, which is not always to leave the
// order statistics at those positions (§9.7). a must not contain NaN.
func psort(a []float64, ind []int) {
	n := len(a)
	ni := len(ind)
	if n < 2 || ni == 0 {
		return
	}
	// The stack depth is bounded by 16 in the Fortran code; the smaller
	// part is pushed, so 64 entries are ample for any int length.
	var il, iu, indl, indu [64]int
	jl, ju := 0, ni-1
	indl[0], indu[0] = 0, ni-1
	i, j, m := 0, n-1, 0 // m: index of the next free stack entry
	// The Fortran control flow, with m counting from 1 there, is a state
	// machine; states: top (i < j?), pop, check (j − i > 10?), split, small.
	const (
		top = iota
		pop
		check
		split
		small
	)
	state := top
	for {
		switch state {
		case top:
			if i < j {
				state = split
			} else {
				state = pop
			}
		case pop:
			if m == 0 {
				return
			}
			m--
			i, j, jl, ju = il[m], iu[m], indl[m], indu[m]
			if jl <= ju {
				state = check
			}
		case check:
			if j-i > 10 {
				state = split
			} else {
				state = small
			}
		case split:
			k := i
			mid := (i + j) / 2
			t := a[mid]
			if a[i] > t {
				a[i], a[mid] = a[mid], a[i]
				t = a[mid]
			}
			l := j
			if a[j] < t {
				a[j], a[mid] = a[mid], a[j]
				t = a[mid]
				if a[i] > t {
					a[i], a[mid] = a[mid], a[i]
					t = a[mid]
				}
			}
			k, l = partition(a, k, l, t)
			indl[m], indu[m] = jl, ju
			p := m
			m++
			if l-i <= j-k {
				il[p], iu[p] = k, j
				j = l
				for jl <= ju && ind[ju] > j {
					ju--
				}
				if jl > ju {
					state = pop
				} else {
					indl[p] = ju + 1
					state = check
				}
			} else {
				il[p], iu[p] = i, l
				i = k
				for jl <= ju && ind[jl] < i {
					jl++
				}
				if jl > ju {
					state = pop
				} else {
					indu[p] = jl - 1
					state = check
				}
			}
		case small:
			if i == 0 {
				state = top
				break
			}
			insertionSort(a, i, j)
			state = pop
		}
	}
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

// robustnessWeights computes ρ from the current fit (§9.7): e = |y − (T +
// S)|, cm = 3·(e'[h1] + e'[h2]) with e' the copy of e after psort with
// targets (h1, h2) = (n div 2 + 1, n − h1 + 1) (1-based, in that order),
// ρ = 1 for e ≤ 0.001·cm, (1 − (e/cm)²)² for e ≤ 0.999·cm, else 0. It
// reports false if e contains NaN (only possible if the data overflowed).
func (s *STL) robustnessWeights(rho, y, S, T []float64) bool {
	n := len(y)
	e := s.e[:n]
	S, T, rho = S[:n], T[:n], rho[:n]
	for i, v := range y {
		r := math.Abs(v - (T[i] + S[i]))
		if r != r {
			return false
		}
		e[i] = r
	}
	h1 := n/2 + 1
	h2 := n - h1 + 1
	ind := [2]int{h1 - 1, h2 - 1}
	psort(e, ind[:])
	cm := 3 * (e[h1-1] + e[h2-1])
	c9 := 0.999 * cm
	c1 := 0.001 * cm
	for i, v := range y {
		r := math.Abs(v - (T[i] + S[i]))
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
	}
	return true
}
