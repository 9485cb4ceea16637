package detect

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPSort_Quirk(t *testing.T) {
	// Even n: STL passes the targets (h1, h2) = (7, 6) in decreasing
	// order. The first split lands between them, the part holding h1 is
	// dropped, and 64 stays at position 7, where the 7th smallest value is
	// 44. Traced by hand with the steps of shesd.md §9.8.
	a := []float64{28, 11, 28, 28, 30, 67, 64, 5, 95, 94, 78, 44}
	sorted := slices.Sorted(slices.Values(a))
	psort(a, []int{6, 5})
	if a[6] != 64 || a[5] != 30 {
		t.Errorf("psort left a[h1] = %v, a[h2] = %v; want 64, 30", a[6], a[5])
	}
	if sorted[6] != 44 || sorted[5] != 30 {
		t.Fatalf("order statistics %v %v", sorted[6], sorted[5])
	}
	// In ascending order the same targets get the true order statistics.
	b := []float64{28, 11, 28, 28, 30, 67, 64, 5, 95, 94, 78, 44}
	psort(b, []int{5, 6})
	if b[5] != 30 || b[6] != 44 {
		t.Errorf("ascending targets: a[5], a[6] = %v, %v; want 30, 44", b[5], b[6])
	}

	rng := rand.New(rand.NewPCG(3, 4))
	quirks := 0
	for trial := 0; trial < 3000; trial++ {
		n := 1 + rng.IntN(200)
		a := make([]float64, n)
		for i := range a {
			a[i] = float64(rng.IntN(1 + n/2)) // ties are common
		}
		h1 := n/2 + 1
		h2 := n - h1 + 1
		ref := append([]float64{0}, a...)
		refPSort(ref, []int{0, h1, h2})
		sorted := slices.Sorted(slices.Values(a))
		psort(a, []int{h1 - 1, h2 - 1})
		if !slices.Equal(a, ref[1:]) {
			t.Fatalf("n=%d: psort and the literal PSORT disagree", n)
		}
		if n%2 == 1 && a[h1-1] != sorted[h1-1] {
			// Odd n: a single target, so PSORT is an exact selection.
			t.Fatalf("n=%d: psort left %v at the median, want %v", n, a[h1-1], sorted[h1-1])
		}
		if a[h1-1] != sorted[h1-1] || a[h2-1] != sorted[h2-1] {
			quirks++
		}
	}
	t.Logf("quirk in %d of 3000 random vectors", quirks)
	if quirks == 0 {
		t.Error("no quirk seen")
	}
}

// TestPSort_PreparedFirstSplit checks that preparing PSORT's first split
// chunk by chunk (as the residual phase does) gives the same array as
// psort itself.
func TestPSort_PreparedFirstSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 300; trial++ {
		n := 2 + rng.IntN(5000)
		a := make([]float64, n)
		levels := 1 + rng.IntN(n)
		for i := range a {
			a[i] = float64(rng.IntN(levels))
		}
		h1 := n/2 + 1
		h2 := n - h1 + 1
		ind := []int{h1 - 1, h2 - 1}
		want := slices.Clone(a)
		psort(want, ind)

		var buf psortBuf
		buf.big = make([]int32, n)
		buf.small = make([]int32, n)
		x := [3]int{0, (n - 1) / 2, n - 1}
		var v [3]float64
		var piv float64
		v[0], v[1], v[2], piv = median3(a[x[0]], a[x[1]], a[x[2]])
		for q := range x {
			a[x[q]] = v[q]
		}
		const chunk = 97
		nb, ns := 0, 0
		for lo := 0; lo < n; lo += chunk {
			b, s := buf.compactChunk(a, lo, min(lo+chunk, n), piv)
			nb += copy(buf.big[nb:], buf.big[lo:lo+b])
			ns += copy(buf.small[ns:], buf.small[lo:lo+s])
		}
		first := psortFirst{t: piv, big: buf.big[:nb], small: buf.small[:ns]}
		buf.psort(a, ind, &first)
		if !slices.Equal(a, want) {
			t.Fatalf("n=%d levels=%d: prepared first split differs from psort", n, levels)
		}
	}
}

// TestPSort_ListVector checks that the vector listing (list4) gives the
// scalar loop's lists, so psort the same array, on long segments with
// and without ties, against the literal PSORT too.
func TestPSort_ListVector(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 200; trial++ {
		n := 2 + rng.IntN(6000)
		if trial%10 == 0 {
			n = listPartitionMin + rng.IntN(8) // near the threshold
		}
		a := make([]float64, n)
		levels := 1 + rng.IntN(n)
		for i := range a {
			a[i] = float64(rng.IntN(levels))
			if trial%3 == 0 {
				a[i] = rng.NormFloat64()
			}
		}
		h1 := n/2 + 1
		h2 := n - h1 + 1
		ind := []int{h1 - 1, h2 - 1}
		ref := append([]float64{0}, a...)
		refPSort(ref, []int{0, h1, h2})
		for _, noVec := range []bool{false, true} {
			got := slices.Clone(a)
			buf := psortBuf{noVec: noVec}
			buf.psort(got, ind, nil)
			if !slices.Equal(got, ref[1:]) {
				t.Fatalf("n=%d levels=%d noVec=%v: psort and the literal PSORT disagree", n, levels, noVec)
			}
		}
		// compactChunk on chunks of every alignment.
		piv := a[rng.IntN(n)]
		lo, hi := rng.IntN(n), n
		if rng.IntN(2) == 0 {
			hi = lo + rng.IntN(n-lo+1)
		}
		var lists [2][2][]int32
		for k, noVec := range []bool{false, true} {
			buf := psortBuf{noVec: noVec, big: make([]int32, n), small: make([]int32, n)}
			nb, ns := buf.compactChunk(a, lo, hi, piv)
			lists[k] = [2][]int32{buf.big[lo : lo+nb], buf.small[lo : lo+ns]}
		}
		if !slices.Equal(lists[0][0], lists[1][0]) || !slices.Equal(lists[0][1], lists[1][1]) {
			t.Fatalf("n=%d [%d, %d): compactChunk lists differ between the vector and scalar loops", n, lo, hi)
		}
	}
}
