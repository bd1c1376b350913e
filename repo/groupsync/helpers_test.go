package groupsync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/object/storage"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/keychain"
	ndnsync "github.com/named-data/ndnd/std/sync"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo/groupsync"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// testLogger discards: expected warnings (rejected packets, sink
// failures) would drown the test output. Set GROUPSYNC_LOG=1 to see them.
var testLogger = func() *slog.Logger {
	if os.Getenv("GROUPSYNC_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func comp(s string) enc.Component { return enc.NewGenericComponent(s) }

// memSink is an in-memory groupsync.Sink that records every call.
type memSink struct {
	mu     sync.Mutex
	data   map[string][]byte // name (URI) → wire
	puts   []string          // names put, in order
	states map[string][]byte
	saves  int
	// block, if set, makes PutData wait for ctx (to test Close).
	block    bool
	blocked  int // PutData calls waiting now
	putErrs  int // fail this many PutData calls first
	saveErrs int // fail this many SaveState calls first
}

func newMemSink() *memSink {
	return &memSink{data: map[string][]byte{}, states: map[string][]byte{}}
}

func (s *memSink) PutData(ctx context.Context, wire []byte) error {
	s.mu.Lock()
	block := s.block
	if s.putErrs > 0 {
		s.putErrs--
		s.mu.Unlock()
		return errors.New("disk full")
	}
	s.mu.Unlock()
	if block {
		s.mu.Lock()
		s.blocked++
		s.mu.Unlock()
		<-ctx.Done()
		s.mu.Lock()
		s.blocked--
		s.mu.Unlock()
		return ctx.Err()
	}
	d, _, err := spec.Spec{}.ReadData(enc.NewBufferView(wire))
	if err != nil {
		return err
	}
	name := d.Name().String()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[name] = wire
	s.puts = append(s.puts, name)
	return nil
}

func (s *memSink) LoadState(group enc.Name) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.states[group.String()], nil
}

func (s *memSink) SaveState(_ context.Context, group enc.Name, state []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saveErrs > 0 {
		s.saveErrs--
		return errors.New("disk full")
	}
	s.states[group.String()] = slices.Clone(state)
	s.saves++
	return nil
}

func (s *memSink) savedOK() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

func (s *memSink) get(name enc.Name) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data[name.String()]
}

func (s *memSink) putNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.puts)
}

func (s *memSink) blockedNow() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blocked
}

func (s *memSink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.data)
}

// received records OnPublication calls.
type received struct {
	mu   sync.Mutex
	pubs []pub
}

type pub struct {
	name    string
	content string
}

func (r *received) on(_ context.Context, _ enc.Name, name enc.Name, content []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pubs = append(r.pubs, pub{name.String(), string(content)})
}

func (r *received) list() []pub {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.pubs)
}

// keySchema is an ndnd trust schema that accepts everything and signs with
// the signer its pick function chooses (by default the app's own key), as
// a LightVerSec schema suggesting the app's key would.
type keySchema struct{ pick func(enc.Name) ndn.Signer }

func (keySchema) Check(enc.Name, enc.Name) bool                      { return true }
func (s keySchema) Suggest(name enc.Name, _ ndn.KeyChain) ndn.Signer { return s.pick(name) }

// raceFreeEngine works around a data race in ndnd's SvSync (publisher
// side, not our code): every publication starts a goroutine that sends a
// Sync Interest (std/sync/svs.go:265), each calls Spec().MakeInterest on
// the same prefix (svs.go:453), and the encoder appends the parameters
// digest into the prefix's spare capacity (std/ndn/spec_2022/
// zz_generated.go:1716), which SvSync made with Name.Append (capacity +8):
// concurrent publications write the same array. Handing the encoder a
// clone (capacity = length) makes it allocate; the packets are unchanged.
//
// The same happens to the Sync Data name (svs.go:481, WithVersion appends
// into the spare capacity ALO's Name.Append left): there only the first
// append writes into the spare slot (name_pattern.go:262-268 reuses a slot
// whose type is still 0), so newPublisher waits until the first Sync
// Interest is out, counted here, before anyone publishes.
type raceFreeEngine struct {
	ndn.Engine
	expressed *atomic.Int64
}

func (e raceFreeEngine) Spec() ndn.Spec { return cloningSpec{} }

func (e raceFreeEngine) Express(i *ndn.EncodedInterest, cb ndn.ExpressCallbackFunc) error {
	e.expressed.Add(1)
	return e.Engine.Express(i, cb)
}

type cloningSpec struct{ spec.Spec }

func (s cloningSpec) MakeInterest(name enc.Name, cfg *ndn.InterestConfig, ap enc.Wire, sg ndn.Signer) (*ndn.EncodedInterest, error) {
	return s.Spec.MakeInterest(name.Clone(), cfg, ap, sg)
}

// publisher is an ndnd application publishing into a group with ndnd's own
// SvsALO, on a node of its own.
type publisher struct {
	t     *testing.T
	id    *security.Identity
	node  *ndnx.Node
	name  enc.Name // publisher name in the group
	alo   *ndnsync.SvsALO
	store ndn.Store

	mu        sync.Mutex
	published []enc.Name // publication names (versioned) in order
	content   map[string]string
}

type pubOpts struct {
	snapshot  uint64                                                // history snapshot threshold
	multicast enc.Name                                              // MulticastPrefix
	signer    func(id *security.Identity, name enc.Name) ndn.Signer // overrides the signer choice
	noData    bool                                                  // do not register the data prefix
}

// newPublisher starts a publisher named /<who> in group. Its object client
// shares the node's store (which the node's own started client serves), so
// what ALO produces is answered on the network; it is not started itself:
// Start would attach a second root handler to the node's engine.
func newPublisher(t *testing.T, group enc.Name, who string, o pubOpts) *publisher {
	t.Helper()
	p := &publisher{t: t, id: ndntest.Identity(t, who), name: enc.Name{comp(who)}, content: map[string]string{}}
	p.node = ndntest.Connect(t, ndnx.Config{Identity: p.id})
	p.store = p.node.Store()
	kc := keychain.NewKeyChainMem(storage.NewMemoryStore())
	anchor := ndntest.Anchor()
	require.NoError(t, kc.InsertCert(anchor.CertWire()))
	// Its own key and certificate, as an ndnd app's keychain holds them
	// (it validates its own Sync Data when a member re-sends it).
	require.NoError(t, kc.InsertKey(p.id.Signer()))
	require.NoError(t, kc.InsertCert(p.id.CertWire()))
	pick := func(enc.Name) ndn.Signer { return p.id.Signer() }
	if o.signer != nil {
		pick = func(name enc.Name) ndn.Signer { return o.signer(p.id, name) }
	}
	tc, err := sec.NewTrustConfig(kc, keySchema{pick}, []enc.Name{anchor.CertName()})
	require.NoError(t, err)
	var expressed atomic.Int64
	client := object.NewClient(raceFreeEngine{p.node.Engine(), &expressed}, p.store, tc)

	var snap ndnsync.Snapshot
	if o.snapshot > 0 {
		snap = &ndnsync.SnapshotNodeHistory{Client: client, Threshold: o.snapshot}
	}
	p.alo, err = ndnsync.NewSvsALO(ndnsync.SvsAloOpts{
		Name:            p.name,
		Svs:             ndnsync.SvSyncOpts{Client: client, GroupPrefix: group},
		Snapshot:        snap,
		MulticastPrefix: o.multicast,
	})
	require.NoError(t, err)
	p.alo.SetOnError(func(error) {})
	require.NoError(t, p.alo.Start())
	t.Cleanup(func() { _ = p.alo.Stop() })
	waitFor(t, 5*time.Second, "first Sync Interest sent", func() bool { return expressed.Load() > 0 })
	ctx := ctxT(t, 10*time.Second)
	require.NoError(t, p.node.Register(ctx, p.alo.SyncPrefix(), nil))
	if !o.noData {
		require.NoError(t, p.node.Register(ctx, p.alo.DataPrefix(), nil))
	}
	return p
}

// publish publishes content and returns the publication's name.
func (p *publisher) publish(content string) enc.Name {
	p.t.Helper()
	name, _, err := p.alo.Publish(enc.Wire{[]byte(content)})
	require.NoError(p.t, err)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = append(p.published, name.Clone())
	p.content[name.String()] = content
	return name
}

// publishN publishes n messages "<prefix>-<i>".
func (p *publisher) publishN(prefix string, n int) {
	for i := range n {
		p.publish(fmt.Sprintf("%s-%d", prefix, i))
	}
}

// segments returns the Data packets of publication name, as the publisher
// produced them (from its store).
func (p *publisher) segments(name enc.Name) [][]byte {
	p.t.Helper()
	var out [][]byte
	for seg := uint64(0); ; seg++ {
		w, err := p.store.Get(name.Clone().Append(enc.NewSegmentComponent(seg)), false)
		require.NoError(p.t, err)
		if w == nil {
			return out
		}
		out = append(out, w)
	}
}

// checkStored asserts that sink holds every segment of every publication
// in names byte for byte as the publisher produced it, and that each
// verifies against the test anchor.
func checkStored(t *testing.T, verifier *ndnx.Node, sink *memSink, p *publisher, names []enc.Name) {
	t.Helper()
	for _, name := range names {
		segs := p.segments(name)
		require.NotEmpty(t, segs, "publisher still has %s", name)
		for i, want := range segs {
			segName := name.Clone().Append(enc.NewSegmentComponent(uint64(i)))
			got := sink.get(segName)
			require.NotNil(t, got, "stored %s", segName)
			require.True(t, bytes.Equal(want, got), "stored %s byte for byte", segName)
			d, sigCov, err := spec.Spec{}.ReadData(enc.NewBufferView(got))
			require.NoError(t, err)
			key, err := verifier.VerifyData(ctxT(t, 5*time.Second), &ndnx.Data{Data: d, Raw: enc.Wire{got}, SigCovered: sigCov})
			require.NoError(t, err, "stored %s verifies", segName)
			require.True(t, p.id.KeyName().Equal(key))
		}
	}
}

// publisherStats returns the member's progress for p (zero if unknown).
func publisherStats(m *groupsync.Member, p *publisher) groupsync.PublisherStats {
	for _, ps := range m.Stats().Publishers {
		if ps.Name.Equal(p.name) && ps.Boot == p.alo.BootTime() {
			return ps
		}
	}
	return groupsync.PublisherStats{}
}

// join joins group on node with the test defaults.
func join(t *testing.T, node *ndnx.Node, cfg groupsync.Config) *groupsync.Member {
	t.Helper()
	m, err := groupsync.Join(ctxT(t, 10*time.Second), node, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func testConfig(group enc.Name, sink groupsync.Sink) groupsync.Config {
	cfg := groupsync.DefaultConfig()
	cfg.Group = group
	cfg.Sink = sink
	cfg.RetryBackoff = 50 * time.Millisecond
	cfg.MaxRetryBackoff = 500 * time.Millisecond
	cfg.SaveInterval = 50 * time.Millisecond
	cfg.Logger = testLogger
	return cfg
}
