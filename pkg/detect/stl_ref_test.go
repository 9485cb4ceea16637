package detect

import (
	"math"
	"math/big"
)

// This file holds a literal, unoptimised transcription of shesd.md §9.1–§9.9
// (1-based indices, one step per line of the spec). It is the oracle the
// fast STL in stl.go is checked against bit for bit on many series for
// which no R output is stored. Keep it simple rather than fast.

// refSTL returns R's stl(y, s.window = "periodic", robust = TRUE) seasonal
// and trend components (0-based slices of len(y)).
func refSTL(y0 []float64, np int) (seasonal, trend []float64) {
	n := len(y0)
	y := make([]float64, n+1)
	copy(y[1:], y0)

	ns := 10*n + 1
	nt := refNextOdd(math.Ceil(1.5 * float64(np) / (1 - 1.5/float64(ns))))
	nl := refNextOdd(float64(np))
	nsjump := (ns + 9) / 10
	ntjump := (nt + 9) / 10
	nljump := (nl + 9) / 10
	const isdeg, itdeg, ildeg = 0, 1, 1

	T := make([]float64, n+1)
	S := make([]float64, n+1)
	rho := make([]float64, n+1)
	for pass := 0; pass < 16; pass++ {
		var rw []float64
		if pass > 0 {
			// §9.7 weights from the current fit.
			e := make([]float64, n+1)
			for i := 1; i <= n; i++ {
				e[i] = math.Abs(y[i] - (T[i] + S[i]))
			}
			h1 := n/2 + 1
			h2 := n - h1 + 1
			ec := append([]float64(nil), e...)
			refPSort(ec, []int{0, h1, h2})
			cm := 3 * (ec[h1] + ec[h2])
			c9 := 0.999 * cm
			c1 := 0.001 * cm
			for i := 1; i <= n; i++ {
				r := e[i]
				switch {
				case r <= c1:
					rho[i] = 1
				case r <= c9:
					u := r / cm
					v := 1 - u*u
					rho[i] = v * v
				default:
					rho[i] = 0
				}
			}
			rw = rho
		}
		// §9.6 one pass.
		D := make([]float64, n+1)
		for i := 1; i <= n; i++ {
			D[i] = y[i] - T[i]
		}
		C := refCycleSubseries(D, n, np, ns, isdeg, nsjump, rw)
		A := refMA(C, n+2*np, np)
		B := refMA(A, n+np+1, np)
		L0 := refMA(B, n+2, 3)
		L := refSmooth(L0, n, nl, ildeg, nljump, nil)
		for i := 1; i <= n; i++ {
			S[i] = C[np+i] - L[i]
		}
		ymS := make([]float64, n+1)
		for i := 1; i <= n; i++ {
			ymS[i] = y[i] - S[i]
		}
		T = refSmooth(ymS, n, nt, itdeg, ntjump, rw)
	}
	// §9.9 periodic seasonal: correctly rounded mean per phase (big-float
	// sum, exact, then one rounding).
	seasonal = make([]float64, n)
	for c := 0; c < np; c++ {
		var cnt int
		sum := newRefExactSum()
		for i := c; i < n; i += np {
			sum.add(S[i+1])
			cnt++
		}
		m := sum.mean(cnt)
		for i := c; i < n; i += np {
			seasonal[i] = m
		}
	}
	return seasonal, append([]float64(nil), T[1:]...)
}

func refNextOdd(v float64) int {
	r := int(math.RoundToEven(v))
	if r%2 == 0 {
		r++
	}
	return r
}

// refEST is §9.2; y, w and rw are 1-based.
func refEST(y []float64, length, q, d int, x0 float64, a, b int, w, rw []float64) (float64, bool) {
	rng := float64(length) - 1
	h := math.Max(x0-float64(a), float64(b)-x0)
	if q > length {
		h += float64((q - length) / 2)
	}
	h9 := 0.999 * h
	h1 := 0.001 * h
	A := 0.0
	for j := a; j <= b; j++ {
		w[j] = 0
		r := math.Abs(float64(j) - x0)
		if r <= h9 {
			if r <= h1 {
				w[j] = 1
			} else {
				t := r / h
				t = t * t * t
				u := 1 - t
				w[j] = u * u * u
			}
			if rw != nil {
				w[j] = rw[j] * w[j]
			}
			A += w[j]
		}
	}
	if A <= 0 {
		return 0, false
	}
	for j := a; j <= b; j++ {
		w[j] = w[j] / A
	}
	if h > 0 && d > 0 {
		cb := 0.0
		for j := a; j <= b; j++ {
			cb += float64(w[j] * float64(j))
		}
		beta := x0 - cb
		c := 0.0
		for j := a; j <= b; j++ {
			dj := float64(j) - cb
			c += float64(w[j] * float64(dj*dj))
		}
		if math.Sqrt(c) > 0.001*rng {
			beta = beta / c
			for j := a; j <= b; j++ {
				w[j] = w[j] * (float64(beta*(float64(j)-cb)) + 1)
			}
		}
	}
	ys := 0.0
	for j := a; j <= b; j++ {
		ys += float64(w[j] * y[j])
	}
	return ys, true
}

// refSmooth is §9.3; y is 1-based with m values; returns 1-based ys.
func refSmooth(y []float64, m, q, d, jump int, rw []float64) []float64 {
	ys := make([]float64, m+1)
	w := make([]float64, m+1)
	if m < 2 {
		ys[1] = y[1]
		return ys
	}
	g := min(jump, m-1)
	a, b := 0, 0
	fit := func(i int) {
		v, ok := refEST(y, m, q, d, float64(i), a, b, w, rw)
		if !ok {
			v = y[i]
		}
		ys[i] = v
	}
	switch {
	case q >= m:
		a, b = 1, m
		for i := 1; i <= m; i += g {
			fit(i)
		}
	case g == 1:
		half := (q + 1) / 2
		a, b = 1, q
		for i := 1; i <= m; i++ {
			if i > half && b != m {
				a++
				b++
			}
			fit(i)
		}
	default:
		half := (q + 1) / 2
		for i := 1; i <= m; i += g {
			switch {
			case i < half:
				a, b = 1, q
			case i >= m-half+1:
				a, b = m-q+1, m
			default:
				a, b = i-half+1, i-half+q
			}
			fit(i)
		}
	}
	if g != 1 {
		for i := 1; i <= m-g; i += g {
			delta := (ys[i+g] - ys[i]) / float64(g)
			for j := i + 1; j <= i+g-1; j++ {
				ys[j] = ys[i] + float64(delta*float64(j-i))
			}
		}
		last := ((m-1)/g)*g + 1
		if last != m {
			fit(m)
			if last != m-1 {
				delta := (ys[m] - ys[last]) / float64(m-last)
				for j := last + 1; j <= m-1; j++ {
					ys[j] = ys[last] + float64(delta*float64(j-last))
				}
			}
		}
	}
	return ys
}

// refCycleSubseries is §9.4; D is 1-based (n values); returns 1-based C
// with n+2·np values.
func refCycleSubseries(D []float64, n, np, ns, isdeg, nsjump int, rw []float64) []float64 {
	C := make([]float64, n+2*np+1)
	for j := 1; j <= np; j++ {
		k := (n-j)/np + 1
		u := make([]float64, k+1)
		var ur []float64
		if rw != nil {
			ur = make([]float64, k+1)
		}
		for i := 1; i <= k; i++ {
			u[i] = D[(i-1)*np+j]
			if rw != nil {
				ur[i] = rw[(i-1)*np+j]
			}
		}
		v := make([]float64, k+2)
		vs := refSmooth(u, k, ns, isdeg, nsjump, ur)
		copy(v[1:k+1], vs[1:k+1])
		w := make([]float64, k+1)
		v0, ok := refEST(u, k, ns, isdeg, 0, 1, min(ns, k), w, ur)
		if !ok {
			v0 = v[1]
		}
		v[0] = v0
		vk, ok := refEST(u, k, ns, isdeg, float64(k+1), max(1, k-ns+1), k, w, ur)
		if !ok {
			vk = v[k]
		}
		v[k+1] = vk
		for i := 0; i <= k+1; i++ {
			C[i*np+j] = v[i]
		}
	}
	return C
}

// refMA is the moving average of §9.5 on 1-based z with L values.
func refMA(z []float64, L, length int) []float64 {
	out := make([]float64, L-length+2)
	s := 0.0
	for i := 1; i <= length; i++ {
		s += z[i]
	}
	fl := float64(length)
	out[1] = s / fl
	for j := 2; j <= L-length+1; j++ {
		s = s - z[j-1] + z[j+length-1]
		out[j] = s / fl
	}
	return out
}

// refPSort is §9.8 on 1-based a (a[0] unused) and 1-based ind.
func refPSort(a []float64, ind []int) {
	n := len(a) - 1
	ni := len(ind) - 1
	if n < 2 || ni == 0 {
		return
	}
	var il, iu, indl, indu [17]int
	jl, ju := 1, ni
	indl[1], indu[1] = 1, ni
	i, j, m := 1, n, 1
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
			m--
			if m == 0 {
				return
			}
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
						break
					}
					a[l] = a[k]
					a[k] = tt
				}
			}
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
			if i == 1 {
				state = top
				break
			}
			for q := i; q <= j-1; q++ {
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
			state = pop
		}
	}
}

// refExactSum sums float64 values exactly (big.Float with ample precision).
type refExactSum struct{ s *big.Float }

func newRefExactSum() *refExactSum {
	return &refExactSum{s: new(big.Float).SetPrec(4096)}
}

func (r *refExactSum) add(v float64) {
	r.s.Add(r.s, new(big.Float).SetFloat64(v))
}

// mean returns the exact sum divided by cnt, correctly rounded to float64.
func (r *refExactSum) mean(cnt int) float64 {
	q := new(big.Float).SetPrec(53).SetMode(big.ToNearestEven)
	q.Quo(r.s, new(big.Float).SetInt64(int64(cnt)))
	f, _ := q.Float64()
	return f
}
