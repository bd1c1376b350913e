package retry

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalidConfig is returned, wrapped with the offending field, by
// Backoff.Validate, Policy.Validate, BreakerConfig.Validate and NewBreaker.
var ErrInvalidConfig = errors.New("rpc: invalid retry config")

// Backoff defaults; see DefaultBackoff.
const (
	defaultInitial    = 100 * time.Millisecond
	defaultMax        = 5 * time.Second
	defaultMultiplier = 2.0
	defaultJitter     = 1.0
)

// Backoff computes the delay before a retry with gRPC's retry backoff model
// (gRFC A6): the delay after the n-th failed attempt is drawn uniformly from
// [0, min(Initial*Multiplier^(n-1), Max)) ("full jitter"). Full jitter is
// chosen over gRPC's ±20% connection backoff because retries of many
// clients that failed together (a restarting producer, a lost route) are
// exactly the synchronized load that jitter must spread out.
//
// Jitter generalizes this: the delay is drawn from
// [c*(1-Jitter), c) where c is the capped exponential value, so Jitter 1 is
// full jitter and Jitter 0.2 keeps the delay within the top 20% of c.
//
// A zero field means its default (A3). A Backoff is a value with no state and
// is safe for concurrent use.
type Backoff struct {
	// Initial is the upper bound of the delay before the first retry.
	// Default 100ms. Must not exceed Max.
	Initial time.Duration
	// Max caps the exponential value before jitter is applied. Default 5s.
	Max time.Duration
	// Multiplier is the growth factor per failed attempt. Default 2. Must be
	// finite and at least 1.
	Multiplier float64
	// Jitter is the fraction of the capped delay that is randomized, in
	// (0, 1]. Default 1 (full jitter). There is deliberately no jitter-free
	// setting (0 means the default): tests that need exact delays control
	// the rnd argument of Delay instead.
	Jitter float64
}

// DefaultBackoff returns gRPC's retry backoff: 100ms initial, 5s cap,
// multiplier 2, full jitter.
func DefaultBackoff() Backoff {
	return Backoff{Initial: defaultInitial, Max: defaultMax, Multiplier: defaultMultiplier, Jitter: defaultJitter}
}

// withDefaults fills zero fields.
func (b Backoff) withDefaults() Backoff {
	if b.Initial == 0 {
		b.Initial = defaultInitial
	}
	if b.Max == 0 {
		b.Max = defaultMax
	}
	if b.Multiplier == 0 {
		b.Multiplier = defaultMultiplier
	}
	if b.Jitter == 0 {
		b.Jitter = defaultJitter
	}
	return b
}

// Validate reports a field out of range, wrapping ErrInvalidConfig. Zero
// fields are valid (they mean the default); Initial is compared with Max
// after defaults are applied.
func (b Backoff) Validate() error {
	switch {
	case b.Initial < 0:
		return fmt.Errorf("%w: Backoff.Initial %v is negative", ErrInvalidConfig, b.Initial)
	case b.Max < 0:
		return fmt.Errorf("%w: Backoff.Max %v is negative", ErrInvalidConfig, b.Max)
	case math.IsNaN(b.Multiplier) || math.IsInf(b.Multiplier, 0) || (b.Multiplier != 0 && b.Multiplier < 1):
		return fmt.Errorf("%w: Backoff.Multiplier %v is not a finite number >= 1", ErrInvalidConfig, b.Multiplier)
	case math.IsNaN(b.Jitter) || b.Jitter < 0 || b.Jitter > 1:
		return fmt.Errorf("%w: Backoff.Jitter %v is outside [0, 1]", ErrInvalidConfig, b.Jitter)
	}
	if d := b.withDefaults(); d.Initial > d.Max {
		return fmt.Errorf("%w: Backoff.Initial %v exceeds Backoff.Max %v", ErrInvalidConfig, d.Initial, d.Max)
	}
	return nil
}

// Delay returns how long to wait after the attempt-th failed attempt (1 for
// the first call, so Delay(1, r) precedes the second attempt). attempt values
// below 1 are treated as 1. rnd is a uniform random number in [0, 1) supplied
// by the caller (rand.Float64()), which keeps Delay a pure function; values
// outside [0, 1) and NaN are clamped into it. The result is in
// [c*(1-Jitter), c], where c = min(Initial*Multiplier^(attempt-1), Max), and
// never exceeds Max. Delay does not validate b; fields out of range give
// results that are still bounded by [0, Max].
func (b Backoff) Delay(attempt int, rnd float64) time.Duration {
	b = b.withDefaults()
	if b.Max <= 0 {
		return 0
	}
	if attempt < 1 {
		attempt = 1
	}
	if !(rnd >= 0) { // also catches NaN
		rnd = 0
	} else if rnd >= 1 {
		rnd = math.Nextafter(1, 0)
	}
	jitter := b.Jitter
	if !(jitter >= 0) {
		jitter = 0
	} else if jitter > 1 {
		jitter = 1
	}

	ceil := float64(b.Max)
	c := float64(b.Initial) * math.Pow(b.Multiplier, float64(attempt-1))
	if !(c < ceil) { // +Inf and NaN from huge attempts also land here
		c = ceil
	}
	if c < 0 {
		c = 0
	}
	d := c * (1 - jitter*(1-rnd))
	if d >= ceil { // float64(Max) may round up past MaxInt64
		return b.Max
	}
	return time.Duration(d)
}
