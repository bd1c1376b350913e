package ndn_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/security"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestConnectNoForwarder(t *testing.T) {
	dir, err := os.MkdirTemp("", "nofw")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	start := time.Now()
	_, err = ndnx.Connect(ctxT(t, 5*time.Second), ndnx.Config{Transport: "unix://" + dir + "/nfd.sock"})
	require.ErrorIs(t, err, ndnx.ErrNoForwarder)
	require.Contains(t, err.Error(), "no NDN forwarder at unix://"+dir+"/nfd.sock: start one with")
	require.Less(t, time.Since(start), 3*time.Second, "must fail fast, not hang")
}

func TestConnectBadTransport(t *testing.T) {
	for _, tr := range []string{"http://x", "unix://", "tcp://", "::bad"} {
		_, err := ndnx.Connect(ctxT(t, 5*time.Second), ndnx.Config{Transport: tr})
		require.ErrorIs(t, err, ndnx.ErrBadTransport, tr)
	}
}

func TestTransportFromEnvironment(t *testing.T) {
	t.Setenv("NDN_CLIENT_TRANSPORT", ndntest.Transport())
	n, err := ndnx.Connect(ctxT(t, 10*time.Second), ndnx.Config{})
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, ndntest.Transport(), n.Transport())
}

// serve registers prefix on node and answers every Interest with content
// signed by the node's identity.
func serve(t *testing.T, node *ndnx.Node, prefix enc.Name, content string) *atomic.Int64 {
	t.Helper()
	var hits atomic.Int64
	require.NoError(t, node.Handle(prefix, func(_ context.Context, in *ndnx.Incoming) {
		hits.Add(1)
		w, err := node.SignData(in.Interest.Name(), nil, enc.Wire{[]byte(content)})
		if err == nil {
			_ = in.Reply(w)
		}
	}))
	require.NoError(t, node.Register(ctxT(t, 5*time.Second), prefix, nil))
	return &hits
}

func TestExpressAndVerify(t *testing.T) {
	prefix := ndntest.Prefix(t)
	producer := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "producer")})
	consumer := ndntest.Connect(t, ndnx.Config{})
	serve(t, producer, prefix, "hello")

	d, err := consumer.Fetch(ctxT(t, 5*time.Second), prefix.Append(enc.NewGenericComponent("x")), false, false)
	require.NoError(t, err)
	require.Equal(t, "hello", string(d.Data.Content().Join()))
	// The consumer fetches the producer's certificate over NDN to verify.
	key, err := consumer.VerifyData(ctxT(t, 5*time.Second), d)
	require.NoError(t, err)
	require.True(t, producer.Identity().KeyName().Equal(key))
}

func TestSignedInterestReachesHandler(t *testing.T) {
	prefix := ndntest.Prefix(t)
	server := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "server")})
	client := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "client")})
	got := make(chan error, 1)
	require.NoError(t, server.Handle(prefix, func(ctx context.Context, in *ndnx.Incoming) {
		_, err := server.Verifier().VerifyInterest(ctx, in.Interest, in.SigCovered)
		got <- err
		w, _ := server.SignData(in.Interest.Name(), nil, enc.Wire{[]byte("ok")})
		_ = in.Reply(w)
	}))
	require.NoError(t, server.Register(ctxT(t, 5*time.Second), prefix, nil))
	ctx := ctxT(t, 5*time.Second)
	i, err := client.MakeInterest(ctx, prefix.Append(enc.NewGenericComponent("m")), nil, enc.Wire{[]byte("args")}, true)
	require.NoError(t, err)
	_, err = client.Express(ctx, i)
	require.NoError(t, err)
	require.NoError(t, <-got)
}

func TestTimeoutAndNack(t *testing.T) {
	prefix := ndntest.Prefix(t)
	silent := ndntest.Connect(t, ndnx.Config{})
	require.NoError(t, silent.Handle(prefix, func(context.Context, *ndnx.Incoming) {}))
	require.NoError(t, silent.Register(ctxT(t, 5*time.Second), prefix, nil))
	consumer := ndntest.Connect(t, ndnx.Config{})

	ctx := ctxT(t, 5*time.Second)
	i, err := consumer.MakeInterest(ctx, prefix.Append(enc.NewGenericComponent("q")),
		&ndn.InterestConfig{Lifetime: optional.Some(200 * time.Millisecond)}, nil, false)
	require.NoError(t, err)
	_, err = consumer.Express(ctx, i)
	require.ErrorIs(t, err, ndnx.ErrTimeout)

	// YaNFD v1.5.3 never sends Nacks (no NackReason anywhere under fw/): an
	// unrouted name times out rather than failing with Nack NoRoute.
	i, err = consumer.MakeInterest(ctx, ndntest.Prefix(t).Append(enc.NewGenericComponent("nobody")),
		&ndn.InterestConfig{Lifetime: optional.Some(200 * time.Millisecond)}, nil, false)
	require.NoError(t, err)
	_, err = consumer.Express(ctx, i)
	require.ErrorIs(t, err, ndnx.ErrTimeout)
}

func TestNackError(t *testing.T) {
	var err error = &ndnx.NackError{Reason: spec.NackReasonNoRoute}
	require.ErrorIs(t, err, ndnx.ErrNack)
	require.Equal(t, "ndn: interest nacked: no route", err.Error())
	require.True(t, err.(*ndnx.NackError).NoRoute())
	require.False(t, (&ndnx.NackError{Reason: spec.NackReasonCongestion}).NoRoute())
}

func TestExpressContextCancel(t *testing.T) {
	prefix := ndntest.Prefix(t)
	silent := ndntest.Connect(t, ndnx.Config{})
	require.NoError(t, silent.Handle(prefix, func(context.Context, *ndnx.Incoming) {}))
	require.NoError(t, silent.Register(ctxT(t, 5*time.Second), prefix, nil))
	ctx, cancel := context.WithCancel(context.Background())
	i, err := silent.MakeInterest(ctxT(t, 10*time.Second), prefix, &ndn.InterestConfig{}, nil, false)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { _, err := silent.Express(ctx, i); done <- err }()
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(2 * time.Second):
		t.Fatal("Express did not return on cancel")
	}
}

func TestCloseIdempotentNoLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	n, err := ndnx.Connect(ctxT(t, 10*time.Second), ndnx.Config{
		Transport: ndntest.Transport(), Identity: ndntest.Identity(t, "leak"),
		Anchors: [][]byte{ndntest.Anchor().CertWire()},
	})
	require.NoError(t, err)
	require.NoError(t, n.Handle(ndntest.Prefix(t), func(context.Context, *ndnx.Incoming) {}))
	require.NoError(t, n.Close())
	require.NoError(t, n.Close())
	_, err = n.Fetch(ctxT(t, time.Second), ndntest.Prefix(t), false, false)
	require.ErrorIs(t, err, ndnx.ErrClosed)
}

// TestForwarderRestart: the node survives its forwarder going away (ndnd's
// stream face would os.Exit(106)), reconnects, and re-registers its routes.
func TestForwarderRestart(t *testing.T) {
	dir, err := os.MkdirTemp("", "fwrs")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	bin, err := ndntest.Ndnd()
	require.NoError(t, err)
	fw, err := ndnx.StartForwarder(ctxT(t, 20*time.Second), ndnx.ForwarderConfig{Dir: dir, Binary: bin})
	require.NoError(t, err)
	defer func() { fw.Stop() }()

	prefix := ndntest.Prefix(t)
	producer := ndntest.Connect(t, ndnx.Config{Transport: fw.Transport(), ReconnectMax: 200 * time.Millisecond})
	serve(t, producer, prefix, "before")
	consumer := ndntest.Connect(t, ndnx.Config{Transport: fw.Transport(), ReconnectMax: 200 * time.Millisecond})
	_, err = consumer.Fetch(ctxT(t, 3*time.Second), prefix.Append(enc.NewGenericComponent("1")), false, false)
	require.NoError(t, err)

	fw.Kill()
	waitFor(t, 5*time.Second, func() bool { return !producer.Up() && !consumer.Up() })
	_, err = consumer.Fetch(ctxT(t, time.Second), prefix.Append(enc.NewGenericComponent("2")), false, false)
	require.ErrorIs(t, err, ndnx.ErrFaceDown)

	fw, err = ndnx.StartForwarder(ctxT(t, 20*time.Second), ndnx.ForwarderConfig{Dir: dir, Binary: bin})
	require.NoError(t, err)
	waitFor(t, 10*time.Second, func() bool { return producer.Up() && consumer.Up() })
	// The route comes back without the producer doing anything.
	waitFor(t, 10*time.Second, func() bool {
		_, err := consumer.Fetch(ctxT(t, 500*time.Millisecond), prefix.Append(enc.NewGenericComponent("3")), false, true)
		return err == nil
	})
}

// TestHandlerQueueNeverBlocksEngine floods a node whose only worker is stuck:
// excess Interests are dropped, and the node's engine goroutine stays free,
// so the same node can still fetch.
func TestHandlerQueueNeverBlocksEngine(t *testing.T) {
	prefix := ndntest.Prefix(t)
	release := make(chan struct{})
	slow := ndntest.Connect(t, ndnx.Config{Workers: 1, QueueSize: 1})
	require.NoError(t, slow.Handle(prefix, func(ctx context.Context, in *ndnx.Incoming) {
		select {
		case <-release:
		case <-ctx.Done():
		}
	}))
	require.NoError(t, slow.Register(ctxT(t, 5*time.Second), prefix, nil))
	other := ndntest.Connect(t, ndnx.Config{})
	fast := ndntest.Prefix(t).Append(enc.NewGenericComponent("fast"))
	serve(t, other, fast, "pong")

	consumer := ndntest.Connect(t, ndnx.Config{})
	for i := range 20 {
		in, err := consumer.MakeInterest(ctxT(t, time.Second), prefix.Append(enc.NewGenericComponent(strconv.Itoa(i))), nil, nil, false)
		require.NoError(t, err)
		go consumer.Express(ctxT(t, time.Second), in) //nolint:errcheck // flood; results ignored
	}
	waitFor(t, 5*time.Second, func() bool { return slow.Dropped() > 0 })
	d, err := slow.Fetch(ctxT(t, 3*time.Second), fast.Append(enc.NewGenericComponent("ping")), false, false)
	require.NoError(t, err)
	require.Equal(t, "pong", string(d.Data.Content().Join()))
	close(release)
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFindNdndMessage(t *testing.T) {
	t.Setenv("NDND_BIN", "/nonexistent/ndnd")
	_, err := ndnx.FindNdnd()
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "NDND_BIN"))
}

// TestVerifyDataCache: a Data verified once is recognized by its digest; a
// packet that differs in any byte is verified afresh (and fails if forged).
func TestVerifyDataCache(t *testing.T) {
	prefix := ndntest.Prefix(t)
	producer := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "producer")})
	consumer := ndntest.Connect(t, ndnx.Config{})
	serve(t, producer, prefix, "hello")
	d, err := consumer.Fetch(ctxT(t, 5*time.Second), prefix.Append(enc.NewGenericComponent("x")), false, false)
	require.NoError(t, err)
	for range 3 {
		_, err = consumer.VerifyData(ctxT(t, 5*time.Second), d)
		require.NoError(t, err)
	}
	raw := d.Raw.Join()
	i := bytes.Index(raw, []byte("hello"))
	require.Positive(t, i)
	raw[i] = 'j'
	parsed, sigCov, err := spec.Spec{}.ReadData(enc.NewBufferView(raw))
	require.NoError(t, err)
	_, err = consumer.VerifyData(ctxT(t, 5*time.Second), &ndnx.Data{Data: parsed, Raw: enc.Wire{raw}, SigCovered: sigCov})
	require.ErrorIs(t, err, security.ErrBadSignature)
}

// TestSetStrategy: with the multicast strategy an Interest reaches every
// producer of a prefix, and the choice comes back after the forwarder
// restarts, as routes do.
func TestSetStrategy(t *testing.T) {
	dir, err := os.MkdirTemp("", "fwst")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	bin, err := ndntest.Ndnd()
	require.NoError(t, err)
	fw, err := ndnx.StartForwarder(ctxT(t, 20*time.Second), ndnx.ForwarderConfig{Dir: dir, Binary: bin})
	require.NoError(t, err)
	defer func() { fw.Stop() }()

	prefix := ndntest.Prefix(t)
	var hits [2]atomic.Int64
	var nodes [2]*ndnx.Node
	for i := range nodes {
		nodes[i] = ndntest.Connect(t, ndnx.Config{Transport: fw.Transport(), ReconnectMax: 200 * time.Millisecond})
		require.NoError(t, nodes[i].Handle(prefix, func(context.Context, *ndnx.Incoming) { hits[i].Add(1) }))
		require.NoError(t, nodes[i].Register(ctxT(t, 5*time.Second), prefix, nil))
	}
	require.NoError(t, nodes[0].SetStrategy(ctxT(t, 5*time.Second), prefix, ndnx.MulticastStrategy))
	consumer := ndntest.Connect(t, ndnx.Config{Transport: fw.Transport(), ReconnectMax: 200 * time.Millisecond})
	bothHear := func(label string) bool {
		before := [2]int64{hits[0].Load(), hits[1].Load()}
		_, _ = consumer.Fetch(ctxT(t, 300*time.Millisecond), prefix.Append(enc.NewGenericComponent(label)), false, false)
		return hits[0].Load() > before[0] && hits[1].Load() > before[1]
	}
	require.True(t, bothHear("a"), "multicast reaches both producers")

	fw.Kill()
	waitFor(t, 5*time.Second, func() bool { return !nodes[0].Up() })
	fw, err = ndnx.StartForwarder(ctxT(t, 20*time.Second), ndnx.ForwarderConfig{Dir: dir, Binary: bin})
	require.NoError(t, err)
	n := 0
	waitFor(t, 15*time.Second, func() bool { n++; return bothHear("b" + strconv.Itoa(n)) })

	err = nodes[0].SetStrategy(ctxT(t, 5*time.Second), prefix, enc.Name{enc.NewGenericComponent("no-such-strategy")})
	require.ErrorIs(t, err, ndnx.ErrRegister)
}
