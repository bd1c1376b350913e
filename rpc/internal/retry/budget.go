package retry

import (
	"math"
	"sync"
)

// Budget defaults and limits, as in gRPC's retryThrottling.
const (
	DefaultBudgetTokens = 10.0
	DefaultBudgetRatio  = 0.1
	maxBudgetTokens     = 1000.0
)

// Budget is gRPC's retry throttling (gRFC A6): a token bucket shared by all
// calls to one service that stops retries while the service mostly fails, so
// that retries cannot multiply the load on a service that is already
// struggling. It starts full; every attempt that fails with a retryable code
// costs one token (OnFailure), every successful attempt earns tokenRatio
// tokens (OnSuccess), and retries are allowed only while more than half of
// maxTokens remain. Attempts that end with a non-retryable code neither cost
// nor earn tokens.
//
// Under 100% failure a fresh Budget allows about maxTokens/2 retries in
// total, however many calls are made; it allows retries again after about
// (maxTokens/2)/tokenRatio successes.
//
// Tokens are counted in thousandths, as in gRPC, so that repeated
// fractional earnings do not drift.
//
// A Budget is safe for concurrent use.
type Budget struct {
	max   int64 // immutable, in milli-tokens
	ratio int64 // immutable, in milli-tokens earned per success

	mu     sync.Mutex
	tokens int64 // in [0, max]
}

// NewBudget returns a full Budget. maxTokens at or below 0, NaN or Inf
// means DefaultBudgetTokens, and values above 1000 are capped at 1000
// (gRPC's limit). tokenRatio at or below 0, NaN or Inf means
// DefaultBudgetRatio; it is kept to three decimals, and rounds up to 0.001
// rather than to 0 so that the Budget can always recover. NewBudget takes
// plain numbers instead of a Config because the two have no interactions to
// validate and any input maps to a usable Budget.
func NewBudget(maxTokens, tokenRatio float64) *Budget {
	if !(maxTokens > 0) || math.IsInf(maxTokens, 0) {
		maxTokens = DefaultBudgetTokens
	}
	maxTokens = min(maxTokens, maxBudgetTokens)
	if !(tokenRatio > 0) || math.IsInf(tokenRatio, 0) {
		tokenRatio = DefaultBudgetRatio
	}
	ratio := int64(math.Round(min(tokenRatio, maxBudgetTokens) * 1000))
	m := int64(math.Round(maxTokens * 1000))
	return &Budget{max: max(m, 1), ratio: max(ratio, 1), tokens: max(m, 1)}
}

// OnSuccess earns tokenRatio tokens, up to maxTokens. Call it for every
// attempt that succeeded.
func (b *Budget) OnSuccess() {
	b.mu.Lock()
	b.tokens = min(b.tokens+b.ratio, b.max)
	b.mu.Unlock()
}

// OnFailure costs one token, down to zero. Call it for every attempt that
// failed with a retryable code, before AllowRetry.
func (b *Budget) OnFailure() {
	b.mu.Lock()
	b.tokens = max(b.tokens-1000, 0)
	b.mu.Unlock()
}

// AllowRetry reports whether more than maxTokens/2 tokens remain.
func (b *Budget) AllowRetry() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return 2*b.tokens > b.max
}

// Tokens is the current token count, for metrics and tests.
func (b *Budget) Tokens() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return float64(b.tokens) / 1000
}
