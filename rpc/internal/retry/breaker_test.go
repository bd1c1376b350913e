package retry

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// t0 is an arbitrary start time; the Breaker only looks at differences.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// testConfig opens at 50% over 4 outcomes in a 10s window of 1s buckets,
// stays open 5s and closes after 2 probe successes.
func testConfig() BreakerConfig {
	return BreakerConfig{
		FailureThreshold:  0.5,
		MinRequests:       4,
		Window:            10 * time.Second,
		Buckets:           10,
		OpenFor:           5 * time.Second,
		HalfOpenProbes:    1,
		HalfOpenSuccesses: 2,
	}
}

func newTestBreaker(t *testing.T, cfg BreakerConfig) (*Breaker, *[]change) {
	t.Helper()
	var mu sync.Mutex
	var changes []change
	cfg.OnStateChange = func(from, to State) {
		mu.Lock()
		changes = append(changes, change{from, to})
		mu.Unlock()
	}
	b, err := NewBreaker(cfg)
	require.NoError(t, err)
	return b, &changes
}

// call admits a call at now and reports o at now, failing the test if the
// breaker rejects it.
func call(t *testing.T, b *Breaker, now time.Time, o Outcome) {
	t.Helper()
	done, err := b.Allow(now)
	require.NoError(t, err)
	done(now, o)
}

func TestStateString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "closed", Closed.String())
	assert.Equal(t, "open", Open.String())
	assert.Equal(t, "half-open", HalfOpen.String())
	assert.Equal(t, "State(9)", State(9).String())
	assert.Equal(t, "success", Success.String())
	assert.Equal(t, "failure", Failure.String())
	assert.Equal(t, "ignored", Ignored.String())
	assert.Equal(t, "Outcome(9)", Outcome(9).String())
}

func TestBreakerConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      BreakerConfig
		wantErr bool
	}{
		{"zero", BreakerConfig{}, false},
		{"default", DefaultBreakerConfig(), false},
		{"test config", testConfig(), false},
		{"threshold 1", BreakerConfig{FailureThreshold: 1}, false},
		{"one bucket per ns", BreakerConfig{Window: 10, Buckets: 10}, false},
		{"threshold negative", BreakerConfig{FailureThreshold: -0.1}, true},
		{"threshold above 1", BreakerConfig{FailureThreshold: 1.5}, true},
		{"threshold NaN", BreakerConfig{FailureThreshold: math.NaN()}, true},
		{"min requests negative", BreakerConfig{MinRequests: -1}, true},
		{"window negative", BreakerConfig{Window: -time.Second}, true},
		{"buckets negative", BreakerConfig{Buckets: -1}, true},
		{"window shorter than buckets", BreakerConfig{Window: 5, Buckets: 10}, true},
		{"open for negative", BreakerConfig{OpenFor: -1}, true},
		{"probes negative", BreakerConfig{HalfOpenProbes: -1}, true},
		{"successes negative", BreakerConfig{HalfOpenSuccesses: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.in.Validate()
			_, nerr := NewBreaker(tt.in)
			if tt.wantErr {
				assert.ErrorIs(t, err, ErrInvalidConfig)
				assert.ErrorIs(t, nerr, ErrInvalidConfig)
			} else {
				assert.NoError(t, err)
				assert.NoError(t, nerr)
			}
		})
	}
}

func TestNewBreakerFillsDefaults(t *testing.T) {
	t.Parallel()
	b, err := NewBreaker(BreakerConfig{MinRequests: 2})
	require.NoError(t, err)
	want := DefaultBreakerConfig()
	want.MinRequests = 2
	assert.Equal(t, want, b.cfg)
	assert.Equal(t, time.Second, b.width)
}

func TestBreakerOpensAtThresholdAfterMinRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		outcomes []Outcome
		want     State
	}{
		{"three failures are below MinRequests", []Outcome{Failure, Failure, Failure}, Closed},
		{"fourth failure opens", []Outcome{Failure, Failure, Failure, Failure}, Open},
		{"50% at MinRequests opens", []Outcome{Success, Success, Failure, Failure}, Open},
		{"25% stays closed", []Outcome{Success, Success, Success, Failure}, Closed},
		{"success cannot open", []Outcome{Failure, Failure, Success, Success}, Closed},
		{"ignored outcomes do not count", []Outcome{Failure, Failure, Ignored, Ignored, Ignored, Failure}, Closed},
		{"later failure opens", []Outcome{Success, Success, Success, Failure, Failure, Failure}, Open},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, changes := newTestBreaker(t, testConfig())
			for _, o := range tt.outcomes {
				call(t, b, t0, o)
			}
			assert.Equal(t, tt.want, b.State(t0))
			if tt.want == Open {
				assert.Equal(t, []change{{Closed, Open}}, *changes)
			} else {
				assert.Empty(t, *changes)
			}
		})
	}
}

func TestBreakerOpenRejectsUntilOpenFor(t *testing.T) {
	t.Parallel()
	b, changes := newTestBreaker(t, testConfig())
	opened := t0.Add(3 * time.Second)
	for range 4 {
		call(t, b, opened, Failure)
	}
	for _, d := range []time.Duration{0, time.Second, 5*time.Second - time.Nanosecond} {
		done, err := b.Allow(opened.Add(d))
		assert.ErrorIs(t, err, ErrOpen, "at +%v", d)
		assert.Nil(t, done)
		assert.Equal(t, Open, b.State(opened.Add(d)))
	}
	assert.Equal(t, HalfOpen, b.State(opened.Add(5*time.Second)))
	assert.Equal(t, []change{{Closed, Open}, {Open, HalfOpen}}, *changes)
	_, err := b.Allow(opened.Add(5 * time.Second))
	assert.NoError(t, err)
}

// openAndWait opens b with failures at t0 and returns the time its
// cool-down ends.
func openAndWait(t *testing.T, b *Breaker) time.Time {
	t.Helper()
	for b.State(t0) == Closed {
		call(t, b, t0, Failure)
	}
	return t0.Add(b.cfg.OpenFor)
}

func TestBreakerHalfOpenLimitsProbes(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.HalfOpenProbes = 2
	cfg.HalfOpenSuccesses = 3
	b, _ := newTestBreaker(t, cfg)
	now := openAndWait(t, b)

	p1, err := b.Allow(now)
	require.NoError(t, err)
	p2, err := b.Allow(now)
	require.NoError(t, err)
	_, err = b.Allow(now)
	assert.ErrorIs(t, err, ErrOpen, "third concurrent probe")
	assert.Equal(t, HalfOpen, b.State(now))

	p1(now, Success)
	p3, err := b.Allow(now)
	require.NoError(t, err, "a reported probe frees its slot")
	_, err = b.Allow(now)
	assert.ErrorIs(t, err, ErrOpen)

	p2(now, Ignored)
	assert.Equal(t, HalfOpen, b.State(now), "ignored changes nothing")
	p4, err := b.Allow(now)
	require.NoError(t, err, "an ignored probe frees its slot")

	p3(now, Success)
	assert.Equal(t, HalfOpen, b.State(now))
	p4(now, Success)
	assert.Equal(t, Closed, b.State(now), "third success closes")
}

func TestBreakerProbeSuccessCloses(t *testing.T) {
	t.Parallel()
	b, changes := newTestBreaker(t, testConfig())
	now := openAndWait(t, b)
	call(t, b, now, Success)
	assert.Equal(t, HalfOpen, b.State(now))
	call(t, b, now, Success)
	assert.Equal(t, Closed, b.State(now))
	assert.Equal(t, []change{{Closed, Open}, {Open, HalfOpen}, {HalfOpen, Closed}}, *changes)

	// The window starts empty: the failures that opened it are forgotten.
	for range 3 {
		call(t, b, now, Failure)
	}
	assert.Equal(t, Closed, b.State(now))
}

func TestBreakerProbeFailureReopens(t *testing.T) {
	t.Parallel()
	b, changes := newTestBreaker(t, testConfig())
	now := openAndWait(t, b)
	call(t, b, now, Success)
	failAt := now.Add(time.Second)
	call(t, b, failAt, Failure)
	assert.Equal(t, Open, b.State(failAt))
	_, err := b.Allow(failAt.Add(5*time.Second - 1))
	assert.ErrorIs(t, err, ErrOpen, "the cool-down restarts at the failure")
	assert.Equal(t, HalfOpen, b.State(failAt.Add(5*time.Second)))

	// The earlier probe success does not carry over to the new period.
	call(t, b, failAt.Add(5*time.Second), Success)
	assert.Equal(t, HalfOpen, b.State(failAt.Add(5*time.Second)))
	assert.Equal(t, []change{{Closed, Open}, {Open, HalfOpen}, {HalfOpen, Open}, {Open, HalfOpen}}, *changes)
}

func TestBreakerStaleOutcomesAreIgnored(t *testing.T) {
	t.Parallel()
	b, _ := newTestBreaker(t, testConfig())
	slowOK, err := b.Allow(t0)
	require.NoError(t, err)
	slowFail, err := b.Allow(t0)
	require.NoError(t, err)

	now := openAndWait(t, b)
	probe, err := b.Allow(now)
	require.NoError(t, err)

	// Calls admitted while closed report during half-open: they are not
	// probes, so they neither close nor reopen nor free the probe slot.
	slowOK(now, Success)
	slowOK(now, Success) // and a second report does nothing
	slowFail(now, Failure)
	assert.Equal(t, HalfOpen, b.State(now))
	_, err = b.Allow(now)
	assert.ErrorIs(t, err, ErrOpen, "the probe slot is still taken")

	// A probe of this period reopens; a late probe of an earlier period
	// cannot close the next one.
	probe(now, Failure)
	assert.Equal(t, Open, b.State(now))
	next := now.Add(5 * time.Second)
	p2, err := b.Allow(next)
	require.NoError(t, err)
	probe(next, Success)
	assert.Equal(t, HalfOpen, b.State(next))
	p2(next, Success)
	assert.Equal(t, HalfOpen, b.State(next), "needs two successes of its own")
}

func TestBreakerDoneTwiceCountsOnce(t *testing.T) {
	t.Parallel()
	b, _ := newTestBreaker(t, testConfig())
	done, err := b.Allow(t0)
	require.NoError(t, err)
	for range 10 {
		done(t0, Failure)
	}
	for range 2 {
		call(t, b, t0, Failure)
	}
	assert.Equal(t, Closed, b.State(t0), "3 distinct failures < MinRequests")
}

func TestBreakerWindowSlides(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		last time.Duration // when the 4th failure comes, after 3 at t0
		want State
	}{
		{"same bucket", 0, Open},
		{"last bucket of the window", 9*time.Second + 999*time.Millisecond, Open},
		{"one window later", 10 * time.Second, Closed},
		{"much later", time.Hour, Closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, _ := newTestBreaker(t, testConfig())
			for range 3 {
				call(t, b, t0, Failure)
			}
			at := t0.Add(tt.last)
			call(t, b, at, Failure)
			assert.Equal(t, tt.want, b.State(at))
		})
	}
}

func TestBreakerWindowMixesBuckets(t *testing.T) {
	t.Parallel()
	b, _ := newTestBreaker(t, testConfig())
	// Successes at 0s..3s, then failures at 10s..13s: each failure sees at
	// most 50% only once the successes have slid out.
	for i := range 4 {
		call(t, b, t0.Add(time.Duration(i)*time.Second), Success)
	}
	call(t, b, t0.Add(10*time.Second), Failure) // window 1s..10s: 3 ok, 1 fail
	call(t, b, t0.Add(11*time.Second), Failure) // 2s..11s: 2 ok, 2 fail → opens
	assert.Equal(t, Open, b.State(t0.Add(11*time.Second)))
}

func TestBreakerClockBackwards(t *testing.T) {
	t.Parallel()
	b, _ := newTestBreaker(t, testConfig())
	now := openAndWait(t, b)
	assert.Equal(t, HalfOpen, b.State(now))
	// Earlier times are treated as the latest seen: no return to Open.
	assert.Equal(t, HalfOpen, b.State(t0))
	_, err := b.Allow(time.Time{})
	assert.NoError(t, err)
}

func TestBreakerCallbackOutsideLock(t *testing.T) {
	t.Parallel()
	var b *Breaker
	var seen []State
	cfg := testConfig()
	cfg.OnStateChange = func(from, to State) {
		seen = append(seen, b.State(t0)) // would deadlock under b.mu
	}
	b, err := NewBreaker(cfg)
	require.NoError(t, err)
	for range 4 {
		call(t, b, t0, Failure)
	}
	assert.Equal(t, []State{Open}, seen)
}

// TestBreakerConcurrent runs Allow, done and State from many goroutines on
// a shared fake clock; run it with -race.
func TestBreakerConcurrent(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.OpenFor = 50 * time.Millisecond
	cfg.HalfOpenProbes = 3
	var transitions atomic.Int64
	cfg.OnStateChange = func(from, to State) { transitions.Add(1) }
	b, err := NewBreaker(cfg)
	require.NoError(t, err)

	var clock atomic.Int64 // nanoseconds since t0
	now := func() time.Time { return t0.Add(time.Duration(clock.Load())) }
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(g), 1))
			var held []func(time.Time, Outcome)
			for range 3000 {
				clock.Add(int64(rnd.IntN(int(time.Millisecond))))
				switch rnd.IntN(4) {
				case 0, 1:
					if done, err := b.Allow(now()); err == nil {
						held = append(held, done)
					}
				case 2:
					if len(held) > 0 {
						i := rnd.IntN(len(held))
						held[i](now(), Outcome(rnd.IntN(3)))
						held = append(held[:i], held[i+1:]...)
					}
				case 3:
					_ = b.State(now())
				}
				b.mu.Lock()
				probes := b.probes
				b.mu.Unlock()
				if probes < 0 || probes > cfg.HalfOpenProbes {
					t.Errorf("%d probes in flight", probes)
					return
				}
			}
			for _, done := range held {
				done(now(), Ignored)
			}
		})
	}
	wg.Wait()
	assert.Positive(t, transitions.Load())
}
