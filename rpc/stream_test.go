package rpc_test

import (
	"context"
	"errors"
	"io"
	"sync"
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

type countReq struct {
	N      int `json:"n"`
	FailAt int `json:"fail_at"` // > 0: fail with FailedPrecondition after this many items
}

// streamFixture is a service with a streaming method "count" that sends
// 0..N-1, recording how many it sent and whether its ctx ended.
type streamFixture struct {
	svc       enc.Name
	node      *ndnx.Node
	s         *rpc.Server
	c         *rpc.Client
	sent      atomic.Int64
	cancelled chan struct{}
}

func newStreamFixture(t *testing.T, drop func(uint64) bool) *streamFixture {
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "svc")})
	f := &streamFixture{svc: node.Identity().Name(), node: node, cancelled: make(chan struct{}, 1)}
	s, err := rpc.NewServer(node, rpc.ServerConfig{Service: f.svc})
	require.NoError(t, err)
	if drop != nil {
		rpc.SetDropStreamItems(s, drop)
	}
	require.NoError(t, rpc.ServerStream(s.Mux, "count", func(ctx context.Context, r countReq, send func(int) error) error {
		for i := range r.N {
			if r.FailAt > 0 && i == r.FailAt {
				return status.Error(codes.FailedPrecondition, "counter jammed")
			}
			if err := send(i); err != nil {
				if ctx.Err() != nil {
					f.cancelled <- struct{}{}
				}
				return err
			}
			f.sent.Add(1)
		}
		return nil
	}, rpc.MethodOptions{Description: "0..n-1"}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Start(ctx))
	t.Cleanup(func() { s.Close() })
	f.s = s
	f.c, err = rpc.NewClient(ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "user")}), rpc.ClientConfig{})
	require.NoError(t, err)
	return f
}

func (f *streamFixture) method() enc.Name { return f.svc.Append(enc.NewGenericComponent("count")) }

func recvAll(t *testing.T, st *rpc.Stream) ([]int, error) {
	var got []int
	for {
		var v int
		err := st.Recv(&v)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return got, nil
			}
			return got, err
		}
		got = append(got, v)
	}
}

func TestServerStream(t *testing.T) {
	f := newStreamFixture(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := f.c.StreamName(ctx, f.method(), countReq{N: 100}, nil)
	require.NoError(t, err)
	got, err := recvAll(t, st)
	require.NoError(t, err)
	require.Len(t, got, 100)
	for i, v := range got {
		require.Equal(t, i, v)
	}
	require.ErrorIs(t, st.Recv(new(int)), io.EOF) // stays at the end
	require.NoError(t, st.Close())

	// An error mid-stream arrives in order, after the items before it.
	st, err = f.c.StreamName(ctx, f.method(), countReq{N: 10, FailAt: 5}, nil)
	require.NoError(t, err)
	got, err = recvAll(t, st)
	require.Equal(t, []int{0, 1, 2, 3, 4}, got)
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	require.NoError(t, st.Close())

	// Called as unary: a clear error.
	err = f.c.CallName(ctx, f.method(), countReq{N: 1}, nil, nil)
	require.Equal(t, codes.Unimplemented, status.Code(err))
}

// TestServerStreamBackpressure: a consumer that stops reading stops the
// producer within the window bound; Close cancels the handler.
func TestServerStreamBackpressure(t *testing.T) {
	f := newStreamFixture(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := f.c.StreamName(ctx, f.method(), countReq{N: 100000}, nil)
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, st.Recv(new(int)))
	}
	// Wait until the producer stalls: its count stops moving.
	var last int64 = -1
	for stable := 0; stable < 5; {
		select {
		case <-ctx.Done():
			t.Fatal("producer never stalled")
		case <-time.After(50 * time.Millisecond):
		}
		if n := f.sent.Load(); n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	// Fetched ahead ≤ StreamWindow beyond what was read, and the server
	// buffers ≤ 2×StreamWindow beyond what it saw asked for.
	require.LessOrEqual(t, last, int64(3+3*rpc.StreamWindow), "producer ran ahead of the consumer")
	require.NoError(t, st.Close())
	select {
	case <-f.cancelled:
	case <-ctx.Done():
		t.Fatal("the handler's ctx did not end after Close")
	}
}

// TestServerStreamUnderLoss: with item Interests dropped (first request of
// every 7th item), the stream still arrives whole and in order.
func TestServerStreamUnderLoss(t *testing.T) {
	defer rpc.SetStreamItemLifetime(300 * time.Millisecond)()
	var mu sync.Mutex
	seen := map[uint64]bool{}
	dropped := 0
	f := newStreamFixture(t, func(seq uint64) bool {
		mu.Lock()
		defer mu.Unlock()
		if seq%7 == 3 && !seen[seq] {
			seen[seq] = true
			dropped++
			return true
		}
		return false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := f.c.StreamName(ctx, f.method(), countReq{N: 60}, nil)
	require.NoError(t, err)
	got, err := recvAll(t, st)
	require.NoError(t, err)
	require.Len(t, got, 60)
	for i, v := range got {
		require.Equal(t, i, v)
	}
	require.NoError(t, st.Close())
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, dropped, 8)
}

// TestServerStreamLost: when the service restarts mid-stream, the client
// is told the stream is gone (NotFound) instead of waiting forever.
func TestServerStreamLost(t *testing.T) {
	f := newStreamFixture(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := f.c.StreamName(ctx, f.method(), countReq{N: 100000}, nil)
	require.NoError(t, err)
	require.NoError(t, st.Recv(new(int)))
	// "Restart": a new server instance for the same service on the same node.
	require.NoError(t, f.s.Shutdown(ctx))
	s2, err := rpc.NewServer(f.node, rpc.ServerConfig{Service: f.svc})
	require.NoError(t, err)
	require.NoError(t, s2.Start(ctx))
	defer s2.Close()
	var last error
	for range 200 {
		if last = st.Recv(new(int)); last != nil {
			break
		}
	}
	require.Equal(t, codes.NotFound, status.Code(last), "%v", last)
	require.NoError(t, st.Close())
}
