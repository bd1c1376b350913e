package rpc_test

import (
	"context"
	"encoding/binary"
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
	require.NoError(t, s.HandleStream("blobs", rpc.StreamHandlerFunc(func(ctx context.Context, r *rpc.Request, w *rpc.StreamWriter) error {
		var req blobReq
		if err := r.Decode(&req); err != nil {
			return err
		}
		for i := range req.N {
			size := req.Size
			if len(req.Sizes) > 0 {
				size = req.Sizes[i%len(req.Sizes)]
			}
			b := make([]byte, max(size, 4))
			binary.BigEndian.PutUint32(b, uint32(i))
			if err := w.Send(b); err != nil {
				if ctx.Err() != nil {
					f.cancelled <- struct{}{}
				}
				return err
			}
			f.sent.Add(1)
		}
		return nil
	}), rpc.MethodOptions{Description: "n numbered blobs"}))
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

// blobReq asks "blobs" for N items of Size bytes (or of Sizes, in turn),
// each starting with its index.
type blobReq struct {
	N     int   `json:"n"`
	Size  int   `json:"size"`
	Sizes []int `json:"sizes"`
}

func (f *streamFixture) blobs() enc.Name { return f.svc.Append(enc.NewGenericComponent("blobs")) }

// recvBlobs reads st to its end, checking that item i is the i-th blob of
// the right size; it returns how many arrived.
func recvBlobs(t *testing.T, st *rpc.Stream, req blobReq) int {
	t.Helper()
	n := 0
	for {
		b, err := st.RecvRaw()
		if errors.Is(err, io.EOF) {
			return n
		}
		require.NoError(t, err)
		size := req.Size
		if len(req.Sizes) > 0 {
			size = req.Sizes[n%len(req.Sizes)]
		}
		require.Len(t, b, max(size, 4))
		require.Equal(t, uint32(n), binary.BigEndian.Uint32(b), "item %d out of order", n)
		n++
	}
}

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
// producer: the server holds at most StreamBufferBytes (in item bytes, not
// packets) and the client at most StreamWindow packets; Close cancels the
// handler.
func TestServerStreamBackpressure(t *testing.T) {
	f := newStreamFixture(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const size = 1000
	st, err := f.c.StreamName(ctx, f.blobs(), blobReq{N: 100000, Size: size}, nil)
	require.NoError(t, err)
	for range 3 {
		_, err := st.RecvRaw()
		require.NoError(t, err)
	}
	// Wait until the producer stalls: its count stops moving.
	var last int64 = -1
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for stable := 0; stable < 5; {
		select {
		case <-ctx.Done():
			t.Fatal("producer never stalled")
		case <-tick.C:
		}
		if n := f.sent.Load(); n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	cost := rpc.StreamItemCost(size, "") // the smallest an item can cost
	most := rpc.StreamItemCost(size, "json")
	held := rpc.ServerStreamsHeld(f.s)
	require.Len(t, held, 1)
	require.LessOrEqual(t, held[0], rpc.StreamBufferBytes, "the server holds more than its bound")
	require.Greater(t, held[0], rpc.StreamBufferBytes-most, "the producer stalled before its bound")
	perPacket := rpc.StreamPacketBudget / (cost - 64)
	require.LessOrEqual(t, last, int64(3+rpc.StreamWindow*perPacket+rpc.StreamBufferBytes/cost), "producer ran ahead of the consumer")
	require.NoError(t, st.Close())
	select {
	case <-f.cancelled:
	case <-ctx.Done():
		t.Fatal("the handler's ctx did not end after Close")
	}
}

// TestServerStreamPacking: many small items sent at once travel many to a
// packet, in order and complete; a lone item still leaves at once (the
// lock-step bidi test covers that).
func TestServerStreamPacking(t *testing.T) {
	f := newStreamFixture(t, nil)
	ctx := tctx(t, 30*time.Second)
	pk := &packetLog{m: map[uint64]int{}}
	cc := &rpc.CallConfig{}
	rpc.SetStreamPacketHook(cc, pk.hook)
	const n = 5000
	st, err := f.c.StreamName(ctx, f.method(), countReq{N: n}, cc)
	require.NoError(t, err)
	got, err := recvAll(t, st)
	require.NoError(t, err)
	requireCounting(t, got, n)
	require.NoError(t, st.Close())
	packets, items, most := pk.stats()
	require.Equal(t, n+1, items, "every item and the end arrived once")
	require.Less(t, packets, n/10, "items were not packed")
	require.Greater(t, most, 100)
}

// TestServerStreamLargeItems: items near MaxStreamItem travel one to a
// packet, and one larger than a packet's budget still travels, alone.
func TestServerStreamLargeItems(t *testing.T) {
	f := newStreamFixture(t, nil)
	ctx := tctx(t, 30*time.Second)
	for _, req := range []blobReq{
		{N: 40, Size: rpc.MaxStreamItem},
		{N: 30, Sizes: []int{10, rpc.MaxStreamItem, 10, 10, rpc.StreamPacketBudget + 100}},
	} {
		pk := &packetLog{m: map[uint64]int{}}
		cc := &rpc.CallConfig{}
		rpc.SetStreamPacketHook(cc, pk.hook)
		st, err := f.c.StreamName(ctx, f.blobs(), req, cc)
		require.NoError(t, err)
		require.Equal(t, req.N, recvBlobs(t, st, req))
		require.NoError(t, st.Close())
		packets, items, most := pk.stats()
		require.Equal(t, req.N+1, items)
		if req.Size > 0 {
			require.LessOrEqual(t, most, 2, "a large item shares a packet only with the end")
			require.GreaterOrEqual(t, packets, req.N)
		}
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
	// Items of 3000 bytes: two to a packet, so packing and loss meet.
	pk := &packetLog{m: map[uint64]int{}}
	cc := &rpc.CallConfig{}
	rpc.SetStreamPacketHook(cc, pk.hook)
	req := blobReq{N: 150, Size: 3000}
	st, err := f.c.StreamName(ctx, f.blobs(), req, cc)
	require.NoError(t, err)
	require.Equal(t, req.N, recvBlobs(t, st, req))
	require.NoError(t, st.Close())
	_, _, most := pk.stats()
	require.GreaterOrEqual(t, most, 2, "items were not packed")
	mu.Lock()
	require.GreaterOrEqual(t, dropped, 8)
	mu.Unlock()

	// Many small items, packed many to a packet, under the same loss.
	st, err = f.c.StreamName(ctx, f.method(), countReq{N: 3000}, nil)
	require.NoError(t, err)
	got, err := recvAll(t, st)
	require.NoError(t, err)
	requireCounting(t, got, 3000)
	require.NoError(t, st.Close())
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
	// The client may hold StreamWindow packets of many items each.
	for range 100000 {
		if last = st.Recv(new(int)); last != nil {
			break
		}
	}
	require.Equal(t, codes.NotFound, status.Code(last), "%v", last)
	require.NoError(t, st.Close())
}
