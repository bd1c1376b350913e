package rpc_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

// notifyServer is a service with a notification method "event" whose
// handler records each run and blocks until release is closed.
type notifyServer struct {
	svc     enc.Name
	s       *rpc.Server
	runs    atomic.Int32
	got     chan string
	release chan struct{}
}

func newNotifyServer(t *testing.T, id *ndnx.Node) *notifyServer {
	ns := &notifyServer{svc: id.Identity().Name(), got: make(chan string, 16), release: make(chan struct{})}
	s, err := rpc.NewServer(id, rpc.ServerConfig{Service: ns.svc})
	require.NoError(t, err)
	require.NoError(t, rpc.Unary(s.Mux, "event", func(ctx context.Context, msg string) (struct{}, error) {
		ns.runs.Add(1)
		ns.got <- msg
		select {
		case <-ns.release:
		case <-ctx.Done():
		}
		return struct{}{}, nil
	}, rpc.MethodOptions{Notification: true}))
	ns.s = s
	return ns
}

// TestNotify: the server acknowledges before the handler finishes (the
// handler is still blocked when Notify returns), the handler gets the
// message, and Shutdown waits for it.
func TestNotify(t *testing.T) {
	svcNode := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "svc")})
	ns := newNotifyServer(t, svcNode)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, ns.s.Start(ctx))

	c, err := rpc.NewClient(ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "user")}), rpc.ClientConfig{})
	require.NoError(t, err)
	method := ns.svc.Append(enc.NewGenericComponent("event"))
	require.NoError(t, c.NotifyName(ctx, method, "disk full", nil))
	require.Equal(t, "disk full", <-ns.got) // running, blocked: the ack came first
	close(ns.release)

	d, err := c.Describe(ctx, ns.svc)
	require.NoError(t, err)
	require.True(t, d.Methods[0].Notification)

	// Unknown method: an error, not a silent loss.
	err = c.NotifyName(ctx, ns.svc.Append(enc.NewGenericComponent("nope")), "x", nil)
	require.Equal(t, codes.Unimplemented, status.Code(err))
	require.NoError(t, ns.s.Shutdown(ctx))
	require.EqualValues(t, 1, ns.runs.Load())
}

// TestNotifyAtLeastOnce: a notification sent while the service is not up
// yet is retransmitted (same request id) until the service acknowledges
// it, and runs exactly once.
func TestNotifyAtLeastOnce(t *testing.T) {
	svcNode := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "svc")})
	ns := newNotifyServer(t, svcNode)
	close(ns.release)
	c, err := rpc.NewClient(ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "user")}), rpc.ClientConfig{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	method := ns.svc.Append(enc.NewGenericComponent("event"))

	// Without AtLeastOnce, one lost attempt is an error.
	err = c.NotifyName(ctx, method, "lost", &rpc.NotifyConfig{AttemptTimeout: 200 * time.Millisecond})
	require.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)

	// A node that swallows the first attempts (as a lossy path would),
	// counting them; then the service starts.
	hole := ndntest.Connect(t, ndnx.Config{})
	var swallowed atomic.Int32
	require.NoError(t, hole.Handle(ns.svc, func(context.Context, *ndnx.Incoming) { swallowed.Add(1) }))
	require.NoError(t, hole.Register(ctx, ns.svc, nil))
	done := make(chan error, 1)
	go func() {
		done <- c.NotifyName(ctx, method, "eventually", &rpc.NotifyConfig{AtLeastOnce: true, AttemptTimeout: 200 * time.Millisecond})
	}()
	for swallowed.Load() < 2 {
		select {
		case <-ctx.Done():
			t.Fatal("the client did not retransmit")
		case <-time.After(10 * time.Millisecond):
		}
	}
	hole.Close()
	require.NoError(t, ns.s.Start(ctx))
	require.NoError(t, <-done)
	require.Equal(t, "eventually", <-ns.got)
	require.NoError(t, ns.s.Shutdown(ctx))
	require.EqualValues(t, 1, ns.runs.Load(), "retransmissions must not run the handler again")
}
