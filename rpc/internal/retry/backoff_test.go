package retry

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// almostOne is the largest rnd a caller can pass (rand.Float64() < 1).
var almostOne = math.Nextafter(1, 0)

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	def := DefaultBackoff()
	tests := []struct {
		name    string
		b       Backoff
		attempt int
		rnd     float64
		lo, hi  time.Duration // want in [lo, hi]
	}{
		{"a1 rnd0", def, 1, 0, 0, 0},
		{"a1 rnd~1", def, 1, almostOne, 100*time.Millisecond - time.Nanosecond, 100 * time.Millisecond},
		{"a1 rnd.5", def, 1, 0.5, 50 * time.Millisecond, 50 * time.Millisecond},
		{"a2 rnd~1", def, 2, almostOne, 200*time.Millisecond - time.Nanosecond, 200 * time.Millisecond},
		{"a3 rnd.5", def, 3, 0.5, 200 * time.Millisecond, 200 * time.Millisecond},
		{"a4 rnd~1", def, 4, almostOne, 800*time.Millisecond - time.Nanosecond, 800 * time.Millisecond},
		{"a6 rnd~1", def, 6, almostOne, 3200*time.Millisecond - time.Nanosecond, 3200 * time.Millisecond},
		{"a7 capped", def, 7, almostOne, 5*time.Second - time.Nanosecond, 5 * time.Second},
		{"a7 capped rnd0", def, 7, 0, 0, 0},
		{"a7 capped rnd.5", def, 7, 0.5, 2500 * time.Millisecond, 2500 * time.Millisecond},
		{"a100 capped", def, 100, almostOne, 5*time.Second - time.Nanosecond, 5 * time.Second},
		{"a1e6 pow overflows", def, 1_000_000, 0.5, 2500 * time.Millisecond, 2500 * time.Millisecond},
		{"attempt 0 as 1", def, 0, almostOne, 100*time.Millisecond - time.Nanosecond, 100 * time.Millisecond},
		{"attempt negative as 1", def, -5, 0.5, 50 * time.Millisecond, 50 * time.Millisecond},
		{"rnd 1 clamped", def, 1, 1, 100*time.Millisecond - time.Nanosecond, 100 * time.Millisecond},
		{"rnd 7 clamped", def, 1, 7, 100*time.Millisecond - time.Nanosecond, 100 * time.Millisecond},
		{"rnd negative clamped", def, 1, -1, 0, 0},
		{"rnd NaN clamped", def, 1, math.NaN(), 0, 0},
		{"zero value is default", Backoff{}, 3, 0.5, 200 * time.Millisecond, 200 * time.Millisecond},
		{"jitter .2 rnd0", Backoff{Jitter: 0.2}, 1, 0, 80 * time.Millisecond, 80 * time.Millisecond},
		{"jitter .2 rnd~1", Backoff{Jitter: 0.2}, 1, almostOne, 100*time.Millisecond - time.Nanosecond, 100 * time.Millisecond},
		{"jitter .2 capped rnd0", Backoff{Jitter: 0.2}, 9, 0, 4 * time.Second, 4 * time.Second},
		{"multiplier 1 constant", Backoff{Initial: time.Second, Multiplier: 1}, 50, 0.5, 500 * time.Millisecond, 500 * time.Millisecond},
		{"multiplier 3", Backoff{Initial: time.Millisecond, Max: time.Hour, Multiplier: 3}, 4, almostOne, 27*time.Millisecond - time.Nanosecond, 27 * time.Millisecond},
		{"max MaxInt64", Backoff{Max: math.MaxInt64}, 1 << 20, almostOne, 0, math.MaxInt64},
		{"initial above max clamps", Backoff{Initial: time.Hour, Max: time.Second}, 1, almostOne, time.Second - time.Microsecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.b.Delay(tt.attempt, tt.rnd)
			assert.GreaterOrEqual(t, got, tt.lo)
			assert.LessOrEqual(t, got, tt.hi)
		})
	}
}

// TestBackoffDelayBounds sweeps attempts and rnd values and checks the
// documented range [c*(1-Jitter), c] and monotonicity in rnd.
func TestBackoffDelayBounds(t *testing.T) {
	t.Parallel()
	for _, b := range []Backoff{DefaultBackoff(), {Jitter: 0.2}, {Initial: time.Nanosecond, Max: time.Minute, Multiplier: 1.5, Jitter: 0.5}} {
		full := b.withDefaults()
		for attempt := 1; attempt <= 64; attempt++ {
			c := min(float64(full.Initial)*math.Pow(full.Multiplier, float64(attempt-1)), float64(full.Max))
			prev := time.Duration(-1)
			for _, rnd := range []float64{0, 0.1, 0.25, 0.5, 0.75, 0.9, almostOne} {
				got := b.Delay(attempt, rnd)
				require.GreaterOrEqual(t, float64(got), math.Floor(c*(1-full.Jitter))-1, "attempt %d rnd %v", attempt, rnd)
				require.LessOrEqual(t, got, time.Duration(c), "attempt %d rnd %v", attempt, rnd)
				require.LessOrEqual(t, got, full.Max)
				require.GreaterOrEqual(t, got, prev, "not monotonic in rnd")
				prev = got
			}
		}
	}
}

func TestBackoffValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      Backoff
		wantErr bool
	}{
		{"zero", Backoff{}, false},
		{"default", DefaultBackoff(), false},
		{"jitter .2", Backoff{Jitter: 0.2}, false},
		{"initial equals max", Backoff{Initial: time.Second, Max: time.Second}, false},
		{"negative initial", Backoff{Initial: -1}, true},
		{"negative max", Backoff{Max: -1}, true},
		{"initial above max", Backoff{Initial: 2 * time.Second, Max: time.Second}, true},
		{"initial above default max", Backoff{Initial: time.Minute}, true},
		{"multiplier below 1", Backoff{Multiplier: 0.5}, true},
		{"multiplier negative", Backoff{Multiplier: -2}, true},
		{"multiplier NaN", Backoff{Multiplier: math.NaN()}, true},
		{"multiplier Inf", Backoff{Multiplier: math.Inf(1)}, true},
		{"jitter negative", Backoff{Jitter: -0.1}, true},
		{"jitter above 1", Backoff{Jitter: 1.1}, true},
		{"jitter NaN", Backoff{Jitter: math.NaN()}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.in.Validate()
			if tt.wantErr {
				assert.ErrorIs(t, err, ErrInvalidConfig)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}
