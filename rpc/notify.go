package rpc

import (
	"context"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

// DefaultNotifyAttemptTimeout is how long Notify waits for one
// acknowledgement before sending again (AtLeastOnce): servers acknowledge
// a notification before running it, so an ack comes within a round trip.
const DefaultNotifyAttemptTimeout = time.Second

// NotifyConfig tunes Notify; nil means one attempt.
type NotifyConfig struct {
	// AtLeastOnce sends the notification again (same request id, backing
	// off) until the server acknowledges it or ctx ends. The server runs a
	// retransmitted notification once, so delivery is exactly once while
	// the server keeps its reply cache.
	AtLeastOnce bool
	// AttemptTimeout bounds the wait for each acknowledgement.
	// Default DefaultNotifyAttemptTimeout.
	AttemptTimeout time.Duration
	// Metadata is sent with the notification.
	Metadata Metadata
}

// Notify sends a notification to method (a method the server registered
// with MethodOptions.Notification) and returns once the server
// acknowledged receipt: the handler runs after that, and its result is not
// returned. The notification is signed (a public one cannot be
// deduplicated). Errors are as Call's: DeadlineExceeded when no
// acknowledgement came in time (the server may or may not have received
// it; use AtLeastOnce), PermissionDenied, Unauthenticated, Unimplemented...
func (c *Client) Notify(ctx context.Context, method string, req any, nc *NotifyConfig) error {
	name, err := enc.NameFromStr(method)
	if err != nil || len(name) < 2 {
		return status.Errorf(codes.InvalidArgument, "bad method name %q: want /<service>/<method>", method)
	}
	return c.NotifyName(ctx, name, req, nc)
}

// NotifyName is Notify with a parsed name.
func (c *Client) NotifyName(ctx context.Context, method enc.Name, req any, nc *NotifyConfig) error {
	if nc == nil {
		nc = &NotifyConfig{}
	}
	cc := &CallConfig{Metadata: nc.Metadata, MaxAttempts: 1, AttemptTimeout: nc.AttemptTimeout, atLeastOnce: nc.AtLeastOnce}
	if cc.AttemptTimeout <= 0 {
		cc.AttemptTimeout = DefaultNotifyAttemptTimeout
	}
	return c.invoke(ctx, method, req, nil, cc)
}
