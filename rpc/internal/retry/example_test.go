package retry_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/ndn-invoke/ndn-invoke/rpc/internal/retry"
)

// Example runs the client's attempt loop from the package doc against a
// service that is unavailable twice and then answers, on a fake clock and
// with a fixed random number so the delays are reproducible.
func Example() {
	const ok, unavailable = 0, 14
	policy := retry.DefaultPolicy()
	budget := retry.NewBudget(retry.DefaultBudgetTokens, retry.DefaultBudgetRatio)
	breaker, err := retry.NewBreaker(retry.DefaultBreakerConfig())
	if err != nil {
		panic(err)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	answers := []uint32{unavailable, unavailable, ok}

	for attempt := 1; ; attempt++ {
		done, err := breaker.Allow(now)
		if err != nil {
			fmt.Println(err)
			return
		}
		code := answers[attempt-1]
		now = now.Add(20 * time.Millisecond) // the call takes 20ms
		if code == unavailable {
			done(now, retry.Failure)
		} else {
			done(now, retry.Success)
		}
		fmt.Printf("attempt %d: code %d\n", attempt, code)
		if code == ok {
			budget.OnSuccess()
			break
		}
		if !policy.Retryable(code) {
			return
		}
		budget.OnFailure()
		if !policy.ShouldRetry(attempt, code) || !budget.AllowRetry() {
			return
		}
		delay := policy.Backoff.Delay(attempt, 0.5) // rand.Float64() in the client
		fmt.Printf("sleep %v\n", delay)
		now = now.Add(delay)
	}
	fmt.Printf("tokens %.1f, breaker %v\n", budget.Tokens(), breaker.State(now))
	// Output:
	// attempt 1: code 14
	// sleep 50ms
	// attempt 2: code 14
	// sleep 100ms
	// attempt 3: code 0
	// tokens 8.1, breaker closed
}

// ExampleBreaker shows a breaker opening under failures, failing fast, and
// closing again after its probes succeed.
func ExampleBreaker() {
	b, err := retry.NewBreaker(retry.BreakerConfig{
		MinRequests:       4,
		OpenFor:           5 * time.Second,
		HalfOpenSuccesses: 2,
		OnStateChange: func(from, to retry.State) {
			fmt.Printf("%v -> %v\n", from, to)
		},
	})
	if err != nil {
		panic(err)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 4 {
		done, _ := b.Allow(now)
		done(now, retry.Failure)
	}
	_, err = b.Allow(now.Add(time.Second))
	fmt.Println(errors.Is(err, retry.ErrOpen))

	now = now.Add(5 * time.Second)
	for range 2 {
		done, err := b.Allow(now)
		if err != nil {
			panic(err)
		}
		done(now, retry.Success)
	}
	// Output:
	// closed -> open
	// true
	// open -> half-open
	// half-open -> closed
}
