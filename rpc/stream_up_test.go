package rpc_test

import (
	"context"
	"errors"
	"io"
	"strconv"
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

type sumReq struct {
	FailAt int `json:"fail_at"` // > 0: fail with FailedPrecondition on this many items
	Early  int `json:"early"`   // > 0: answer after this many items, reading no more
}

type sumResp struct {
	Sum   int   `json:"sum"`
	Items []int `json:"items"`
}

// upFixture is a service with client- and bidirectional-streaming methods:
//
//	sum   (client stream) adds the items;
//	slow  (client stream) reads 3 items, then waits for release;
//	echo  (bidi) answers each item x with 10x;
//	hold  (bidi) reads items until its ctx ends, and reports that.
type upFixture struct {
	svc     enc.Name
	s       *rpc.Server
	c       *rpc.Client
	recvErr chan error // sum: the reader's error, when not io.EOF
	ended   chan error // hold: ctx.Err() when its ctx ended
	held    chan int   // hold: each item it got
	slow    chan *rpc.StreamReader
	release chan struct{}
}

func newUpFixture(t *testing.T, dropDown func(uint64) bool) *upFixture {
	t.Helper()
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "svc")})
	f := &upFixture{svc: node.Identity().Name(), recvErr: make(chan error, 4), ended: make(chan error, 4),
		held: make(chan int, 64), slow: make(chan *rpc.StreamReader, 1), release: make(chan struct{})}
	s, err := rpc.NewServer(node, rpc.ServerConfig{Service: f.svc})
	require.NoError(t, err)
	if dropDown != nil {
		rpc.SetDropStreamItems(s, dropDown)
	}
	require.NoError(t, rpc.ClientStream(s.Mux, "sum", func(ctx context.Context, r sumReq, recv func() (int, error)) (sumResp, error) {
		var out sumResp
		for {
			if r.FailAt > 0 && len(out.Items) == r.FailAt {
				return sumResp{}, status.Error(codes.FailedPrecondition, "adder jammed")
			}
			if r.Early > 0 && len(out.Items) == r.Early {
				return out, nil
			}
			x, err := recv()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				f.recvErr <- err
				return sumResp{}, err
			}
			out.Sum += x
			out.Items = append(out.Items, x)
		}
	}, rpc.MethodOptions{Description: "adds the items"}))
	require.NoError(t, s.HandleClientStream("slow", rpc.ClientStreamHandlerFunc(func(ctx context.Context, _ *rpc.Request, r *rpc.StreamReader) (*rpc.Response, error) {
		n := 0
		for ; n < 3; n++ {
			if err := r.Recv(new(int)); err != nil {
				return nil, err
			}
		}
		f.slow <- r
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		for {
			err := r.Recv(new(int))
			if errors.Is(err, io.EOF) {
				return &rpc.Response{Payload: []byte(strconv.Itoa(n))}, nil
			}
			if err != nil {
				return nil, err
			}
			n++
		}
	}), rpc.MethodOptions{}))
	require.NoError(t, rpc.BidiStream(s.Mux, "echo", func(ctx context.Context, _ struct{}, recv func() (int, error), send func(int) error) error {
		for {
			x, err := recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if x < 0 {
				return status.Error(codes.OutOfRange, "negative")
			}
			if err := send(10 * x); err != nil {
				return err
			}
		}
	}, rpc.MethodOptions{}))
	require.NoError(t, rpc.BidiStream(s.Mux, "hold", func(ctx context.Context, _ struct{}, recv func() (int, error), _ func(int) error) error {
		for {
			x, err := recv()
			if err != nil {
				// The client's cancel may arrive in-band first; the ctx
				// must end too (else this waits for the test's deadline).
				select {
				case <-ctx.Done():
				case <-time.After(20 * time.Second):
				}
				f.ended <- ctx.Err()
				return err
			}
			f.held <- x
		}
	}, rpc.MethodOptions{}))
	require.NoError(t, rpc.Unary(s.Mux, "add", func(_ context.Context, r addReq) (addResp, error) { return addResp{r.A + r.B}, nil },
		rpc.MethodOptions{Idempotent: true}))
	require.NoError(t, s.Start(tctx(t, 10*time.Second)))
	t.Cleanup(func() { s.Close() })
	f.s = s
	f.c = client(t, "user", rpc.ClientConfig{})
	return f
}

func (f *upFixture) method(m string) enc.Name { return f.svc.Append(enc.NewGenericComponent(m)) }

// upload sends 0..n-1 to sum and returns its answer.
func (f *upFixture) upload(t *testing.T, ctx context.Context, n int, cc *rpc.CallConfig) (sumResp, error) {
	t.Helper()
	up, err := f.c.ClientStreamName(ctx, f.method("sum"), sumReq{}, cc)
	require.NoError(t, err)
	defer up.Close()
	for i := range n {
		require.NoError(t, up.Send(i))
	}
	var resp sumResp
	err = up.CloseAndRecv(&resp)
	return resp, err
}

func requireCounting(t *testing.T, items []int, n int) {
	t.Helper()
	require.Len(t, items, n)
	for i, v := range items {
		require.Equal(t, i, v, "item %d out of order", i)
	}
}

func TestUploadClientStream(t *testing.T) {
	f := newUpFixture(t, nil)
	ctx := tctx(t, 30*time.Second)

	resp, err := f.upload(t, ctx, 100, nil)
	require.NoError(t, err)
	require.Equal(t, 4950, resp.Sum)
	requireCounting(t, resp.Items, 100)

	resp, err = f.upload(t, ctx, 0, nil) // an empty stream is a stream
	require.NoError(t, err)
	require.Zero(t, resp.Sum)

	// Items served under a prefix of the client's choosing.
	resp, err = f.upload(t, ctx, 3, &rpc.CallConfig{Upstream: ndntest.Prefix(t)})
	require.NoError(t, err)
	require.Equal(t, 3, resp.Sum)

	// A session-signed call: the items are still signed by the caller's key.
	sc := client(t, "sessions", rpc.ClientConfig{Sessions: true})
	up, err := sc.ClientStreamName(ctx, f.method("sum"), sumReq{}, nil)
	require.NoError(t, err)
	for i := range 5 {
		require.NoError(t, up.Send(i))
	}
	require.NoError(t, up.CloseAndRecv(&resp))
	require.Equal(t, 10, resp.Sum)

	// The handler's error reaches CloseAndRecv.
	up, err = f.c.ClientStreamName(ctx, f.method("sum"), sumReq{FailAt: 2}, nil)
	require.NoError(t, err)
	for i := range 2 {
		require.NoError(t, up.Send(i))
	}
	err = up.CloseAndRecv(nil)
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	require.Equal(t, "adder jammed", status.Convert(err).Message)
	require.NoError(t, up.Close(), "Close after CloseAndRecv is a no-op")

	// A handler that answers early: Send stops with ErrStreamClosed (the
	// server reads no more), and CloseAndRecv has the answer.
	up, err = f.c.ClientStreamName(ctx, f.method("sum"), sumReq{Early: 3}, nil)
	require.NoError(t, err)
	var sendErr error
	for i := 0; i < 10000 && sendErr == nil; i++ {
		sendErr = up.Send(i)
	}
	require.ErrorIs(t, sendErr, rpc.ErrStreamClosed)
	require.NoError(t, up.CloseAndRecv(&resp))
	require.Equal(t, []int{0, 1, 2}, resp.Items)
}

func TestUploadMisuse(t *testing.T) {
	f := newUpFixture(t, nil)
	ctx := tctx(t, 30*time.Second)

	// A client-streaming method called as unary, and the reverse.
	err := f.c.CallName(ctx, f.method("sum"), sumReq{}, nil, &rpc.CallConfig{MaxAttempts: 1})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message, "Client.ClientStream")
	_, err = f.c.ClientStreamName(ctx, f.method("add"), addReq{1, 2}, &rpc.CallConfig{MaxAttempts: 1})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message, "does not take a client stream")

	// Items are signed, so a client stream needs an identity and cannot be public.
	_, err = f.c.ClientStreamName(ctx, f.method("sum"), sumReq{}, &rpc.CallConfig{Public: true})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	anon := client(t, "", rpc.ClientConfig{})
	_, err = anon.ClientStreamName(ctx, f.method("sum"), sumReq{}, nil)
	require.Equal(t, codes.Unauthenticated, status.Code(err))

	// An item too large for one packet.
	up, err := f.c.ClientStreamName(ctx, f.method("sum"), sumReq{}, nil)
	require.NoError(t, err)
	require.Equal(t, codes.InvalidArgument, status.Code(up.SendRaw(make([]byte, rpc.MaxStreamItem+1))))
	require.NoError(t, up.Close())

	// Registration refuses what a stream cannot be.
	for _, opts := range []rpc.MethodOptions{{Public: true}, {Notification: true}} {
		require.ErrorIs(t, f.s.HandleClientStream("x", rpc.ClientStreamHandlerFunc(nil), opts), rpc.ErrBadMethod)
		require.ErrorIs(t, f.s.HandleBidiStream("y", rpc.BidiStreamHandlerFunc(nil), opts), rpc.ErrBadMethod)
	}
	require.ErrorIs(t, f.s.HandleClientStream("sum", rpc.ClientStreamHandlerFunc(nil), rpc.MethodOptions{}), rpc.ErrDuplicateHandler)
	require.ErrorIs(t, f.s.HandleBidiStream("z", nil, rpc.MethodOptions{}), rpc.ErrBadMethod)

	// describe tells the kinds and the items' shape.
	d, err := f.c.Describe(ctx, f.svc)
	require.NoError(t, err)
	kinds := map[string]string{}
	for _, m := range d.Methods {
		switch {
		case m.ClientStream:
			kinds[m.Name] = "client_stream"
		case m.BidiStream:
			kinds[m.Name] = "bidi_stream"
		}
		if m.Name == "sum" {
			require.Equal(t, "number", m.Upstream)
			require.Equal(t, map[string]any{"sum": "number", "items": []any{"number"}}, m.Response)
		}
	}
	require.Equal(t, map[string]string{"sum": "client_stream", "slow": "client_stream", "echo": "bidi_stream", "hold": "bidi_stream"}, kinds)
}

func TestBidiStream(t *testing.T) {
	f := newUpFixture(t, nil)
	ctx := tctx(t, 30*time.Second)

	// Lock-step: each item answered before the next is sent.
	d, err := f.c.BidiStreamName(ctx, f.method("echo"), struct{}{}, nil)
	require.NoError(t, err)
	for i := range 20 {
		require.NoError(t, d.Send(i))
		var v int
		require.NoError(t, d.Recv(&v))
		require.Equal(t, 10*i, v)
	}
	require.NoError(t, d.CloseSend())
	require.ErrorIs(t, d.Send(1), rpc.ErrStreamClosed)
	require.ErrorIs(t, d.Recv(new(int)), io.EOF)
	require.ErrorIs(t, d.Recv(new(int)), io.EOF, "stays at the end")
	require.NoError(t, d.Close())

	// Both directions at once, well past both windows.
	const n = 300
	d, err = f.c.BidiStreamName(ctx, f.method("echo"), struct{}{}, nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	var sendErr error
	go func() {
		defer wg.Done()
		for i := range n {
			if sendErr = d.Send(i); sendErr != nil {
				return
			}
		}
		sendErr = d.CloseSend()
	}()
	for i := range n {
		var v int
		require.NoError(t, d.Recv(&v))
		require.Equal(t, 10*i, v)
	}
	require.ErrorIs(t, d.Recv(new(int)), io.EOF)
	wg.Wait()
	require.NoError(t, sendErr)
	require.NoError(t, d.Close())

	// The handler's error ends the server's stream, in order, and the
	// client's Sends then stop.
	d, err = f.c.BidiStreamName(ctx, f.method("echo"), struct{}{}, nil)
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, d.Send(1))
	require.NoError(t, d.Send(-1))
	var v int
	require.NoError(t, d.Recv(&v))
	require.Equal(t, 10, v)
	err = d.Recv(&v)
	require.Equal(t, codes.OutOfRange, status.Code(err), "%v", err)
	waitFor(t, ctx, func() bool { return errors.Is(d.Send(2), rpc.ErrStreamClosed) })

	// A client-streaming method through a Duplex: its answer is the one item.
	d2, err := f.c.BidiStreamName(ctx, f.method("sum"), sumReq{}, nil)
	require.NoError(t, err)
	defer d2.Close()
	for i := range 4 {
		require.NoError(t, d2.Send(i))
	}
	require.NoError(t, d2.CloseSend())
	var resp sumResp
	require.NoError(t, d2.Recv(&resp))
	require.Equal(t, 6, resp.Sum)
	require.ErrorIs(t, d2.Recv(&resp), io.EOF)
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met before the deadline")
		case <-tick.C:
		}
	}
}

// TestUploadBackpressure: a handler that stops reading stops the client's
// Send within the window bound, and both sides hold bounded buffers.
func TestUploadBackpressure(t *testing.T) {
	f := newUpFixture(t, nil)
	ctx := tctx(t, 30*time.Second)
	up, err := f.c.ClientStreamName(ctx, f.method("slow"), struct{}{}, nil)
	require.NoError(t, err)
	defer up.Close()

	const total = 30000
	var sent atomic.Int64
	done := make(chan error, 1)
	go func() {
		for i := range total {
			if err := up.Send(i); err != nil {
				done <- err
				return
			}
			sent.Add(1)
		}
		done <- nil
	}()
	var r *rpc.StreamReader
	select {
	case r = <-f.slow:
	case <-ctx.Done():
		t.Fatal("the handler never read 3 items")
	}
	// Wait until the sender stalls: its count stops moving.
	last := int64(-1)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for stable := 0; stable < 6; {
		select {
		case <-ctx.Done():
			t.Fatal("the sender never stalled")
		case err := <-done:
			t.Fatalf("the sender finished (%v): no backpressure", err)
		case <-tick.C:
		}
		if n := sent.Load(); n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	// 3 consumed; the server fetched ≤ StreamWindow packets ahead of the
	// handler; the client holds ≤ StreamBufferBytes, and stalled there.
	cost := rpc.StreamItemCost(1, "") // the smallest an item costs
	perPacket := rpc.StreamPacketBudget / (cost - 64)
	require.LessOrEqual(t, last, int64(3+rpc.StreamWindow*perPacket+rpc.StreamBufferBytes/cost), "the client ran ahead of the server")
	require.LessOrEqual(t, rpc.UploadBuffered(up), rpc.StreamBufferBytes)
	require.Greater(t, rpc.UploadBuffered(up), rpc.StreamBufferBytes-rpc.StreamItemCost(5, "json"), "the sender stalled before its bound")
	require.LessOrEqual(t, rpc.StreamReaderBuffered(r), rpc.StreamWindow)
	require.Greater(t, last, int64(3+rpc.StreamWindow), "items are packed")
	require.Less(t, last, int64(total))

	close(f.release)
	require.NoError(t, <-done)
	var got int
	require.NoError(t, up.CloseAndRecv(&got))
	require.Equal(t, total, got, "every item arrived")
}

// lossy drops the first Interest for every 7th item, as a lossy path would.
type lossy struct {
	mu      sync.Mutex
	seen    map[uint64]bool
	dropped int
}

func (l *lossy) drop(seq uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq%7 == 3 && !l.seen[seq] {
		l.seen[seq] = true
		l.dropped++
		return true
	}
	return false
}

func (l *lossy) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// TestUploadUnderLoss: with item Interests dropped on each side, client
// and bidirectional streams still arrive whole and in order.
func TestUploadUnderLoss(t *testing.T) {
	defer rpc.SetStreamItemLifetime(300 * time.Millisecond)()
	down := &lossy{seen: map[uint64]bool{}}
	f := newUpFixture(t, down.drop)
	ctx := tctx(t, 60*time.Second)

	// Enough items that they fill several packets under loss: packing,
	// loss and order meet.
	const n = 3000
	upLoss := &lossy{seen: map[uint64]bool{}}
	cc := &rpc.CallConfig{}
	rpc.SetDropUpstreamItems(cc, upLoss.drop)
	resp, err := f.upload(t, ctx, n, cc)
	require.NoError(t, err)
	requireCounting(t, resp.Items, n)
	require.GreaterOrEqual(t, upLoss.count(), 1)

	upLoss = &lossy{seen: map[uint64]bool{}}
	cc = &rpc.CallConfig{}
	rpc.SetDropUpstreamItems(cc, upLoss.drop)
	d, err := f.c.BidiStreamName(ctx, f.method("echo"), struct{}{}, cc)
	require.NoError(t, err)
	defer d.Close()
	sendErr := make(chan error, 1)
	go func() {
		for i := range n {
			if err := d.Send(i); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- d.CloseSend()
	}()
	for i := range n {
		var v int
		require.NoError(t, d.Recv(&v))
		require.Equal(t, 10*i, v)
	}
	require.ErrorIs(t, d.Recv(new(int)), io.EOF)
	require.NoError(t, <-sendErr)
	require.GreaterOrEqual(t, upLoss.count(), 1)
	require.GreaterOrEqual(t, down.count(), 1)
}

// TestUploadCancel: a client that gives up cancels the handler's ctx, and
// its own blocked calls return.
func TestUploadCancel(t *testing.T) {
	f := newUpFixture(t, nil)
	ctx := tctx(t, 30*time.Second)

	d, err := f.c.BidiStreamName(ctx, f.method("hold"), struct{}{}, nil)
	require.NoError(t, err)
	require.NoError(t, d.Send(7))
	require.Equal(t, 7, <-f.held)
	recvDone := make(chan error, 1)
	go func() { recvDone <- d.Recv(new(int)) }() // blocks: hold sends nothing
	require.NoError(t, d.Close())
	require.Equal(t, codes.Canceled, status.Code(<-recvDone))
	select {
	case err := <-f.ended:
		require.ErrorIs(t, err, context.Canceled)
	case <-ctx.Done():
		t.Fatal("the handler's ctx did not end after Close")
	}
	require.ErrorIs(t, d.Send(1), rpc.ErrStreamClosed)

	// Cancelling the call's ctx unblocks a Send stalled by backpressure.
	cctx, cancel := context.WithCancel(ctx)
	up, err := f.c.ClientStreamName(cctx, f.method("slow"), struct{}{}, nil)
	require.NoError(t, err)
	sendDone := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			if err := up.Send(i); err != nil {
				sendDone <- err
				return
			}
		}
	}()
	<-f.slow // the handler stops reading after 3
	waitFor(t, ctx, func() bool { return rpc.UploadBuffered(up) > rpc.StreamBufferBytes-rpc.StreamItemCost(10, "json") })
	cancel()
	require.Equal(t, codes.Canceled, status.Code(<-sendDone))
	require.NoError(t, up.Close())
}

// TestUploadWrongSigner: items signed by another identity than the call's
// are rejected, even though that identity is trusted.
func TestUploadWrongSigner(t *testing.T) {
	f := newUpFixture(t, nil)
	ctx := tctx(t, 30*time.Second)
	mallory := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "mallory")})
	cc := &rpc.CallConfig{}
	rpc.SetUpstreamSigner(cc, mallory)
	up, err := f.c.ClientStreamName(ctx, f.method("sum"), sumReq{}, cc)
	require.NoError(t, err)
	defer up.Close()
	_ = up.Send(1) // may already fail: the server stops reading at the first bad item
	err = up.CloseAndRecv(nil)
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message, "not by the caller's key")
	select {
	case err := <-f.recvErr:
		require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	case <-ctx.Done():
		t.Fatal("the handler's reader did not fail")
	}
}

// TestUploadServerShutdown: a server shutting down ends open streams; the
// client hears Unavailable at once rather than at its deadline.
func TestUploadServerShutdown(t *testing.T) {
	f := newUpFixture(t, nil)
	ctx := tctx(t, 30*time.Second)
	d, err := f.c.BidiStreamName(ctx, f.method("hold"), struct{}{}, nil)
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, d.Send(1))
	require.Equal(t, 1, <-f.held)

	start := time.Now()
	require.NoError(t, f.s.Shutdown(ctx))
	require.ErrorIs(t, <-f.ended, context.Canceled)
	// The client's Interests waiting at the server get the end,
	// Unavailable; one that reaches the server after its streams closed
	// hears that the stream is gone (NotFound). Either way, at once.
	err = d.Recv(new(int))
	require.Contains(t, []codes.Code{codes.Unavailable, codes.NotFound}, status.Code(err), "%v", err)
	require.Less(t, time.Since(start), 10*time.Second)
	waitFor(t, ctx, func() bool { return errors.Is(d.Send(2), rpc.ErrStreamClosed) })
}

// TestUploadPacking: a client streaming many small items packs them into
// few packets, in both a client and a bidirectional stream, and the
// server's answers to a bidi stream arrive packed too.
func TestUploadPacking(t *testing.T) {
	f := newUpFixture(t, nil)
	ctx := tctx(t, 30*time.Second)
	const n = 3000

	up := &packetLog{m: map[uint64]int{}}
	cc := &rpc.CallConfig{}
	rpc.SetUpstreamPacketHook(cc, up.hook)
	resp, err := f.upload(t, ctx, n, cc)
	require.NoError(t, err)
	requireCounting(t, resp.Items, n)
	packets, items, most := up.stats()
	require.Equal(t, n+1, items, "every item and the end went out once")
	require.Less(t, packets, n/10, "items were not packed")
	require.Greater(t, most, 10)

	up = &packetLog{m: map[uint64]int{}}
	down := &packetLog{m: map[uint64]int{}}
	cc = &rpc.CallConfig{}
	rpc.SetUpstreamPacketHook(cc, up.hook)
	rpc.SetStreamPacketHook(cc, down.hook)
	d, err := f.c.BidiStreamName(ctx, f.method("echo"), struct{}{}, cc)
	require.NoError(t, err)
	defer d.Close()
	for i := range n { // all sent before any is read: both sides queue
		require.NoError(t, d.Send(i))
	}
	require.NoError(t, d.CloseSend())
	for i := range n {
		var v int
		require.NoError(t, d.Recv(&v))
		require.Equal(t, 10*i, v)
	}
	require.ErrorIs(t, d.Recv(new(int)), io.EOF)
	packets, _, _ = up.stats()
	require.Less(t, packets, n/10, "upstream items were not packed")
	packets, items, _ = down.stats()
	require.Equal(t, n+1, items)
	require.Less(t, packets, n/10, "the server's items were not packed")
}

// packetLog records the packets of a stream: seq → number of items.
type packetLog struct {
	mu sync.Mutex
	m  map[uint64]int
}

func (p *packetLog) hook(seq uint64, items int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[seq] = items
}

// stats returns how many packets there were, their items in all, and the
// most items in one.
func (p *packetLog) stats() (n, items, most int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range p.m {
		n++
		items += k
		most = max(most, k)
	}
	return n, items, most
}
