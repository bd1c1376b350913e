// Package retry holds the rpc client's resilience cores: Policy with its
// Backoff (whether and when to try a failed call again), Budget (gRPC retry
// throttling, which keeps retries from multiplying the load on a failing
// service) and Breaker (a circuit breaker per service, which stops calling a
// service that mostly fails and probes it again after a cool-down).
//
// All three are pure (C4): they take the time and the random numbers they
// need as arguments, do no I/O, start no goroutines and set no timers. The
// client owns the clock, the random source and the sleeping, so the cores
// are tested by stepping a fake time.
//
// # Composition
//
// The client keeps one Budget and one Breaker per service and runs this
// loop for every call (codes are rpc/codes numbers):
//
//	for attempt := 1; ; attempt++ {
//		done, err := breaker.Allow(clock.Now())
//		if err != nil {
//			return err // ErrOpen: fail fast, do not touch the network
//		}
//		code, err := call(ctx) // the same request id on every attempt
//		done(clock.Now(), outcomeOf(ctx, code, err))
//		if code == OK {
//			budget.OnSuccess()
//			return nil
//		}
//		if !policy.Retryable(code) {
//			return err
//		}
//		budget.OnFailure()
//		if !policy.ShouldRetry(attempt, code) || !budget.AllowRetry() {
//			return err
//		}
//		// Sleep on the client's clock; return ctx.Err() if ctx ends first.
//		if err := sleep(ctx, policy.Backoff.Delay(attempt, rand.Float64())); err != nil {
//			return err
//		}
//	}
//
// outcomeOf is the caller's choice of what counts as a failure of the
// service: Failure for Unavailable, DeadlineExceeded, Internal, Unknown and
// network errors; Ignored when the caller's own ctx was canceled; Success
// otherwise, because InvalidArgument or NotFound prove the service is up.
// Every attempt goes through the breaker, so retries of an open service fail
// fast with ErrOpen instead of waiting out their backoff.
//
// Retrying calls that are not idempotent is safe here, unlike in gRPC,
// because the server de-duplicates attempts by request id (see Policy).
//
// # Concurrency
//
// Backoff and Policy are values without state. Budget and Breaker are safe
// for concurrent use; each has one mutex, mu, and neither takes any other
// lock, so there is no lock order. Breaker calls BreakerConfig.OnStateChange
// on the goroutine whose Allow, State or done call caused the transition,
// after releasing its lock.
package retry
