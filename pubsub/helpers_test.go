package pubsub_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func join(a enc.Name, s ...string) enc.Name {
	out := append(enc.Name{}, a...)
	for _, c := range s {
		out = append(out, enc.NewGenericComponent(c))
	}
	return out
}

// member starts a PubSub on a fresh node with a fresh identity.
func member(t testing.TB, group enc.Name, label string, mod func(*pubsub.Config)) *pubsub.PubSub {
	t.Helper()
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, label), Logger: quiet})
	cfg := pubsub.DefaultConfig()
	cfg.Group, cfg.Node, cfg.Logger = group, node, quiet
	cfg.SuppressionPeriod = 20 * time.Millisecond
	if mod != nil {
		mod(&cfg)
	}
	p, err := pubsub.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.Start(ctx))
	t.Cleanup(func() { p.Close() })
	return p
}

// collector gathers delivered messages.
type collector struct {
	mu   sync.Mutex
	msgs []*pubsub.Message
}

func (c *collector) handle(_ context.Context, m *pubsub.Message) error {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	return nil
}

func (c *collector) payloads() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.msgs))
	for i, m := range c.msgs {
		out[i] = string(m.Payload)
	}
	return out
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
