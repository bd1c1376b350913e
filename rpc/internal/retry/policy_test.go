package retry

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Status code numbers used in tests (rpc/codes values).
const (
	tUnknown           uint32 = 2
	tInvalidArgument   uint32 = 3
	tDeadlineExceeded  uint32 = 4
	tResourceExhausted uint32 = 8
	tUnavailable       uint32 = 14
)

func TestPolicyShouldRetry(t *testing.T) {
	t.Parallel()
	custom := Policy{MaxAttempts: 5, RetryableCodes: []uint32{tUnavailable, tDeadlineExceeded}}
	tests := []struct {
		name    string
		p       Policy
		attempt int
		code    uint32
		want    bool
	}{
		{"default first attempt unavailable", DefaultPolicy(), 1, tUnavailable, true},
		{"default second attempt unavailable", DefaultPolicy(), 2, tUnavailable, true},
		{"default third attempt is the last", DefaultPolicy(), 3, tUnavailable, false},
		{"default beyond max", DefaultPolicy(), 10, tUnavailable, false},
		{"default deadline not retried", DefaultPolicy(), 1, tDeadlineExceeded, false},
		{"default exhausted not retried", DefaultPolicy(), 1, tResourceExhausted, false},
		{"default invalid argument not retried", DefaultPolicy(), 1, tInvalidArgument, false},
		{"default OK not retried", DefaultPolicy(), 1, 0, false},
		{"zero policy is default", Policy{}, 2, tUnavailable, true},
		{"zero policy max 3", Policy{}, 3, tUnavailable, false},
		{"max attempts 1 disables", Policy{MaxAttempts: 1}, 1, tUnavailable, false},
		{"custom deadline", custom, 4, tDeadlineExceeded, true},
		{"custom max", custom, 5, tDeadlineExceeded, false},
		{"custom unknown", custom, 1, tUnknown, false},
		{"custom replaces default", Policy{RetryableCodes: []uint32{tDeadlineExceeded}}, 1, tUnavailable, false},
		{"empty slice is default", Policy{RetryableCodes: []uint32{}}, 1, tUnavailable, true},
		{"OK listed is never retried", Policy{RetryableCodes: []uint32{0}}, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.p.ShouldRetry(tt.attempt, tt.code))
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      Policy
		wantErr bool
	}{
		{"zero", Policy{}, false},
		{"default", DefaultPolicy(), false},
		{"custom", Policy{MaxAttempts: 7, RetryableCodes: []uint32{4, 14}}, false},
		{"negative attempts", Policy{MaxAttempts: -1}, true},
		{"OK retryable", Policy{RetryableCodes: []uint32{14, 0}}, true},
		{"bad backoff", Policy{Backoff: Backoff{Jitter: 2}}, true},
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

func TestDefaultPolicyFreshSlice(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	p.RetryableCodes[0] = tDeadlineExceeded
	assert.Equal(t, []uint32{tUnavailable}, DefaultPolicy().RetryableCodes)
}
