package pubsub_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// memArchive is what a repo keeps for an Archiver: packets and state. It
// outlives the nodes that serve it (memSink), as a repo's store outlives
// a repo process.
type memArchive struct {
	mu    sync.Mutex
	pkts  map[string][]byte // by name URI
	names map[string]enc.Name
	state []byte
	hits  int // Interests answered
}

func newMemArchive() *memArchive {
	return &memArchive{pkts: map[string][]byte{}, names: map[string]enc.Name{}}
}

// find answers an Interest: the exact name, or with canBePrefix any name
// under it.
func (m *memArchive) find(name enc.Name, canBePrefix bool) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.pkts[name.String()]; ok {
		m.hits++
		return w
	}
	if canBePrefix {
		for k, n := range m.names {
			if name.IsPrefix(n) {
				m.hits++
				return m.pkts[k]
			}
		}
	}
	return nil
}

func (m *memArchive) served() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hits
}

// memSink serves a memArchive on one node, as a repo does (route cost 100).
type memSink struct {
	a      *memArchive
	node   *ndnx.Node
	mu     sync.Mutex
	served map[string]bool
}

func (s *memSink) Put(ctx context.Context, pkts [][]byte, prefixes []enc.Name) error {
	for _, w := range pkts {
		d, _, err := security.ReadData(w)
		if err != nil {
			return err
		}
		s.a.mu.Lock()
		s.a.pkts[d.Name().String()] = w
		s.a.names[d.Name().String()] = d.Name().Clone()
		s.a.mu.Unlock()
	}
	for _, p := range prefixes {
		s.mu.Lock()
		done := s.served[p.String()]
		s.served[p.String()] = true
		s.mu.Unlock()
		if done {
			continue
		}
		err := s.node.Handle(p, func(_ context.Context, in *ndnx.Incoming) {
			if w := s.a.find(in.Interest.Name(), in.Interest.CanBePrefix()); w != nil {
				_ = in.Reply(enc.Wire{w})
			}
		})
		if err != nil {
			return err
		}
		if err := s.node.Register(ctx, p, &ndnx.RouteOptions{Cost: 100}); err != nil {
			return err
		}
	}
	return nil
}

func (s *memSink) LoadState() ([]byte, error) {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	return s.a.state, nil
}

func (s *memSink) SaveState(_ context.Context, b []byte) error {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	s.a.state = append([]byte{}, b...)
	return nil
}

// startArchiver starts an Archiver of group on a fresh node serving a.
func startArchiver(t *testing.T, group enc.Name, a *memArchive) (*pubsub.Archiver, *ndnx.Node) {
	t.Helper()
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "archive"), Logger: quiet})
	cfg := pubsub.DefaultConfig()
	cfg.Group, cfg.Node, cfg.Logger = group, node, quiet
	cfg.SuppressionPeriod = 20 * time.Millisecond
	ar, err := pubsub.NewArchiver(cfg, &memSink{a: a, node: node, served: map[string]bool{}})
	require.NoError(t, err)
	require.NoError(t, ar.Start(ctxT(t, 10*time.Second)))
	t.Cleanup(func() { ar.Close() })
	return ar, node
}

// publishAndLeave publishes n messages on topic from a fresh node, waits
// until ar archived them, then closes the publisher and its node.
func publishAndLeave(t *testing.T, group, topic enc.Name, ar *pubsub.Archiver, n int) []string {
	t.Helper()
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "pub"), Logger: quiet})
	cfg := pubsub.DefaultConfig()
	cfg.Group, cfg.Node, cfg.Logger = group, node, quiet
	cfg.SuppressionPeriod = 20 * time.Millisecond
	pub, err := pubsub.New(cfg)
	require.NoError(t, err)
	ctx := ctxT(t, 20*time.Second)
	require.NoError(t, pub.Start(ctx))
	tp, err := pub.Advertise(topic)
	require.NoError(t, err)
	var want []string
	for i := range n {
		msg := fmt.Sprintf("m%02d", i)
		want = append(want, msg)
		require.NoError(t, tp.Publish(ctx, []byte(msg)))
	}
	big := make([]byte, 20000) // a segmented message, archived too
	big[0] = 'B'
	want = append(want, string(big))
	require.NoError(t, tp.Publish(ctx, big))
	require.NoError(t, tp.Flush(ctx)) // fetched by the archiver
	waitFor(t, 10*time.Second, "archived", func() bool {
		streams := ar.Streams()
		return len(streams) == 1 && streams[0].Seq == tp.Stats().Seq
	})
	s := ar.Streams()[0]
	assert.True(t, s.Publisher.Equal(pub.Name()))
	assert.True(t, s.Topic.Equal(topic))
	require.NoError(t, pub.Close())
	require.NoError(t, node.Close())
	return want
}

// lateSubscriber starts a member after the publisher left and collects
// what a Replay subscription to topic receives.
func lateSubscriber(t *testing.T, group, topic enc.Name, want []string) {
	t.Helper()
	sub := member(t, group, "late", nil)
	var got collector
	s, err := sub.Subscribe(pubsub.SubscribeConfig{Topic: topic, Replay: true, Handler: got.handle})
	require.NoError(t, err)
	defer s.Close()
	deadline := time.Now().Add(15 * time.Second)
	for got.len() < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("replayed %d of %d messages; subscriber %+v", got.len(), len(want), sub.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, want, got.payloads())
}

// A subscriber that starts after the publisher published and left gets
// every message, in order, from the archive.
func TestArchiveLateSubscriber(t *testing.T) {
	group := ndntest.Prefix(t)
	topic := join(group, "news")
	mem := newMemArchive()
	ar, _ := startArchiver(t, group, mem)
	want := publishAndLeave(t, group, topic, ar, 20)
	ndntest.NoContentStore(t)
	lateSubscriber(t, group, topic, want)
	assert.Positive(t, mem.served(), "Interests the archive answered")
	st := ar.Stats()
	assert.Equal(t, 1, st.Streams)
	assert.Positive(t, st.Publications)
	assert.Greater(t, st.Packets, st.Publications, "segments and the certificate are archived too")
}

// After the archiver restarts (its SVS state empty), a late subscriber
// still learns the publisher's entry (announced from the saved state) and
// catches up.
func TestArchiveRestart(t *testing.T) {
	group := ndntest.Prefix(t)
	topic := join(group, "news")
	mem := newMemArchive()
	ar, node := startArchiver(t, group, mem)
	want := publishAndLeave(t, group, topic, ar, 20)
	require.NoError(t, ar.Close())
	require.NoError(t, node.Close())
	require.NotEmpty(t, mem.state, "state saved at Close")

	ar2, _ := startArchiver(t, group, mem)
	require.Len(t, ar2.Streams(), 1, "state loaded")
	ndntest.NoContentStore(t)
	lateSubscriber(t, group, topic, want)
	assert.Positive(t, mem.served(), "Interests the archive answered")
	assert.Positive(t, ar2.Stats().Announced)
	assert.Zero(t, ar2.Stats().Publications, "nothing fetched again")
}

func TestNewArchiverErrors(t *testing.T) {
	_, err := pubsub.NewArchiver(pubsub.DefaultConfig(), nil)
	assert.ErrorIs(t, err, pubsub.ErrBadConfig)
	_, err = pubsub.NewArchiver(pubsub.DefaultConfig(), &memSink{})
	assert.ErrorIs(t, err, pubsub.ErrBadConfig)
}

// A saved state that does not decode fails Start.
func TestArchiveBadState(t *testing.T) {
	mem := newMemArchive()
	mem.state = []byte{0xc9, 0x03, 0x01}
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "archive"), Logger: quiet})
	cfg := pubsub.DefaultConfig()
	cfg.Group, cfg.Node, cfg.Logger = ndntest.Prefix(t), node, quiet
	ar, err := pubsub.NewArchiver(cfg, &memSink{a: mem, node: node, served: map[string]bool{}})
	require.NoError(t, err)
	assert.ErrorIs(t, ar.Start(ctxT(t, 5*time.Second)), pubsub.ErrMalformed)
	require.NoError(t, ar.Close())
}

// An Archiver keeps a group's publications: a subscriber that starts
// after the publisher left replays them from the archive.
func ExampleArchiver() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	group := enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent(fmt.Sprint(time.Now().UnixNano()))}
	topic := join(group, "log")
	connect := func(who string) *ndnx.Node {
		id, err := ndntest.Anchor().Issue(join(group, who), time.Hour)
		if err != nil {
			panic(err)
		}
		node, err := ndnx.Connect(ctx, ndnx.Config{
			Transport: ndntest.Transport(), Identity: id, Anchors: [][]byte{ndntest.Anchor().CertWire()}, Logger: quiet,
		})
		if err != nil {
			panic(err)
		}
		return node
	}
	config := func(node *ndnx.Node) pubsub.Config {
		cfg := pubsub.DefaultConfig()
		cfg.Group, cfg.Node, cfg.Logger = group, node, quiet
		return cfg
	}

	// The archive: in a program, a repo (repo.GroupSpec.Kind "pubsub").
	archNode := connect("archive")
	defer archNode.Close()
	ar, err := pubsub.NewArchiver(config(archNode), &memSink{a: newMemArchive(), node: archNode, served: map[string]bool{}})
	if err != nil {
		panic(err)
	}
	if err := ar.Start(ctx); err != nil {
		panic(err)
	}
	defer ar.Close()

	pubNode := connect("pub")
	pub, _ := pubsub.New(config(pubNode))
	_ = pub.Start(ctx)
	logTopic, _ := pub.Advertise(topic)
	for _, m := range []string{"started", "working", "done"} {
		_ = logTopic.Publish(ctx, []byte(m))
	}
	for len(ar.Streams()) == 0 || ar.Streams()[0].Seq < logTopic.Stats().Seq {
		if ctx.Err() != nil {
			panic("not archived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pub.Close()
	pubNode.Close()

	subNode := connect("late")
	defer subNode.Close()
	sub, _ := pubsub.New(config(subNode))
	_ = sub.Start(ctx)
	defer sub.Close()
	got := make(chan *pubsub.Message, 3)
	if _, err := sub.Subscribe(pubsub.SubscribeConfig{Topic: topic, Replay: true, Chan: got}); err != nil {
		panic(err)
	}
	for range 3 {
		select {
		case m := <-got:
			fmt.Println(string(m.Payload))
		case <-ctx.Done():
			panic("not replayed")
		}
	}
	// Output:
	// started
	// working
	// done
}
