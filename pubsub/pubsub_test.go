package pubsub_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
)

// A subscriber receives, in order, what is published on its topic, and
// sends no Interest for a topic it did not subscribe to.
func TestPublishSubscribeOnlySubscribedTopics(t *testing.T) {
	group := ndntest.Prefix(t)
	sub := member(t, group, "sub", nil)
	var got collector
	s, err := sub.Subscribe(pubsub.SubscribeConfig{Topic: join(group, "a"), Handler: got.handle})
	require.NoError(t, err)
	defer s.Close()

	pub := member(t, group, "pub", nil)
	ta, err := pub.Advertise(join(group, "a"))
	require.NoError(t, err)
	tb, err := pub.Advertise(join(group, "b"))
	require.NoError(t, err)
	ctx := ctxT(t, 20*time.Second)
	var want []string
	for i := range 50 {
		msg := fmt.Sprintf("a%d", i)
		want = append(want, msg)
		require.NoError(t, ta.Publish(ctx, []byte(msg)))
		require.NoError(t, tb.Publish(ctx, []byte(fmt.Sprintf("b%d", i))))
		if i%10 == 0 {
			require.NoError(t, ta.Flush(ctx))
		}
	}
	waitFor(t, 10*time.Second, "50 messages on a", func() bool { return got.len() >= 50 })
	assert.Equal(t, want, got.payloads())
	// The publisher saw Interests for a, none for b.
	assert.Positive(t, ta.Stats().Interests)
	assert.Positive(t, tb.Stats().Seq, "b was published")
	assert.Zero(t, tb.Stats().Interests, "Interests for the unsubscribed topic")
	for _, m := range got.msgs {
		assert.True(t, m.Publisher.Equal(pub.Name()))
	}
}

// A subscription to a prefix gets every topic under it.
func TestSubscribePrefix(t *testing.T) {
	group := ndntest.Prefix(t)
	sub := member(t, group, "sub", nil)
	ch := make(chan *pubsub.Message, 16)
	s, err := sub.Subscribe(pubsub.SubscribeConfig{Topic: join(group, "x"), Chan: ch})
	require.NoError(t, err)
	defer s.Close()
	pub := member(t, group, "pub", nil)
	ctx := ctxT(t, 10*time.Second)
	for _, topic := range []string{"1", "2"} {
		tp, err := pub.Advertise(join(group, "x", topic))
		require.NoError(t, err)
		require.NoError(t, tp.Publish(ctx, []byte(topic)))
	}
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case m := <-ch:
			seen[string(m.Payload)] = true
		case <-ctx.Done():
			t.Fatal("no messages")
		}
	}
}

// Messages published within the batch window go out as one publication,
// and large messages (1 MiB) are segmented.
func TestBatchingAndLarge(t *testing.T) {
	group := ndntest.Prefix(t)
	sub := member(t, group, "sub", nil)
	var got collector
	s, err := sub.Subscribe(pubsub.SubscribeConfig{Topic: group, Handler: got.handle})
	require.NoError(t, err)
	defer s.Close()
	pub := member(t, group, "pub", func(c *pubsub.Config) { c.BatchWindow = 20 * time.Millisecond })
	tp, err := pub.Advertise(join(group, "t"))
	require.NoError(t, err)
	ctx := ctxT(t, 20*time.Second)
	for i := range 200 {
		require.NoError(t, tp.Publish(ctx, bytes.Repeat([]byte{byte(i)}, 100)))
	}
	big := make([]byte, 1<<20)
	_, _ = rand.Read(big)
	require.NoError(t, tp.Publish(ctx, big))
	require.NoError(t, tp.Flush(ctx))
	waitFor(t, 15*time.Second, "201 messages", func() bool { return got.len() >= 201 })
	st := pub.Stats()
	assert.EqualValues(t, 201, st.Published)
	assert.LessOrEqual(t, st.Publications, uint64(10), "100-byte messages batched")
	for i, m := range got.msgs[:200] {
		assert.Equal(t, bytes.Repeat([]byte{byte(i)}, 100), m.Payload)
	}
	assert.Equal(t, big, got.msgs[200].Payload)
	assert.ErrorIs(t, tp.Publish(ctx, make([]byte, 5<<20)), pubsub.ErrTooLarge)
}

// LatestOnly skips to the newest message.
func TestLatestOnly(t *testing.T) {
	group := ndntest.Prefix(t)
	pub := member(t, group, "pub", nil)
	tp, err := pub.Advertise(join(group, "t"))
	require.NoError(t, err)
	ctx := ctxT(t, 10*time.Second)
	for i := range 5 {
		require.NoError(t, tp.Publish(ctx, []byte(fmt.Sprint(i))))
		waitFor(t, 5*time.Second, "published", func() bool { return tp.Stats().Seq == uint64(i+1) })
	}
	sub := member(t, group, "sub", nil)
	var got collector
	s, err := sub.Subscribe(pubsub.SubscribeConfig{Topic: group, Mode: pubsub.LatestOnly, Handler: got.handle})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, tp.Publish(ctx, []byte("last")))
	waitFor(t, 5*time.Second, "latest delivered", func() bool {
		p := got.payloads()
		return len(p) > 0 && p[len(p)-1] == "last"
	})
	assert.LessOrEqual(t, got.len(), 2)
}

// ExactlyOnce resumes after a restart of the subscriber neither losing
// nor repeating a message.
func TestExactlyOnceRestart(t *testing.T) {
	group := ndntest.Prefix(t)
	path := filepath.Join(t.TempDir(), "cp.db")
	cp, err := pubsub.OpenCheckpoint(path)
	require.NoError(t, err)
	sub := member(t, group, "sub", nil)
	var first collector
	s, err := sub.Subscribe(pubsub.SubscribeConfig{Topic: group, Mode: pubsub.ExactlyOnce, Checkpoint: cp, Durable: "d", Handler: first.handle})
	require.NoError(t, err)
	pub := member(t, group, "pub", nil)
	tp, err := pub.Advertise(join(group, "t"))
	require.NoError(t, err)
	ctx := ctxT(t, 20*time.Second)
	for i := range 10 {
		require.NoError(t, tp.Publish(ctx, []byte(fmt.Sprint(i))))
	}
	waitFor(t, 10*time.Second, "first 10", func() bool { return first.len() == 10 })
	require.NoError(t, s.Close())
	require.NoError(t, sub.Close())
	require.NoError(t, cp.Close())

	for i := 10; i < 20; i++ {
		require.NoError(t, tp.Publish(ctx, []byte(fmt.Sprint(i))))
	}
	waitFor(t, 5*time.Second, "published", func() bool { return pub.Stats().Published == 20 })
	cp, err = pubsub.OpenCheckpoint(path)
	require.NoError(t, err)
	defer cp.Close()
	sub2 := member(t, group, "sub2", nil)
	var second collector
	s2, err := sub2.Subscribe(pubsub.SubscribeConfig{Topic: group, Mode: pubsub.ExactlyOnce, Checkpoint: cp, Durable: "d", Handler: second.handle})
	require.NoError(t, err)
	defer s2.Close()
	waitFor(t, 10*time.Second, "next 10", func() bool { return second.len() >= 10 })
	all := append(first.payloads(), second.payloads()...)
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprint(i))
	}
	assert.Equal(t, want, all)
}

// Flush lingers until a subscriber fetched what was published: a pub
// process that exits right after loses nothing.
func TestFlushLingers(t *testing.T) {
	group := ndntest.Prefix(t)
	sub := member(t, group, "sub", nil)
	var got collector
	s, err := sub.Subscribe(pubsub.SubscribeConfig{Topic: group, Handler: got.handle})
	require.NoError(t, err)
	defer s.Close()
	pub := member(t, group, "pub", nil)
	tp, err := pub.Advertise(join(group, "t"))
	require.NoError(t, err)
	ctx := ctxT(t, 10*time.Second)
	require.NoError(t, tp.Publish(ctx, []byte("bye")))
	require.NoError(t, tp.Flush(ctx))
	require.NoError(t, pub.Close())
	waitFor(t, 5*time.Second, "delivered after the publisher closed", func() bool { return got.len() == 1 })
	// Without subscribers Flush waits until ctx ends.
	lone := member(t, ndntest.Prefix(t), "lone", nil)
	tl, err := lone.Advertise(join(group, "t"))
	require.NoError(t, err)
	require.NoError(t, tl.Publish(ctx, []byte("x")))
	short := ctxT(t, 300*time.Millisecond)
	assert.ErrorIs(t, tl.Flush(short), short.Err())
}

// A handler that refuses a message gets it again, in order, before the
// messages after it; after MaxRedeliveries refusals it is given up, and
// the ExactlyOnce checkpoint moves past it only then.
func TestHandlerRefusal(t *testing.T) {
	group := ndntest.Prefix(t)
	cp, err := pubsub.OpenCheckpoint(filepath.Join(t.TempDir(), "cp.db"))
	require.NoError(t, err)
	defer cp.Close()
	sub := member(t, group, "sub", nil)
	var mu sync.Mutex
	var seen []string
	refusals := map[string]int{"1": 2, "3": 100} // "1" twice; "3" always
	s, err := sub.Subscribe(pubsub.SubscribeConfig{Topic: group, Mode: pubsub.ExactlyOnce, Checkpoint: cp, Durable: "d",
		MaxRedeliveries: 2, Handler: func(_ context.Context, m *pubsub.Message) error {
			mu.Lock()
			defer mu.Unlock()
			p := string(m.Payload)
			seen = append(seen, p)
			if refusals[p] > 0 {
				refusals[p]--
				return errors.New("not now")
			}
			return nil
		}})
	require.NoError(t, err)
	defer s.Close()
	pub := member(t, group, "pub", nil)
	tp, err := pub.Advertise(join(group, "t"))
	require.NoError(t, err)
	ctx := ctxT(t, 20*time.Second)
	for i := range 5 {
		require.NoError(t, tp.Publish(ctx, []byte(fmt.Sprint(i))))
	}
	waitFor(t, 15*time.Second, "all handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 9
	})
	mu.Lock()
	assert.Equal(t, []string{"0", "1", "1", "1", "2", "3", "3", "3", "4"}, seen)
	mu.Unlock()
	st := sub.Stats()
	assert.Equal(t, uint64(4), st.Redelivered)
	assert.Equal(t, uint64(1), st.Abandoned)
}
