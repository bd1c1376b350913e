package svs

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func joinInternal(t *testing.T, group enc.Name, label string) *Group {
	t.Helper()
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, label), Logger: quiet})
	cfg := DefaultConfig()
	cfg.Group, cfg.Node, cfg.Logger = group, node, quiet
	cfg.HeartbeatPeriod, cfg.SuspectAfter, cfg.FailedAfter = 50*time.Millisecond, time.Second, 2*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g, err := Join(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { g.Close() })
	return g
}

// Close owns what ndnd's SvSync leaves loose: when it returns, SvSync's
// loop has exited (it detached its handler) and no Sync Interest is being
// sent by its goroutines.
func TestCloseStopsSvSync(t *testing.T) {
	group := ndntest.Prefix(t)
	a := joinInternal(t, group, "a")
	b := joinInternal(t, group, "b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 20 { // each publication makes SvSync start a goroutine
		require.NoError(t, a.SendEvent(ctx, "e", nil))
	}
	start := time.Now()
	require.NoError(t, a.Close())
	assert.Less(t, time.Since(start), svsync.StopTimeout, "Close waited for the timeout")
	select {
	case <-a.svs.LoopDone():
	default:
		t.Fatal("SvSync's loop still runs after Close")
	}
	assert.LessOrEqual(t, a.svs.Sending(), int64(0))
	// The sync prefix handler is gone: it can be attached again.
	eng := a.node.Engine()
	require.NoError(t, eng.AttachHandler(a.sync, func(ndn.InterestHandlerArgs) {}))
	require.NoError(t, eng.DetachHandler(a.sync))
	// The other member goes on.
	require.NoError(t, b.SendEvent(ctx, "e", nil))
	assert.NoError(t, a.Close())
}

// Hostile Sync Interests are dropped before ndnd's parser sees them.
func TestSyncInterestGuard(t *testing.T) {
	group := ndntest.Prefix(t)
	g := joinInternal(t, group, "g")
	sender := ndntest.Connect(t, ndnx.Config{Logger: quiet})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hostile := [][]byte{
		{0x06, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30}, // a Data whose Name claims 800 MB
		{0x06, 0x03, 0x07, 0x01},                               // truncated
		make([]byte, maxPacket+1),                              // too big (the forwarder may drop it first)
	}
	before := g.Stats().SyncRejected
	for _, ap := range hostile {
		i, err := sender.MakeInterest(ctx, g.sync, nil, enc.Wire{ap}, false)
		require.NoError(t, err)
		require.NoError(t, sender.Engine().Express(i, nil))
	}
	waitUntil(t, "hostile Sync Interests rejected", func() bool { return g.Stats().SyncRejected >= before+2 })
	// Well-formed Sync Data that fails verification (unsigned) is dropped
	// by the validators.
	unsigned, err := sender.SignData(join(syncDataName(enc.Name{enc.NewGenericComponent("x")}, group), nil, enc.NewVersionComponent(uint64(time.Now().UnixMicro()))),
		nil, enc.Wire{svsync.EncodeStateVector([]svsync.Entry{{Name: enc.Name{enc.NewGenericComponent("x")}, Boot: 1, Seq: 1}})})
	require.NoError(t, err)
	before = g.Stats().SyncRejected
	i, err := sender.MakeInterest(ctx, g.sync, nil, unsigned, false)
	require.NoError(t, err)
	require.NoError(t, sender.Engine().Express(i, nil))
	waitUntil(t, "unsigned Sync Data rejected", func() bool { return g.Stats().SyncRejected > before })
	assert.Len(t, g.Members(), 1)
	// The group still works.
	require.NoError(t, g.SendEvent(ctx, "alive", nil))
}

// waitUntil polls cond for up to 5s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
