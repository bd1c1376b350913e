package groupsync_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	spec_svs "github.com/named-data/ndnd/std/ndn/svs/v3"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo/groupsync"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// TestStoresEveryPublication: publications made with ndnd's SvsALO,
// including multi-segment ones, are all stored byte for byte, verify, and
// reach OnPublication in order.
func TestStoresEveryPublication(t *testing.T) {
	group := ndntest.Prefix(t)
	sink := newMemSink()
	var got received
	node := ndntest.Connect(t, ndnx.Config{})
	cfg := testConfig(group, sink)
	cfg.OnPublication = got.on
	m := join(t, node, cfg)

	p := newPublisher(t, group, "alice", pubOpts{})
	var want []pub
	for i := range 12 {
		content := fmt.Sprintf("msg-%d", i)
		if i%5 == 4 {
			content = strings.Repeat(fmt.Sprint(i), 10000) // 2-3 segments of 8000 bytes
		}
		name := p.publish(content)
		want = append(want, pub{name.String(), content})
	}
	waitFor(t, 20*time.Second, "all delivered", func() bool { return publisherStats(m, p).Delivered == 12 })
	require.Equal(t, want, got.list())
	checkStored(t, node, sink, p, p.published)

	st := m.Stats()
	require.EqualValues(t, 12, st.Publications)
	require.EqualValues(t, 12, st.Delivered)
	require.EqualValues(t, 0, st.Rejected)
	require.Positive(t, st.SyncInterests)
	require.EqualValues(t, sink.len(), st.Packets)
	require.Len(t, st.Publishers, 1)
	require.EqualValues(t, 12, st.Publishers[0].Latest)
}

// TestRestartResumes: a member that closes and joins again with its saved
// state fetches only what is new, catches up on what was published while
// it was away without waiting for a new publication, and keeps going.
func TestRestartResumes(t *testing.T) {
	group := ndntest.Prefix(t)
	sink := newMemSink()
	p := newPublisher(t, group, "alice", pubOpts{})

	var got1 received
	node1 := ndntest.Connect(t, ndnx.Config{})
	cfg := testConfig(group, sink)
	cfg.OnPublication = got1.on
	m1 := join(t, node1, cfg)
	p.publishN("first", 10)
	waitFor(t, 20*time.Second, "first batch delivered", func() bool { return publisherStats(m1, p).Delivered == 10 })
	require.NoError(t, m1.Close())
	require.NoError(t, m1.Close(), "idempotent")
	require.NoError(t, node1.Close())
	require.Len(t, got1.list(), 10)
	putsBefore := len(sink.putNames())

	p.publishN("while-down", 5) // nobody listening

	var got2 received
	node2 := ndntest.Connect(t, ndnx.Config{})
	cfg.OnPublication = got2.on
	m2 := join(t, node2, cfg)
	require.EqualValues(t, 10, publisherStats(m2, p).Delivered, "resumed from the saved state")
	waitFor(t, 20*time.Second, "missed ones caught up", func() bool { return publisherStats(m2, p).Delivered == 15 })
	p.publishN("after", 3)
	waitFor(t, 20*time.Second, "new ones delivered", func() bool { return publisherStats(m2, p).Delivered == 18 })

	// Only the publications made after the restart were fetched again.
	published := p.published
	var wantNew []string
	for _, n := range published[10:] {
		wantNew = append(wantNew, n.Clone().Append(enc.NewSegmentComponent(0)).String())
	}
	require.ElementsMatch(t, wantNew, sink.putNames()[putsBefore:])
	var names []string
	for _, r := range got2.list() {
		names = append(names, r.name)
	}
	var wantNames []string
	for _, n := range published[10:] {
		wantNames = append(wantNames, n.String())
	}
	require.Equal(t, wantNames, names, "OnPublication only for new publications, in order")
	checkStored(t, node2, sink, p, published)
}

// TestTwoPublishers: publications of two ndnd publishers, interleaved.
func TestTwoPublishers(t *testing.T) {
	group := ndntest.Prefix(t)
	sink := newMemSink()
	var got received
	node := ndntest.Connect(t, ndnx.Config{})
	cfg := testConfig(group, sink)
	cfg.OnPublication = got.on
	m := join(t, node, cfg)
	alice := newPublisher(t, group, "alice", pubOpts{})
	bob := newPublisher(t, group, "bob", pubOpts{})
	for i := range 8 {
		alice.publish(fmt.Sprintf("a%d", i))
		bob.publish(fmt.Sprintf("b%d", i))
	}
	waitFor(t, 20*time.Second, "both delivered", func() bool {
		return publisherStats(m, alice).Delivered == 8 && publisherStats(m, bob).Delivered == 8
	})
	checkStored(t, node, sink, alice, alice.published)
	checkStored(t, node, sink, bob, bob.published)
	// In order per publisher.
	var a, b []string
	for _, r := range got.list() {
		if strings.HasPrefix(r.content, "a") {
			a = append(a, r.content)
		} else {
			b = append(b, r.content)
		}
	}
	require.Equal(t, []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"}, a)
	require.Equal(t, []string{"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"}, b)
}

// TestBadSignatureNotStored: publications signed by a key that does not
// match the certificate their KeyLocator names are fetched Retries times,
// then skipped: never stored, never delivered; the good ones around them
// are.
func TestBadSignatureNotStored(t *testing.T) {
	group := ndntest.Prefix(t)
	sink := newMemSink()
	var got received
	node := ndntest.Connect(t, ndnx.Config{})
	cfg := testConfig(group, sink)
	cfg.OnPublication = got.on
	cfg.Retries = 2
	m := join(t, node, cfg)

	_, forgedKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	p := newPublisher(t, group, "mallory", pubOpts{signer: func(id *security.Identity, name enc.Name) ndn.Signer {
		for _, c := range name {
			if c.Typ == enc.TypeSequenceNumNameComponent && c.NumberVal()%2 == 1 {
				// Same KeyLocator as the real key, another private key.
				return signer.NewEd25519Signer(id.KeyName(), forgedKey)
			}
		}
		return id.Signer()
	}})
	for i := range 6 {
		p.publish(fmt.Sprintf("m%d", i))
	}
	waitFor(t, 20*time.Second, "all settled", func() bool { return publisherStats(m, p).Delivered == 6 })
	st := m.Stats()
	require.EqualValues(t, 3, st.Skipped)
	require.EqualValues(t, 6, st.Rejected, "each bad publication fetched Retries times")
	require.EqualValues(t, 3, st.Publications)
	for i, name := range p.published {
		seg0 := name.Clone().Append(enc.NewSegmentComponent(0))
		if i%2 == 0 { // seq i+1 is odd: forged
			require.Nil(t, sink.get(seg0), "forged %s stored", seg0)
		} else {
			require.NotNil(t, sink.get(seg0))
		}
	}
	require.Equal(t, []pub{{p.published[1].String(), "m1"}, {p.published[3].String(), "m3"}, {p.published[5].String(), "m5"}}, got.list())
}

// TestCloseWithFetchesInFlight: Close returns promptly while fetches wait
// on the network and while the Sink blocks, and leaves no goroutine behind
// (TestMain checks).
func TestCloseWithFetchesInFlight(t *testing.T) {
	t.Run("network", func(t *testing.T) {
		group := ndntest.Prefix(t)
		node := ndntest.Connect(t, ndnx.Config{})
		cfg := testConfig(group, newMemSink())
		cfg.FetchTimeout = 30 * time.Second
		m := join(t, node, cfg)
		p := newPublisher(t, group, "silent", pubOpts{noData: true})
		p.publishN("x", 20)
		waitFor(t, 10*time.Second, "announced", func() bool { return publisherStats(m, p).Latest == 20 })
		start := time.Now()
		require.NoError(t, m.Close())
		require.Less(t, time.Since(start), 3*time.Second)
	})
	t.Run("sink", func(t *testing.T) {
		group := ndntest.Prefix(t)
		node := ndntest.Connect(t, ndnx.Config{})
		sink := newMemSink()
		sink.block = true
		m := join(t, node, testConfig(group, sink))
		p := newPublisher(t, group, "alice", pubOpts{})
		p.publishN("x", 20)
		waitFor(t, 10*time.Second, "announced", func() bool { return publisherStats(m, p).Latest == 20 })
		waitFor(t, 10*time.Second, "fetches blocked in the sink", func() bool { return sink.blockedNow() > 0 })
		start := time.Now()
		require.NoError(t, m.Close())
		require.Less(t, time.Since(start), 3*time.Second)
		require.EqualValues(t, 0, publisherStats(m, p).Delivered)
	})
}

// TestSinkErrorsRetried: a PutData failure is retried; nothing is lost.
func TestSinkErrorsRetried(t *testing.T) {
	group := ndntest.Prefix(t)
	sink := newMemSink()
	sink.putErrs = 3
	node := ndntest.Connect(t, ndnx.Config{})
	m := join(t, node, testConfig(group, sink))
	p := newPublisher(t, group, "alice", pubOpts{})
	p.publishN("x", 5)
	waitFor(t, 20*time.Second, "all delivered", func() bool { return publisherStats(m, p).Delivered == 5 })
	require.EqualValues(t, 3, m.Stats().SinkErrors)
	checkStored(t, node, sink, p, p.published)
}

// TestHistorySnapshots: a member joining a group whose publisher already
// evicted its oldest publications (ndnd's SnapshotNodeHistory keeps the
// last three snapshots' worth) recovers them from the history snapshots,
// stores every snapshot and the index, and fetches the rest one by one.
func TestHistorySnapshots(t *testing.T) {
	group := ndntest.Prefix(t)
	p := newPublisher(t, group, "alice", pubOpts{snapshot: 10})
	p.publishN("early", 45) // snapshots at 1, 11, 21, 31, 41; 1-21 evicted

	sink := newMemSink()
	var got received
	node := ndntest.Connect(t, ndnx.Config{})
	cfg := testConfig(group, sink)
	cfg.HistorySnapshot = 10
	cfg.OnPublication = got.on
	m := join(t, node, cfg)
	p.publish("late") // seq 46: tells the member
	waitFor(t, 30*time.Second, "all delivered", func() bool { return publisherStats(m, p).Delivered == 46 })

	list := got.list()
	require.Len(t, list, 46)
	for i, r := range list {
		require.Equal(t, p.published[i].String(), r.name)
		require.Equal(t, p.content[r.name], r.content)
	}
	st := m.Stats()
	require.EqualValues(t, 21, st.FromSnapshots)
	require.EqualValues(t, 25, st.Publications)
	require.EqualValues(t, 5, st.Snapshots)
	checkStored(t, node, sink, p, p.published[21:])
	for _, v := range []uint64{1, 11, 21, 31, 41} {
		name := group.Clone().Append(comp("alice"), enc.NewTimestampComponent(p.alo.BootTime()),
			enc.NewKeywordComponent("HIST"), enc.NewVersionComponent(v), enc.NewSegmentComponent(0))
		require.NotNil(t, sink.get(name), "snapshot %s stored", name)
	}
	var idx int
	for _, n := range sink.putNames() {
		if strings.Contains(n, "/32=HIDX/") {
			idx++
		}
	}
	require.Positive(t, idx, "index stored")

	// More publications and a new snapshot: stored as they come.
	p.publishN("more", 10) // snapshot at 51
	waitFor(t, 20*time.Second, "more delivered", func() bool { return publisherStats(m, p).Delivered == 56 })
	waitFor(t, 10*time.Second, "snapshot 51 stored", func() bool { return m.Stats().Snapshots == 6 })
}

// TestMulticastPrefix: publishers using a MulticastPrefix.
func TestMulticastPrefix(t *testing.T) {
	group := ndntest.Prefix(t)
	mc := ndntest.Prefix(t)
	sink := newMemSink()
	node := ndntest.Connect(t, ndnx.Config{})
	cfg := testConfig(group, sink)
	cfg.MulticastPrefix = mc
	m := join(t, node, cfg)
	require.True(t, mc.IsPrefix(m.SyncPrefix()))
	p := newPublisher(t, group, "alice", pubOpts{multicast: mc})
	p.publishN("x", 4)
	waitFor(t, 20*time.Second, "all delivered", func() bool { return publisherStats(m, p).Delivered == 4 })
	checkStored(t, node, sink, p, p.published)
}

// TestJoinErrors: configuration, verifier, corrupt state, double join.
func TestJoinErrors(t *testing.T) {
	group := ndntest.Prefix(t)
	node := ndntest.Connect(t, ndnx.Config{})
	ctx := ctxT(t, 10*time.Second)

	_, err := groupsync.Join(ctx, node, groupsync.Config{Group: group})
	require.ErrorIs(t, err, groupsync.ErrBadConfig)
	_, err = groupsync.Join(ctx, nil, testConfig(group, newMemSink()))
	require.ErrorIs(t, err, groupsync.ErrBadConfig)

	bare := ndntest.Connect(t, ndnx.Config{Anchors: [][]byte{}})
	require.Nil(t, bare.Verifier())
	_, err = groupsync.Join(ctx, bare, testConfig(group, newMemSink()))
	require.ErrorIs(t, err, groupsync.ErrNoVerifier)

	bad := newMemSink()
	bad.states[group.String()] = []byte{0xC0, 0x05, 1, 2}
	_, err = groupsync.Join(ctx, node, testConfig(group, bad))
	require.ErrorIs(t, err, groupsync.ErrBadState)

	m := join(t, node, testConfig(group, newMemSink()))
	_, err = groupsync.Join(ctx, node, testConfig(group, newMemSink()))
	require.ErrorIs(t, err, ndn.ErrMultipleHandlers)
	require.NoError(t, m.Close())
	m2 := join(t, node, testConfig(group, newMemSink()))
	require.NoError(t, m2.Close())
}

// TestBadSyncInterestsIgnored: Sync Interests whose Sync Data is garbage,
// outside the group, unsigned or signed by a key that does not chain to
// the anchor are dropped; the member learns nothing from them.
func TestBadSyncInterestsIgnored(t *testing.T) {
	group := ndntest.Prefix(t)
	node := ndntest.Connect(t, ndnx.Config{})
	m := join(t, node, testConfig(group, newMemSink()))

	rogueID, err := security.NewAnchor(enc.Name{comp("rogue")}, time.Hour)
	require.NoError(t, err)
	rogue := ndntest.Connect(t, ndnx.Config{Identity: rogueID})
	good := ndntest.Identity(t, "good")
	other := ndntest.Prefix(t)

	syncData := func(name enc.Name, s ndn.Signer) []byte {
		sv := &spec_svs.StateVector{Entries: []*spec_svs.StateVectorEntry{{
			Name: enc.Name{comp("x")}, SeqNoEntries: []*spec_svs.SeqNoEntry{{BootstrapTime: 1, SeqNo: 3}},
		}}}
		d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{}, (&spec_svs.SvsData{StateVector: sv}).Encode(), s)
		require.NoError(t, err)
		return d.Wire.Join()
	}
	inGroup := group.Clone().Append(comp("x"), enc.NewTimestampComponent(1), enc.NewKeywordComponent("svs"), enc.NewVersionComponent(1))
	for _, ap := range [][]byte{
		[]byte("garbage"),
		{0x06, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30},
		syncData(other.Clone().Append(comp("svs")), good.Signer()),
		syncData(inGroup, signer.NewSha256Signer()),
		syncData(inGroup, rogueID.Signer()),
	} {
		i, err := rogue.MakeInterest(ctxT(t, time.Second), m.SyncPrefix(), nil, enc.Wire{ap}, false)
		require.NoError(t, err)
		require.NoError(t, rogue.Engine().Express(i, nil))
	}
	waitFor(t, 10*time.Second, "all dropped", func() bool { return m.Stats().BadSync == 5 })
	require.Empty(t, m.Stats().Publishers)
	require.Zero(t, m.Stats().SyncInterests)
}

// TestSaveStateRetried: a failed SaveState is retried; Close saves.
func TestSaveStateRetried(t *testing.T) {
	group := ndntest.Prefix(t)
	sink := newMemSink()
	sink.saveErrs = 2
	node := ndntest.Connect(t, ndnx.Config{})
	m := join(t, node, testConfig(group, sink))
	p := newPublisher(t, group, "alice", pubOpts{})
	p.publishN("x", 3)
	waitFor(t, 20*time.Second, "delivered", func() bool { return publisherStats(m, p).Delivered == 3 })
	waitFor(t, 10*time.Second, "saved despite failures", func() bool { return sink.savedOK() > 0 })
	require.EqualValues(t, 2, m.Stats().SinkErrors)
	require.NoError(t, m.Close())

	// The saved state resumes at 3.
	m2 := join(t, ndntest.Connect(t, ndnx.Config{}), testConfig(group, sink))
	require.EqualValues(t, 3, publisherStats(m2, p).Delivered)
}

// TestNoVerify: with Verify off, a node without trust anchors stores what
// it fetches as is.
func TestNoVerify(t *testing.T) {
	group := ndntest.Prefix(t)
	sink := newMemSink()
	node := ndntest.Connect(t, ndnx.Config{Anchors: [][]byte{}})
	cfg := testConfig(group, sink)
	cfg.Verify = false
	m := join(t, node, cfg)
	p := newPublisher(t, group, "alice", pubOpts{})
	p.publishN("x", 3)
	waitFor(t, 20*time.Second, "delivered", func() bool { return publisherStats(m, p).Delivered == 3 })
	checkStored(t, ndntest.Connect(t, ndnx.Config{}), sink, p, p.published)
}
