package retry

import "fmt"

// Policy defaults; see DefaultPolicy.
const (
	defaultMaxAttempts = 3
	// codeUnavailable is rpc/codes.Unavailable. This package takes codes as
	// their wire numbers so that it imports nothing of ours.
	codeUnavailable uint32 = 14
)

// Policy decides whether a failed call is attempted again.
//
// Retrying is safe here for calls that are not idempotent, unlike in gRPC:
// every attempt of one call carries the same request id, and the server
// de-duplicates by request id, answering a repeated request from its cache
// of recent responses instead of running the handler again. A retry
// therefore cannot execute a call twice as long as the whole retry span
// (MaxAttempts attempts with their deadlines plus the backoff delays) fits
// in the server's de-duplication window. Whether a particular method may be
// retried at all remains the caller's decision: it simply does not consult
// the Policy for calls it considers unsafe.
//
// A zero field means its default (A3). A Policy is not modified by its
// methods and is safe for concurrent use as long as nobody writes
// RetryableCodes.
type Policy struct {
	// MaxAttempts is the total number of attempts, including the first.
	// Default 3; 1 disables retries. Unlike gRPC it is not capped at 5:
	// Budget bounds the extra load retries can cause.
	MaxAttempts int
	// Backoff gives the delay before each retry.
	Backoff Backoff
	// RetryableCodes lists the status code numbers (rpc/codes values) after
	// which a call is retried. Default (nil or empty) is gRPC's: only
	// Unavailable (14), the one code that says the service did not handle
	// the request. DeadlineExceeded, ResourceExhausted and the rest are
	// retried only when configured: a deadline that fired once is likely to
	// fire again, and retrying exhaustion adds load where there is too
	// much. OK (0) is not allowed.
	RetryableCodes []uint32
}

// DefaultPolicy returns 3 attempts, DefaultBackoff, and retries on
// Unavailable only. Each call returns a fresh RetryableCodes slice.
func DefaultPolicy() Policy {
	return Policy{
		MaxAttempts:    defaultMaxAttempts,
		Backoff:        DefaultBackoff(),
		RetryableCodes: []uint32{codeUnavailable},
	}
}

// Validate reports a field out of range, wrapping ErrInvalidConfig.
func (p Policy) Validate() error {
	if p.MaxAttempts < 0 {
		return fmt.Errorf("%w: Policy.MaxAttempts %d is negative", ErrInvalidConfig, p.MaxAttempts)
	}
	for _, c := range p.RetryableCodes {
		if c == 0 {
			return fmt.Errorf("%w: Policy.RetryableCodes contains OK (0)", ErrInvalidConfig)
		}
	}
	if err := p.Backoff.Validate(); err != nil {
		return fmt.Errorf("Policy.Backoff: %w", err)
	}
	return nil
}

// Retryable reports whether code is one of RetryableCodes (Unavailable when
// RetryableCodes is empty). The caller uses it to decide whether a failure
// is charged to the Budget.
func (p Policy) Retryable(code uint32) bool {
	if len(p.RetryableCodes) == 0 {
		return code == codeUnavailable
	}
	for _, c := range p.RetryableCodes {
		if c == code && c != 0 {
			return true
		}
	}
	return false
}

// ShouldRetry reports whether another attempt may follow the attempt-th
// attempt (1 for the first), which failed with code: true when code is
// retryable and fewer than MaxAttempts attempts have been made. It does not
// consult the Budget, which the caller checks as well.
func (p Policy) ShouldRetry(attempt int, code uint32) bool {
	maxAttempts := p.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = defaultMaxAttempts
	}
	return attempt < maxAttempts && p.Retryable(code)
}
