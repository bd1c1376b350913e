package repo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
	"github.com/ndn-invoke/ndn-invoke/repo"
)

// The test wires pubsub into the repo as a program does (repo does not
// import pubsub; see repo.ArchiverFunc).

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// archivers records the pubsub archivers a repo started.
type archivers struct {
	mu  sync.Mutex
	all []*pubsub.Archiver
}

func (a *archivers) config() map[string]repo.ArchiverFunc {
	return map[string]repo.ArchiverFunc{repo.KindPubSub: func(ctx context.Context, node *ndnx.Node, group enc.Name, sink repo.ArchiveSink) (io.Closer, error) {
		c := pubsub.DefaultConfig()
		c.Group, c.Node, c.Logger = group, node, quiet
		c.SuppressionPeriod = 20 * time.Millisecond
		ar, err := pubsub.NewArchiver(c, sink)
		if err != nil {
			return nil, err
		}
		a.mu.Lock()
		a.all = append(a.all, ar)
		a.mu.Unlock()
		return ar, ar.Start(ctx)
	}}
}

func (a *archivers) last() *pubsub.Archiver {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.all) == 0 {
		return nil
	}
	return a.all[len(a.all)-1]
}

func psMember(t *testing.T, group enc.Name, label string) (*pubsub.PubSub, *ndnx.Node) {
	t.Helper()
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, label), Logger: quiet})
	cfg := pubsub.DefaultConfig()
	cfg.Group, cfg.Node, cfg.Logger = group, node, quiet
	cfg.SuppressionPeriod = 20 * time.Millisecond
	p, err := pubsub.New(cfg)
	require.NoError(t, err)
	require.NoError(t, p.Start(ctxT(t, 10*time.Second)))
	t.Cleanup(func() { p.Close() })
	return p, node
}

// replay subscribes a new member to topic with Replay and returns the
// first n payloads it receives.
func replay(t *testing.T, group, topic enc.Name, n int) []string {
	t.Helper()
	sub, _ := psMember(t, group, "late")
	ch := make(chan *pubsub.Message, n)
	s, err := sub.Subscribe(pubsub.SubscribeConfig{Topic: topic, Replay: true, Chan: ch})
	require.NoError(t, err)
	defer s.Close()
	ctx := ctxT(t, 15*time.Second)
	var got []string
	for len(got) < n {
		select {
		case m := <-ch:
			got = append(got, string(m.Payload))
		case <-ctx.Done():
			t.Fatalf("replayed %d of %d messages: %v; subscriber %+v", len(got), n, got, sub.Stats())
		}
	}
	return got
}

// A repo that joined a pub-sub group keeps its publications: a subscriber
// that starts after the publisher published 20 messages and left receives
// all 20 in order from the repo, also after the repo restarted.
func TestPubSubArchive(t *testing.T) {
	dir := t.TempDir()
	id := ndntest.Identity(t, "repo")
	var ars archivers
	cfg := repo.Config{Archivers: ars.config()}
	f := startRepo(t, dir, cfg, id)
	group := ndntest.Prefix(t)
	topic := append(group.Clone(), enc.NewGenericComponent("orders"))
	ctx := ctxT(t, 30*time.Second)
	require.NoError(t, f.r.JoinGroup(ctx, repo.GroupSpec{Group: group, Kind: repo.KindPubSub}))
	require.NoError(t, f.r.JoinGroup(ctx, repo.GroupSpec{Group: group, Kind: repo.KindPubSub}), "joining again does nothing")
	assert.ErrorIs(t, f.r.JoinGroup(ctx, repo.GroupSpec{Group: group, Kind: "nope"}), repo.ErrBadRequest)

	pub, pubNode := psMember(t, group, "pub")
	tp, err := pub.Advertise(topic)
	require.NoError(t, err)
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprintf("order %d", i))
		require.NoError(t, tp.Publish(ctx, []byte(want[i])))
	}
	require.NoError(t, tp.Flush(ctx))
	ar := ars.last()
	require.NotNil(t, ar)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s := ar.Streams(); len(s) == 1 && s[0].Seq == tp.Stats().Seq {
			break
		}
		require.False(t, time.Now().After(deadline), "archived: %+v", ar.Streams())
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, pub.Close())
	require.NoError(t, pubNode.Close())
	ndntest.NoContentStore(t)

	assert.Equal(t, want, replay(t, group, topic, 20))

	// Restart: the group is rejoined from the store, the state announced.
	f.stop()
	f2 := startRepo(t, dir, cfg, id)
	groups := f2.r.Groups()
	require.Len(t, groups, 1)
	assert.Equal(t, repo.KindPubSub, groups[0].Kind)
	ar2 := ars.last()
	require.NotSame(t, ar, ar2)
	require.Len(t, ar2.Streams(), 1, "archive state loaded")
	assert.Equal(t, want, replay(t, group, topic, 20))

	require.NoError(t, f2.r.LeaveGroup(ctx, group))
	assert.Empty(t, f2.r.Groups())
}

// A repo without the archiver of a recorded group's kind starts anyway.
func TestPubSubArchiveMissingKind(t *testing.T) {
	dir := t.TempDir()
	id := ndntest.Identity(t, "repo")
	var ars archivers
	f := startRepo(t, dir, repo.Config{Archivers: ars.config()}, id)
	require.NoError(t, f.r.JoinGroup(ctxT(t, 10*time.Second), repo.GroupSpec{Group: ndntest.Prefix(t), Kind: repo.KindPubSub}))
	f.stop()
	f2 := startRepo(t, dir, repo.Config{Logger: quiet}, id)
	assert.Empty(t, f2.r.Groups())
}
