package retry

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// ErrOpen is returned by Breaker.Allow when the breaker rejects a call: it is
// open, or half-open with all probe slots in use.
var ErrOpen = errors.New("rpc: circuit breaker open")

// State is a circuit breaker state.
type State int

// Breaker states. Transitions: Closed→Open when the failure rate in the
// window reaches the threshold; Open→HalfOpen when OpenFor has passed;
// HalfOpen→Closed after HalfOpenSuccesses probe successes; HalfOpen→Open on
// a probe failure.
const (
	// Closed admits every call and counts outcomes in a sliding window.
	Closed State = iota
	// Open rejects every call until OpenFor has passed.
	Open
	// HalfOpen admits up to HalfOpenProbes concurrent probe calls.
	HalfOpen
)

// String returns "closed", "open" or "half-open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Outcome is what the caller reports about an admitted call.
type Outcome int

// Outcomes. Which calls count as failures is the caller's decision: the rpc
// client reports Failure for Unavailable, DeadlineExceeded, Internal, Unknown
// and network errors (the service is unhealthy or unreachable), Success for
// OK and for errors that prove the service works (InvalidArgument,
// NotFound, PermissionDenied, ...), and Ignored when the call ended for the
// caller's own reasons (its ctx was canceled, it gave up before sending).
const (
	// Success counts toward closing (half-open) and the success count
	// (closed).
	Success Outcome = iota
	// Failure counts toward opening (closed) and reopens (half-open).
	Failure
	// Ignored tells the breaker nothing about the service's health. It
	// only releases a half-open probe slot.
	Ignored
)

// String returns "success", "failure" or "ignored".
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case Ignored:
		return "ignored"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// BreakerConfig configures a Breaker. A zero field means its default (A3);
// DefaultBreakerConfig returns the defaults filled in.
type BreakerConfig struct {
	// FailureThreshold is the fraction of failures among the outcomes in
	// the window at which a closed breaker opens, in (0, 1]. Default 0.5.
	FailureThreshold float64
	// MinRequests is how many outcomes (successes plus failures) the
	// window must hold before the breaker may open, so that a few early
	// failures do not open it. Default 20.
	MinRequests int
	// Window is the span of the sliding window of outcomes. Default 10s.
	// It is kept as Buckets buckets of Window/Buckets each and slides one
	// bucket at a time, so an outcome is forgotten between
	// Window-Window/Buckets and Window after it was recorded.
	Window time.Duration
	// Buckets is the number of buckets in Window. Default 10. Window/Buckets
	// must be at least 1ns.
	Buckets int
	// OpenFor is the cool-down: how long an open breaker rejects calls
	// before it lets probes through. Default 5s.
	OpenFor time.Duration
	// HalfOpenProbes is how many probe calls a half-open breaker admits
	// at once; further calls get ErrOpen until a probe reports. Default 1.
	HalfOpenProbes int
	// HalfOpenSuccesses is how many probe successes close a half-open
	// breaker. With HalfOpenProbes 1 they are consecutive. Default 3.
	HalfOpenSuccesses int
	// OnStateChange, if not nil, is called after every transition, on the
	// goroutine whose Allow, State or done call caused it, after the
	// Breaker's lock is released. It must not block for long; it may call
	// the Breaker. Calls caused by different goroutines may be delivered
	// out of order; from and to of each call are exact.
	OnStateChange func(from, to State)
}

// Breaker defaults; see DefaultBreakerConfig.
const (
	defaultFailureThreshold  = 0.5
	defaultMinRequests       = 20
	defaultWindow            = 10 * time.Second
	defaultBuckets           = 10
	defaultOpenFor           = 5 * time.Second
	defaultHalfOpenProbes    = 1
	defaultHalfOpenSuccesses = 3
)

// DefaultBreakerConfig returns: opens at 50% failures over at least 20
// outcomes in a 10s window of 10 buckets; stays open 5s; then admits one
// probe at a time and closes after 3 successes.
func DefaultBreakerConfig() BreakerConfig {
	return BreakerConfig{
		FailureThreshold:  defaultFailureThreshold,
		MinRequests:       defaultMinRequests,
		Window:            defaultWindow,
		Buckets:           defaultBuckets,
		OpenFor:           defaultOpenFor,
		HalfOpenProbes:    defaultHalfOpenProbes,
		HalfOpenSuccesses: defaultHalfOpenSuccesses,
	}
}

func (c BreakerConfig) withDefaults() BreakerConfig {
	d := DefaultBreakerConfig()
	if c.FailureThreshold == 0 {
		c.FailureThreshold = d.FailureThreshold
	}
	if c.MinRequests == 0 {
		c.MinRequests = d.MinRequests
	}
	if c.Window == 0 {
		c.Window = d.Window
	}
	if c.Buckets == 0 {
		c.Buckets = d.Buckets
	}
	if c.OpenFor == 0 {
		c.OpenFor = d.OpenFor
	}
	if c.HalfOpenProbes == 0 {
		c.HalfOpenProbes = d.HalfOpenProbes
	}
	if c.HalfOpenSuccesses == 0 {
		c.HalfOpenSuccesses = d.HalfOpenSuccesses
	}
	return c
}

// Validate reports a field out of range, wrapping ErrInvalidConfig. Zero
// fields are valid (they mean the default); the bucket width is checked
// after defaults are applied.
func (c BreakerConfig) Validate() error {
	switch {
	case math.IsNaN(c.FailureThreshold) || c.FailureThreshold < 0 || c.FailureThreshold > 1:
		return fmt.Errorf("%w: BreakerConfig.FailureThreshold %v is outside (0, 1]", ErrInvalidConfig, c.FailureThreshold)
	case c.MinRequests < 0:
		return fmt.Errorf("%w: BreakerConfig.MinRequests %d is negative", ErrInvalidConfig, c.MinRequests)
	case c.Window < 0:
		return fmt.Errorf("%w: BreakerConfig.Window %v is negative", ErrInvalidConfig, c.Window)
	case c.Buckets < 0:
		return fmt.Errorf("%w: BreakerConfig.Buckets %d is negative", ErrInvalidConfig, c.Buckets)
	case c.OpenFor < 0:
		return fmt.Errorf("%w: BreakerConfig.OpenFor %v is negative", ErrInvalidConfig, c.OpenFor)
	case c.HalfOpenProbes < 0:
		return fmt.Errorf("%w: BreakerConfig.HalfOpenProbes %d is negative", ErrInvalidConfig, c.HalfOpenProbes)
	case c.HalfOpenSuccesses < 0:
		return fmt.Errorf("%w: BreakerConfig.HalfOpenSuccesses %d is negative", ErrInvalidConfig, c.HalfOpenSuccesses)
	}
	if d := c.withDefaults(); d.Window/time.Duration(d.Buckets) <= 0 {
		return fmt.Errorf("%w: BreakerConfig.Window %v is shorter than Buckets %d nanoseconds", ErrInvalidConfig, d.Window, d.Buckets)
	}
	return nil
}

// bucket holds the outcomes recorded during one bucket-width of time.
type bucket struct {
	idx           int64 // bucket number since epoch
	success, fail int
}

// change is a state transition waiting to be reported to OnStateChange.
type change struct{ from, to State }

// Breaker is a circuit breaker for one service: a pure state machine that
// is told the time on every call and does no I/O, starts no goroutines and
// sets no timers. Time that moves backwards is treated as the latest time
// seen.
//
// Every call goes through Allow, which either rejects it with ErrOpen or
// admits it and returns a done function to report its Outcome. done belongs
// to that one call, so a result is attributed to the state that admitted
// it: an outcome of a call admitted before the latest transition is
// ignored, which keeps a slow call admitted while closed from being counted
// as a half-open probe, and keeps a late probe from a previous half-open
// period from closing or reopening the breaker.
//
// A Breaker is safe for concurrent use; it has one lock, which is never held
// while OnStateChange runs.
type Breaker struct {
	cfg   BreakerConfig // immutable, defaults filled
	width time.Duration // immutable bucket width

	mu      sync.Mutex
	state   State
	gen     uint64    // incremented on every transition
	started bool      // epoch and last are set
	epoch   time.Time // time 0 of the bucket numbering
	last    time.Time // latest time seen
	buckets []bucket  // ring, indexed by idx mod len
	opened  time.Time // when the breaker last opened
	probes  int       // half-open probes in flight in this period
	probeOK int       // half-open probe successes in this period
}

// NewBreaker returns a closed Breaker. It copies cfg, fills zero fields with
// defaults and returns an error wrapping ErrInvalidConfig if cfg.Validate
// fails.
func NewBreaker(cfg BreakerConfig) (*Breaker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Breaker{
		cfg:     cfg,
		width:   cfg.Window / time.Duration(cfg.Buckets),
		buckets: make([]bucket, cfg.Buckets),
	}, nil
}

// Allow asks to make a call at now. It returns ErrOpen if the breaker is
// open, or half-open with HalfOpenProbes probes in flight. Otherwise it
// returns a done function that the caller must call exactly once when the
// call ends, on every path (defer it, reporting Ignored for cancellations):
// a half-open probe whose done is never called keeps its slot forever. Later
// calls of done do nothing. done is safe to call from any goroutine. Allow
// does not block, apart from taking the Breaker's lock.
func (b *Breaker) Allow(now time.Time) (done func(now time.Time, o Outcome), err error) {
	var ch []change
	b.mu.Lock()
	b.tick(now, &ch)
	switch b.state {
	case Closed:
		done = b.permit(b.gen)
	case HalfOpen:
		if b.probes < b.cfg.HalfOpenProbes {
			b.probes++
			done = b.permit(b.gen)
		} else {
			err = ErrOpen
		}
	default:
		err = ErrOpen
	}
	b.mu.Unlock()
	b.notify(ch)
	return done, err
}

// State returns the state at now. Like Allow, it moves an open breaker
// whose cool-down has passed to HalfOpen.
func (b *Breaker) State(now time.Time) State {
	var ch []change
	b.mu.Lock()
	b.tick(now, &ch)
	s := b.state
	b.mu.Unlock()
	b.notify(ch)
	return s
}

// permit returns the done function of a call admitted in generation gen.
// b.mu is held.
func (b *Breaker) permit(gen uint64) func(time.Time, Outcome) {
	used := false // guarded by b.mu
	return func(now time.Time, o Outcome) {
		var ch []change
		b.mu.Lock()
		if !used {
			used = true
			b.record(now, gen, o, &ch)
		}
		b.mu.Unlock()
		b.notify(ch)
	}
}

// tick clamps now to the latest time seen, performs the Open→HalfOpen
// transition once OpenFor has passed, and returns the clamped time. b.mu is
// held.
func (b *Breaker) tick(now time.Time, ch *[]change) time.Time {
	if !b.started {
		b.started, b.epoch, b.last = true, now, now
	}
	if now.Before(b.last) {
		now = b.last
	}
	b.last = now
	if b.state == Open && now.Sub(b.opened) >= b.cfg.OpenFor {
		b.setState(HalfOpen, now, ch)
	}
	return now
}

// record applies the outcome of a call admitted in generation gen. b.mu is
// held.
func (b *Breaker) record(now time.Time, gen uint64, o Outcome, ch *[]change) {
	now = b.tick(now, ch)
	if gen != b.gen {
		return // admitted before the latest transition: stale
	}
	switch b.state {
	case Closed:
		switch o {
		case Success:
			b.bucketAt(now).success++
		case Failure:
			b.bucketAt(now).fail++
			if b.tripped(now) {
				b.setState(Open, now, ch)
			}
		}
	case HalfOpen:
		b.probes--
		switch o {
		case Success:
			b.probeOK++
			if b.probeOK >= b.cfg.HalfOpenSuccesses {
				b.setState(Closed, now, ch)
			}
		case Failure:
			b.setState(Open, now, ch)
		}
	}
	// Open admits nothing, so no call of the current generation reports
	// while open.
}

// index returns the bucket number of t.
func (b *Breaker) index(t time.Time) int64 {
	return int64(t.Sub(b.epoch) / b.width)
}

// bucketAt returns the bucket for now, resetting it if it holds an old
// period. b.mu is held.
func (b *Breaker) bucketAt(now time.Time) *bucket {
	i := b.index(now)
	bk := &b.buckets[i%int64(len(b.buckets))]
	if bk.idx != i {
		*bk = bucket{idx: i}
	}
	return bk
}

// tripped reports whether the window at now holds at least MinRequests
// outcomes with at least FailureThreshold of them failures. b.mu is held.
func (b *Breaker) tripped(now time.Time) bool {
	i := b.index(now)
	n := int64(len(b.buckets))
	var total, fail int
	for _, bk := range b.buckets {
		if bk.idx > i-n && bk.idx <= i {
			total += bk.success + bk.fail
			fail += bk.fail
		}
	}
	return total >= b.cfg.MinRequests && float64(fail) >= b.cfg.FailureThreshold*float64(total)
}

// setState moves to state to and queues the change for OnStateChange. b.mu
// is held.
func (b *Breaker) setState(to State, now time.Time, ch *[]change) {
	*ch = append(*ch, change{b.state, to})
	b.state = to
	b.gen++
	switch to {
	case Open:
		b.opened = now
	case HalfOpen:
		b.probes, b.probeOK = 0, 0
	case Closed:
		clear(b.buckets)
	}
}

// notify reports changes to OnStateChange. b.mu must not be held.
func (b *Breaker) notify(ch []change) {
	if b.cfg.OnStateChange == nil {
		return
	}
	for _, c := range ch {
		b.cfg.OnStateChange(c.from, c.to)
	}
}
