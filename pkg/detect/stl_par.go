package detect

import (
	"runtime"
	"sync/atomic"
	"time"
)

// helperLinger is how long a parked helper waits for the next call, after
// spinning for helperSpin.
const (
	helperLinger = time.Second
	helperSpin   = 200 * time.Microsecond
)

// A helper that keeps the caller waiting longer than slowHelper at the end
// of maxStalls phases of a call (one such stall is a VM's vCPU taken away
// for a moment, and the helper is worth keeping), or that finds it was not
// running for longer than descheduled while it waited for a phase, is not
// used for the rest of the call; if that happens in two calls in a row,
// not for the next few calls either: on a busy machine a spinning helper
// only takes CPU time from the caller. The number of calls skipped
// doubles, from minSkip up to maxSkip, while the helper keeps failing, and
// returns to minSkip after a call it served well.
const (
	slowHelper  = 200 * time.Microsecond
	descheduled = 300 * time.Microsecond
	minSkip     = 2
	maxSkip     = 64
	maxStalls   = 2 // phases per call the helper may hold up before it fails
)

// The parallel parts of a decomposition (the fits of a smoother, the
// phases of the cycle-subseries, element-wise steps) consist of independent
// work items whose results do not depend on which goroutine computes them:
// every item writes its own outputs and every sum keeps its order, so the
// results are the same bits with or without the helper.
//
// During a Decompose call one helper goroutine may serve the calling one.
// For each parallel step the caller opens a phase, takes items from the
// front of the phase's range and the helper from the back; the helper must
// enter a phase before it takes items, and the caller closes the phase when
// it runs out of items, waiting only if the helper entered. A helper that
// is slow to start (busy machine, GOMAXPROCS = 1) therefore never delays
// the caller by more than the item it is working on. Between phases of a
// call the helper spins, yielding its P, unless it finds itself
// descheduled (then it parks until the next call). After a call it spins
// briefly, parks, and exits if no call comes within helperLinger, so that
// back-to-back calls reuse it (and do not allocate a goroutine each) while
// an idle STL holds no goroutine for long.

// Phase states, in the low two bits of stlPar.state; the phase number is in
// the other bits.
const (
	phaseOpen    = 0
	phaseEntered = 1 // the helper is taking items
	phaseDone    = 2 // closed by the caller or left by the helper
)

type stlPar struct {
	helper  func() // the helper's loop, bound once (a go statement with it does not allocate)
	on      bool   // the helper may serve this call
	slow    bool   // the helper kept the caller waiting in this call
	skip    int    // calls left to run without the helper
	backoff int    // calls to skip after the next failure (0: minSkip)
	strikes int    // calls in a row in which the helper failed
	stalls  int    // phases of this call the helper held up

	// For tests: use the helper whatever the size of the work, and (with
	// callerIdle) let it take every item of every phase.
	forceHelper, callerIdle bool

	state atomic.Uint64 // phase<<2 | phase state
	items atomic.Uint64 // next front item << 32 | end of the items not yet taken
	phase uint64

	task parTask // what the open phase does (written before the phase opens)

	nan      atomic.Bool  // a residual was NaN (the fit overflowed)
	progress atomic.Int64 // taskDotFits with stream: values of in that are final
	active   atomic.Bool  // a call is running: the helper spins, not parks
	gone     atomic.Bool  // the helper found itself descheduled and parked
	alive    atomic.Bool  // a helper goroutine exists
	parked   atomic.Bool  // the helper waits on wake
	wake     chan struct{}
	timer    *time.Timer

	hw  [4][]float64 // the helper's pipeline buffers (fitWeighted)
	hvb [2][]float64 // and those of the vector pipeline (vecPlan.fitWeighted)
}

// parTask describes the work of a phase.
type parTask struct {
	kind    int
	n       int     // number of items
	cm      float64 // taskCycle: 6 × the "median" residual
	weights bool    // taskCycle: compute ρ and D first
	last    bool    // taskTrendInterp: the last pass, no residuals needed
	// taskDotFits: ys = SMOOTH(in) with plan's precomputed weights.
	plan   *smoothPlan
	ys, in []float64
	vec    *vecPlan  // if not nil, the vector kernels compute the fits, two steps an item
	rho    []float64 // taskVecFill: ρ to copy too, if not nil
	nfill  int       // taskLowStream: the first nfill items copy ρ
	// The helper takes items from the front, the caller from the back.
	swap bool
	// taskDotFits while the caller still computes in: the helper waits
	// until progress covers the windows of its fits.
	stream bool
}

// parStart lets a helper serve this call if the work is large enough and
// another P may run it.
func (s *STL) parStart(work int) {
	p := &s.par
	p.slow, p.stalls = false, 0
	p.on = (work >= 1<<18 || p.forceHelper) && runtime.GOMAXPROCS(0) > 1
	if p.skip > 0 {
		p.skip--
		p.on = false
	}
	if !p.on {
		return
	}
	p.gone.Store(false)
	if p.helper == nil {
		p.helper = s.helpLoop
		p.wake = make(chan struct{}, 1)
		p.timer = time.NewTimer(helperLinger)
	}
	p.active.Store(true)
	if p.alive.CompareAndSwap(false, true) {
		go p.helper()
	} else if p.parked.Load() {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// parEnd ends the helper's service for this call.
func (s *STL) parEnd() {
	p := &s.par
	if p.on && !p.slow {
		p.backoff, p.strikes = 0, 0 // served the whole call
	}
	p.active.Store(false)
}

// useHelper reports whether the caller should open phases for the helper.
func (p *stlPar) useHelper() bool {
	if p.on && p.gone.Load() && !p.callerIdle {
		p.fail()
	}
	return p.on
}

// fail stops using the helper for the rest of the call and, if it failed
// in the previous call too, for the next calls: a single stall (a VM's
// vCPU taken away for a moment) costs only the rest of this call, while a
// machine that stays busy still makes the helper back off.
func (p *stlPar) fail() {
	p.on = false
	p.slow = true
	p.strikes++
	if p.strikes < 2 {
		return
	}
	p.backoff = min(max(p.backoff, minSkip), maxSkip)
	p.skip = p.backoff
	p.backoff *= 2
}

// open starts a phase of n items; the caller has set s.par.task.
func (p *stlPar) open(n int) {
	p.task.n = n
	p.items.Store(uint64(n))
	p.phase++
	p.state.Store(p.phase << 2)
}

// close ends the phase once the caller has no items left, waiting for the
// helper if it entered. A helper that keeps the caller waiting long (its
// thread was descheduled: the machine is busy) is not used for the rest
// of the call nor for the next few calls.
func (p *stlPar) close() {
	if p.callerIdle {
		for p.state.Load() == p.phase<<2|phaseOpen {
			runtime.Gosched()
		}
	}
	if p.state.CompareAndSwap(p.phase<<2|phaseOpen, p.phase<<2|phaseDone) {
		return
	}
	var t0 time.Time
	stalled := false
	for spins := 0; p.state.Load() != p.phase<<2|phaseDone; spins++ {
		// The helper finishes the items it holds.
		if spins < 64 {
			continue
		}
		if t0.IsZero() {
			t0 = time.Now()
		} else if !stalled && !p.callerIdle && time.Since(t0) > slowHelper {
			stalled = true
		}
		if stalled {
			// Leave the CPU to the helper's thread.
			time.Sleep(20 * time.Microsecond)
		} else {
			runtime.Gosched()
		}
	}
	if stalled && p.on {
		p.stalls++
		if p.stalls >= maxStalls {
			p.fail()
		}
	}
}

// front takes the next item from the front, or returns −1.
func (p *stlPar) front() int {
	for {
		v := p.items.Load()
		lo, hi := v>>32, v&(1<<32-1)
		if lo >= hi {
			return -1
		}
		if p.items.CompareAndSwap(v, (lo+1)<<32|hi) {
			return int(lo)
		}
	}
}

// back takes the next item from the back, or returns −1.
func (p *stlPar) back() int {
	for {
		v := p.items.Load()
		lo, hi := v>>32, v&(1<<32-1)
		if lo >= hi {
			return -1
		}
		if p.items.CompareAndSwap(v, lo<<32|(hi-1)) {
			return int(hi - 1)
		}
	}
}

// take returns the next item for the caller (front) or the helper (back).
func (p *stlPar) take(helper bool) int {
	if helper != p.task.swap {
		return p.back()
	}
	return p.front()
}

// run opens a phase of n items, works on it and closes it. Without a
// helper it runs the items in order without the atomic bookkeeping.
func (s *STL) run(n int) { s.runAfter(n, nil) }

// runAfter is run with first, if not nil, run on the caller before it
// takes items: once the phase is open, so that the helper starts on the
// items meanwhile.
func (s *STL) runAfter(n int, first func()) {
	p := &s.par
	if !p.useHelper() {
		if first != nil {
			first()
		}
		p.task.n = n
		p.items.Store(uint64(n))
		s.work(false)
		return
	}
	p.open(n)
	if first != nil {
		first()
	}
	if !p.callerIdle {
		s.work(false)
	}
	p.close()
}

// helpLoop is the helper goroutine: it enters each new phase it sees and
// works on it; it parks between calls and exits after helperLinger without
// a call.
func (s *STL) helpLoop() {
	p := &s.par
	var seen uint64
	var idle time.Time // when the helper found no call running
	var last time.Time // the previous spin during a call
	for {
		st := p.state.Load()
		if st&3 == phaseOpen && st>>2 != seen && p.state.CompareAndSwap(st, st|phaseEntered) {
			seen = st >> 2
			s.work(true)
			p.state.Store(st&^3 | phaseDone)
			last = time.Time{}
			continue
		}
		if p.active.Load() && !p.gone.Load() {
			idle = time.Time{}
			now := time.Now()
			if !last.IsZero() && now.Sub(last) > descheduled && !p.callerIdle {
				// The machine is busy: stop competing with the caller.
				p.gone.Store(true)
				last = time.Time{}
				continue
			}
			last = now
			runtime.Gosched()
			continue
		}
		last = time.Time{}
		// Between calls, wait for the next one a little before parking:
		// waking a parked goroutine takes long on a busy machine, and
		// back-to-back calls are common.
		if idle.IsZero() {
			idle = time.Now()
		}
		if time.Since(idle) < helperSpin && !p.gone.Load() {
			runtime.Gosched()
			continue
		}
		idle = time.Time{}
		// Park; the caller wakes a parked helper when a call starts.
		p.parked.Store(true)
		if p.active.Load() && !p.gone.Load() {
			p.parked.Store(false)
			continue
		}
		p.timer.Reset(helperLinger)
		select {
		case <-p.wake:
			p.parked.Store(false)
		case <-p.timer.C:
			p.parked.Store(false)
			if p.active.Load() && !p.gone.Load() {
				continue
			}
			p.alive.Store(false)
			// A call may have started before alive was cleared and found
			// the helper alive: serve it.
			if p.active.Load() && p.alive.CompareAndSwap(false, true) {
				continue
			}
			return
		}
	}
}
