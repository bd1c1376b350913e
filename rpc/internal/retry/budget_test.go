package retry

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewBudgetDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		max, ratio float64
		wantMax    float64
		wantRatio  float64
	}{
		{"defaults", DefaultBudgetTokens, DefaultBudgetRatio, 10, 0.1},
		{"zero means default", 0, 0, 10, 0.1},
		{"negative means default", -3, -1, 10, 0.1},
		{"NaN means default", math.NaN(), math.NaN(), 10, 0.1},
		{"Inf means default", math.Inf(1), math.Inf(1), 10, 0.1},
		{"max capped at 1000", 5000, 1, 1000, 1},
		{"ratio three decimals", 4, 0.1234, 4, 0.123},
		{"tiny ratio rounds up", 4, 1e-9, 4, 0.001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := NewBudget(tt.max, tt.ratio)
			assert.InDelta(t, tt.wantMax, b.Tokens(), 1e-9, "starts full")
			b.OnFailure()
			b.OnSuccess()
			assert.InDelta(t, tt.wantMax-1+tt.wantRatio, b.Tokens(), 1e-9)
		})
	}
}

func TestBudgetThresholdAndFloor(t *testing.T) {
	t.Parallel()
	b := NewBudget(10, 0.1)
	for i := range 4 {
		b.OnFailure()
		require.True(t, b.AllowRetry(), "after %d failures", i+1)
	}
	b.OnFailure() // 5 tokens: not more than half
	assert.False(t, b.AllowRetry())
	assert.InDelta(t, 5.0, b.Tokens(), 1e-9)
	for range 100 {
		b.OnFailure()
	}
	assert.Zero(t, b.Tokens(), "never below zero")
	for range 1000 {
		b.OnSuccess()
	}
	assert.InDelta(t, 10.0, b.Tokens(), 1e-9, "never above max")
}

// runCalls runs calls with the attempt loop of doc.go against a service
// whose attempts fail when fail() says so, and returns the retries made.
func runCalls(b *Budget, p Policy, calls int, fail func() bool) (retries int) {
	for range calls {
		for attempt := 1; ; attempt++ {
			if !fail() {
				b.OnSuccess()
				break
			}
			b.OnFailure()
			if !p.ShouldRetry(attempt, tUnavailable) || !b.AllowRetry() {
				break
			}
			retries++
		}
	}
	return retries
}

func TestBudgetBoundsRetriesUnderTotalFailure(t *testing.T) {
	t.Parallel()
	for _, maxTokens := range []float64{2, 10, 100} {
		b := NewBudget(maxTokens, 0.1)
		retries := runCalls(b, Policy{MaxAttempts: 5}, 1000, func() bool { return true })
		// Without the budget: 4 retries per call, 4000 in all.
		if maxTokens >= 4 {
			assert.Positive(t, retries)
		}
		assert.LessOrEqual(t, float64(retries), maxTokens/2, "maxTokens %v", maxTokens)
		assert.Zero(t, b.Tokens())
	}
}

func TestBudgetRecovers(t *testing.T) {
	t.Parallel()
	b := NewBudget(10, 0.1)
	runCalls(b, DefaultPolicy(), 100, func() bool { return true })
	require.False(t, b.AllowRetry())

	// (10/2)/0.1 = 50 successes reach exactly half; one more allows retries.
	runCalls(b, DefaultPolicy(), 50, func() bool { return false })
	assert.False(t, b.AllowRetry())
	runCalls(b, DefaultPolicy(), 1, func() bool { return false })
	assert.True(t, b.AllowRetry())

	// A mostly healthy service (5% failures) keeps retries available: each
	// failure costs what 1/tokenRatio = 10 successes earn.
	n := 0
	retries := runCalls(b, DefaultPolicy(), 1000, func() bool { n++; return n%20 == 0 })
	assert.Equal(t, n/20, retries, "every failure was retried")
	assert.True(t, b.AllowRetry())
}

func TestBudgetConcurrent(t *testing.T) {
	t.Parallel()
	b := NewBudget(10, 0.1)
	var retries atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			retries.Add(int64(runCalls(b, Policy{MaxAttempts: 5}, 200, func() bool { return true })))
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, retries.Load(), int64(5))
	assert.Zero(t, b.Tokens())

	for range 16 {
		wg.Go(func() {
			for range 100 {
				b.OnSuccess()
				_ = b.AllowRetry()
			}
		})
	}
	wg.Wait()
	assert.InDelta(t, 10.0, b.Tokens(), 1e-9)
}
