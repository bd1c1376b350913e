package rpc_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codec"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

type addReq struct{ A, B int }
type addResp struct{ Sum int }

// fixture is a started service whose identity is its name, so clients'
// default signer check accepts its replies.
type fixture struct {
	svc    enc.Name
	server *rpc.Server
	node   *ndnx.Node
}

func newFixture(t *testing.T, cfg rpc.ServerConfig, register func(*rpc.Server)) *fixture {
	t.Helper()
	id := ndntest.Identity(t, "svc")
	node := ndntest.Connect(t, ndnx.Config{Identity: id})
	cfg.Service = id.Name()
	s, err := rpc.NewServer(node, cfg)
	require.NoError(t, err)
	register(s)
	require.NoError(t, s.Start(tctx(t, 5*time.Second)))
	t.Cleanup(func() { s.Close() })
	return &fixture{svc: id.Name(), server: s, node: node}
}

func (f *fixture) method(m string) string { return f.svc.String() + "/" + m }

func client(t *testing.T, name string, cfg rpc.ClientConfig) *rpc.Client {
	t.Helper()
	var ncfg ndnx.Config
	if name != "" {
		ncfg.Identity = ndntest.Identity(t, name)
	}
	c, err := rpc.NewClient(ndntest.Connect(t, ncfg), cfg)
	require.NoError(t, err)
	return c
}

func tctx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func addService(s *rpc.Server) {
	_ = rpc.Unary(s.Mux, "add", func(_ context.Context, r addReq) (addResp, error) { return addResp{r.A + r.B}, nil }, rpc.MethodOptions{Idempotent: true})
	_ = rpc.Unary(s.Mux, "div", func(_ context.Context, r addReq) (addResp, error) {
		if r.B == 0 {
			return addResp{}, status.Error(codes.InvalidArgument, "division by zero")
		}
		return addResp{r.A / r.B}, nil
	}, rpc.MethodOptions{Idempotent: true})
}

func TestUnaryCall(t *testing.T) {
	f := newFixture(t, rpc.ServerConfig{}, addService)
	c := client(t, "alice", rpc.ClientConfig{})
	var out addResp
	require.NoError(t, c.Call(tctx(t, 5*time.Second), f.method("add"), addReq{2, 3}, &out, nil))
	require.Equal(t, 5, out.Sum)

	err := c.Call(tctx(t, 5*time.Second), f.method("div"), addReq{1, 0}, &out, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Contains(t, err.Error(), "division by zero")

	err = c.Call(tctx(t, 5*time.Second), f.method("nope"), addReq{}, &out, nil)
	require.Equal(t, codes.Unimplemented, status.Code(err))
}

func TestUnsignedCallToPrivateMethod(t *testing.T) {
	f := newFixture(t, rpc.ServerConfig{}, addService)
	anon := client(t, "", rpc.ClientConfig{})
	err := anon.Call(tctx(t, 5*time.Second), f.method("add"), addReq{1, 1}, nil, &rpc.CallConfig{Public: true})
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	// Without Public, the client itself refuses: it has no identity.
	err = anon.Call(tctx(t, 5*time.Second), f.method("add"), addReq{1, 1}, nil, nil)
	require.Equal(t, codes.Unauthenticated, status.Code(err))
}

func TestPolicyDenied(t *testing.T) {
	policy, err := security.ParsePolicy("allow /ndntest/id/alice/<...> to call /<...>")
	require.NoError(t, err)
	f := newFixture(t, rpc.ServerConfig{Policy: policy}, addService)
	require.NoError(t, client(t, "alice", rpc.ClientConfig{}).Call(tctx(t, 5*time.Second), f.method("add"), addReq{1, 1}, nil, nil))
	err = client(t, "bob", rpc.ClientConfig{}).Call(tctx(t, 5*time.Second), f.method("add"), addReq{1, 1}, nil, nil)
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
}

func TestDeadline(t *testing.T) {
	var sawDeadline atomic.Bool
	f := newFixture(t, rpc.ServerConfig{}, func(s *rpc.Server) {
		_ = rpc.Unary(s.Mux, "slow", func(ctx context.Context, ms int) (int, error) {
			_, ok := ctx.Deadline()
			sawDeadline.Store(ok)
			select {
			case <-time.After(time.Duration(ms) * time.Millisecond):
				return ms, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}, rpc.MethodOptions{Idempotent: true})
	})
	c := client(t, "alice", rpc.ClientConfig{})
	start := time.Now()
	err := c.Call(tctx(t, 300*time.Millisecond), f.method("slow"), 2000, nil, nil)
	require.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
	require.Less(t, time.Since(start), 1500*time.Millisecond)
	require.True(t, sawDeadline.Load(), "the handler's ctx carries the caller's deadline")
	var got int
	require.NoError(t, c.Call(tctx(t, 3*time.Second), f.method("slow"), 50, &got, nil))
	require.Equal(t, 50, got)
}

func TestRetryUntilAvailable(t *testing.T) {
	var calls atomic.Int32
	f := newFixture(t, rpc.ServerConfig{}, func(s *rpc.Server) {
		_ = rpc.Unary(s.Mux, "flaky", func(context.Context, int) (int, error) {
			if calls.Add(1) < 3 {
				return 0, status.Error(codes.Unavailable, "warming up")
			}
			return 42, nil
		}, rpc.MethodOptions{Idempotent: true})
	})
	c := client(t, "alice", rpc.ClientConfig{Retry: rpc.RetryPolicy{MaxAttempts: 4, InitialBackoff: 10 * time.Millisecond}})
	var got int
	require.NoError(t, c.Call(tctx(t, 5*time.Second), f.method("flaky"), 0, &got, nil))
	require.Equal(t, 42, got)
	require.Equal(t, int32(3), calls.Load())
}

func TestCircuitBreakerAndFallback(t *testing.T) {
	var calls atomic.Int32
	f := newFixture(t, rpc.ServerConfig{}, func(s *rpc.Server) {
		_ = rpc.Unary(s.Mux, "down", func(context.Context, int) (int, error) {
			calls.Add(1)
			return 0, status.Error(codes.Unavailable, "down")
		}, rpc.MethodOptions{Idempotent: true})
	})
	var fallbacks atomic.Int32
	c := client(t, "alice", rpc.ClientConfig{
		Retry:   rpc.RetryPolicy{MaxAttempts: 1},
		Breaker: rpc.BreakerConfig{MinRequests: 5, OpenFor: time.Minute},
		Fallback: func(_ context.Context, _ enc.Name, err error) ([]byte, error) {
			fallbacks.Add(1)
			return []byte("7"), nil
		},
	})
	for range 20 {
		var got int
		require.NoError(t, c.Call(tctx(t, 3*time.Second), f.method("down"), 0, &got, nil))
		require.Equal(t, 7, got, "the fallback answers")
	}
	require.Equal(t, int32(20), fallbacks.Load())
	require.LessOrEqual(t, calls.Load(), int32(6), "the open breaker stops calls from reaching the service")
}

// TestExactlyOnce: retransmissions of a non-idempotent call (same request
// id, re-signed) run the handler once; all get the same reply.
func TestExactlyOnce(t *testing.T) {
	var runs atomic.Int32
	release := make(chan struct{})
	f := newFixture(t, rpc.ServerConfig{}, func(s *rpc.Server) {
		_ = rpc.Unary(s.Mux, "charge", func(ctx context.Context, n int) (int, error) {
			r := runs.Add(1)
			<-release
			return int(r), nil
		}, rpc.MethodOptions{})
	})
	// The first attempt's deadline passes while the handler is blocked; the
	// client retries DeadlineExceeded with the same request id.
	c := client(t, "alice", rpc.ClientConfig{Retry: rpc.RetryPolicy{MaxAttempts: 5, InitialBackoff: 20 * time.Millisecond,
		RetryableCodes: []codes.Code{codes.DeadlineExceeded, codes.Unavailable}}})
	done := make(chan error, 1)
	var got int
	go func() {
		done <- c.Call(tctx(t, 10*time.Second), f.method("charge"), 1, &got, &rpc.CallConfig{AttemptTimeout: 300 * time.Millisecond})
	}()
	time.Sleep(800 * time.Millisecond) // let attempts time out and retry while the first run is blocked
	close(release)
	require.NoError(t, <-done)
	require.Equal(t, int32(1), runs.Load(), "the handler ran once for all attempts")
	require.Equal(t, 1, got)
}

func TestPublicCacheable(t *testing.T) {
	var runs atomic.Int32
	gate := make(chan struct{})
	f := newFixture(t, rpc.ServerConfig{}, func(s *rpc.Server) {
		_ = rpc.Unary(s.Mux, "square", func(_ context.Context, x int) (int, error) {
			runs.Add(1)
			<-gate
			return x * x, nil
		}, rpc.MethodOptions{Public: true, CacheTTL: 10 * time.Second, Idempotent: true})
	})
	// Several consumers (separate faces) ask at once: the forwarder's PIT
	// aggregates them into one Interest to the service.
	const n = 5
	var wg sync.WaitGroup
	results := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		c := client(t, "", rpc.ClientConfig{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Call(tctx(t, 5*time.Second), f.method("square"), 9, &results[i], &rpc.CallConfig{Public: true})
		}()
	}
	time.Sleep(300 * time.Millisecond)
	close(gate)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, 81, results[i])
	}
	require.Equal(t, int32(1), runs.Load(), "PIT aggregation: one handler run for %d concurrent calls", n)
	// Within the TTL, the Content Store answers.
	var again int
	require.NoError(t, client(t, "", rpc.ClientConfig{}).Call(tctx(t, 5*time.Second), f.method("square"), 9, &again, &rpc.CallConfig{Public: true}))
	require.Equal(t, 81, again)
	require.Equal(t, int32(1), runs.Load(), "Content Store hit")
}

func TestLargePayloads(t *testing.T) {
	f := newFixture(t, rpc.ServerConfig{}, func(s *rpc.Server) {
		_ = s.Handle("echo", rpc.HandlerFunc(func(_ context.Context, r *rpc.Request) (*rpc.Response, error) {
			out := bytes.ToUpper(r.Payload)
			return &rpc.Response{Payload: out, ContentType: "raw"}, nil
		}), rpc.MethodOptions{Idempotent: true})
	})
	c := client(t, "alice", rpc.ClientConfig{})
	for _, size := range []int{10, 100_000, 4 << 20} {
		in := bytes.Repeat([]byte("abcdefgh"), size/8)
		var out []byte
		require.NoError(t, c.Call(tctx(t, 60*time.Second), f.method("echo"), in, &out, &rpc.CallConfig{Codec: codec.Raw{}}), "size %d", size)
		require.Equal(t, bytes.ToUpper(in), out, "size %d", size)
	}
}

func TestDescribeAndHealth(t *testing.T) {
	f := newFixture(t, rpc.ServerConfig{Version: "1.2.3"}, addService)
	c := client(t, "", rpc.ClientConfig{})
	d, err := c.Describe(tctx(t, 5*time.Second), f.svc)
	require.NoError(t, err)
	require.Equal(t, "1.2.3", d.Version)
	require.Len(t, d.Methods, 2)
	require.Equal(t, "add", d.Methods[0].Name)
	require.Equal(t, map[string]any{"A": "number", "B": "number"}, d.Methods[0].Request)
	h, err := c.Health(tctx(t, 5*time.Second), f.svc)
	require.NoError(t, err)
	require.Equal(t, "SERVING", h)
}

func TestShutdownDrains(t *testing.T) {
	started := make(chan struct{})
	f := newFixture(t, rpc.ServerConfig{}, func(s *rpc.Server) {
		_ = rpc.Unary(s.Mux, "work", func(ctx context.Context, ms int) (int, error) {
			close(started)
			time.Sleep(time.Duration(ms) * time.Millisecond)
			return ms, nil
		}, rpc.MethodOptions{Idempotent: true})
	})
	c := client(t, "alice", rpc.ClientConfig{})
	res := make(chan error, 1)
	go func() { var x int; res <- c.Call(tctx(t, 5*time.Second), f.method("work"), 300, &x, nil) }()
	<-started
	require.NoError(t, f.server.Shutdown(tctx(t, 5*time.Second)))
	require.NoError(t, <-res, "the in-flight call completes")
	err := c.Call(tctx(t, 1*time.Second), f.method("work"), 1, nil, &rpc.CallConfig{MaxAttempts: 1})
	require.Error(t, err, "no calls after shutdown")
}

func TestReplySignedByWrongKey(t *testing.T) {
	// A service whose key is not under its name: the client's default
	// rule rejects its replies as Unauthenticated.
	other := ndntest.Identity(t, "impostor")
	node := ndntest.Connect(t, ndnx.Config{Identity: other})
	svc := ndntest.Prefix(t)
	s, err := rpc.NewServer(node, rpc.ServerConfig{Service: svc})
	require.NoError(t, err)
	addService(s)
	require.NoError(t, s.Start(tctx(t, 5*time.Second)))
	defer s.Close()
	c := client(t, "alice", rpc.ClientConfig{})
	err = c.Call(tctx(t, 5*time.Second), svc.String()+"/add", addReq{1, 2}, nil, nil)
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	// Trusting it explicitly works.
	pol, err := security.ParsePolicy("allow " + other.Name().String() + " to call " + svc.String() + "/<...>")
	require.NoError(t, err)
	c2 := client(t, "alice", rpc.ClientConfig{ServicePolicy: pol})
	require.NoError(t, c2.Call(tctx(t, 5*time.Second), svc.String()+"/add", addReq{1, 2}, nil, nil))
}

func TestInterceptorsMetadataTrace(t *testing.T) {
	var seen atomic.Value
	var order []string
	var mu sync.Mutex
	mark := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	f := newFixture(t, rpc.ServerConfig{Middleware: []rpc.Middleware{func(next rpc.Handler) rpc.Handler {
		return rpc.HandlerFunc(func(ctx context.Context, r *rpc.Request) (*rpc.Response, error) {
			mark("server")
			seen.Store(r.Metadata.Get("x-tenant") + "|" + rpc.TraceParent(ctx))
			resp, err := next.ServeRPC(ctx, r)
			if resp != nil {
				resp.Metadata = rpc.Metadata{"x-served-by": {"test"}}
			}
			return resp, err
		})
	}}}, addService)
	c := client(t, "alice", rpc.ClientConfig{Middleware: []rpc.ClientMiddleware{func(next rpc.Invoker) rpc.Invoker {
		return func(ctx context.Context, m enc.Name, req, resp any, cc *rpc.CallConfig) error {
			mark("client")
			return next(ctx, m, req, resp, cc)
		}
	}}})
	var md rpc.Metadata
	tp := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx := rpc.WithTraceParent(tctx(t, 5*time.Second), tp)
	require.NoError(t, c.Call(ctx, f.method("add"), addReq{1, 2}, nil, &rpc.CallConfig{Metadata: rpc.Metadata{"X-Tenant": {"acme"}}, ReplyMetadata: &md}))
	got := seen.Load().(string)
	require.Equal(t, "acme|00-0af7651916cd43dd8448eb211c80319c-", got[:len("acme|00-0af7651916cd43dd8448eb211c80319c-")], "trace id kept, new span: %s", got)
	require.Equal(t, "test", md.Get("x-served-by"))
	require.Equal(t, []string{"client", "server"}, order)
}

func TestErrorsIsStatus(t *testing.T) {
	f := newFixture(t, rpc.ServerConfig{}, addService)
	err := client(t, "alice", rpc.ClientConfig{}).Call(tctx(t, 5*time.Second), f.method("div"), addReq{1, 0}, nil, nil)
	require.True(t, errors.Is(err, status.New(codes.InvalidArgument, "")))
}

// TestLargePayload64MiB sends and receives 64 MiB (the issue's upper bound):
// 8 Ki signed segments each way, every one verified.
func TestLargePayload64MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB each way")
	}
	f := newFixture(t, rpc.ServerConfig{}, func(s *rpc.Server) {
		_ = s.Handle("sum", rpc.HandlerFunc(func(_ context.Context, r *rpc.Request) (*rpc.Response, error) {
			return &rpc.Response{Payload: r.Payload, ContentType: "raw"}, nil
		}), rpc.MethodOptions{Idempotent: true})
	})
	c := client(t, "alice", rpc.ClientConfig{})
	in := make([]byte, 64<<20)
	for i := range in {
		in[i] = byte(i * 7)
	}
	var out []byte
	start := time.Now()
	require.NoError(t, c.Call(tctx(t, 5*time.Minute), f.method("sum"), in, &out, &rpc.CallConfig{Codec: codec.Raw{}}))
	require.True(t, bytes.Equal(in, out))
	t.Logf("64 MiB each way in %v", time.Since(start))
}

// TestForgedCall: a call signed with a key that is not the one its
// KeyLocator names is Unauthenticated, and the handler never runs.
func TestForgedCall(t *testing.T) {
	var runs atomic.Int32
	f := newFixture(t, rpc.ServerConfig{}, func(s *rpc.Server) {
		_ = rpc.Unary(s.Mux, "add", func(_ context.Context, r addReq) (addResp, error) {
			runs.Add(1)
			return addResp{r.A + r.B}, nil
		}, rpc.MethodOptions{Idempotent: true})
	})
	alice := ndntest.Identity(t, "alice")
	_, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	forger, err := security.NewInterestSignerConfig(security.InterestSignerConfig{Signer: sig.NewEd25519Signer(alice.KeyName(), priv)})
	require.NoError(t, err)
	node := ndntest.Connect(t, ndnx.Config{Identity: alice})
	params := []byte{0x80, 0x03, 0x81, 0x01, '{'} // a Request TLV with a (bad) JSON payload: never decoded
	i, err := forger.MakeInterest(f.svc.Append(enc.NewGenericComponent("add")),
		&ndn.InterestConfig{MustBeFresh: true, Lifetime: optional.Some(3 * time.Second), Nonce: optional.Some(uint32(1))}, enc.Wire{params})
	require.NoError(t, err)
	d, err := node.Express(tctx(t, 5*time.Second), i)
	require.NoError(t, err)
	require.Contains(t, string(d.Data.Content().Join()), "bad signature")
	require.Zero(t, runs.Load())
}

// TestDeadlineDuringReplyVerification: when the caller's deadline passes
// while the client fetches the reply signer's certificate, the call ends
// with DeadlineExceeded (the caller's deadline), not Unauthenticated; an
// unreachable certificate with time to spare is Unauthenticated. (Seen in
// CI: a reply that arrived just before the deadline was reported as a bad
// signature.)
func TestDeadlineDuringReplyVerification(t *testing.T) {
	// The service's certificate is issued by an intermediate that nobody
	// serves, so verifying its replies waits on a fetch that never answers.
	mid, err := ndntest.Anchor().Issue(ndntest.Prefix(t).Append(enc.NewGenericComponent("mid")), time.Hour)
	require.NoError(t, err)
	svcID, err := mid.Issue(ndntest.Prefix(t).Append(enc.NewGenericComponent("svc")), time.Hour)
	require.NoError(t, err)
	node := ndntest.Connect(t, ndnx.Config{Identity: svcID})
	s, err := rpc.NewServer(node, rpc.ServerConfig{Service: svcID.Name()})
	require.NoError(t, err)
	addService(s)
	require.NoError(t, s.Start(tctx(t, 5*time.Second)))
	defer s.Close()
	method := svcID.Name().String() + "/add"

	c := client(t, "alice", rpc.ClientConfig{Retry: rpc.RetryPolicy{MaxAttempts: 1}})
	err = c.Call(tctx(t, 400*time.Millisecond), method, addReq{1, 2}, nil, nil)
	require.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
	err = c.Call(tctx(t, 5*time.Second), method, addReq{1, 2}, nil, nil)
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
}
