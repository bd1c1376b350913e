package ndndrepo_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/object/storage"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/keychain"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/ndndrepo"
	"github.com/ndn-invoke/ndn-invoke/security"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

// fakeBackend records what the protocol asks of the repo core.
type fakeBackend struct {
	mu      sync.Mutex
	inserts []repo.InsertSpec
	puts    []putCall
	joins   []repo.GroupSpec
	leaves  []enc.Name
	authz   []string       // "verb caller target"
	counts  map[string]int // "protocol/verb/result"
	jobs    int

	// deny, if set, refuses Authorize when it returns true.
	deny func(caller enc.Name, verb string, target enc.Name) bool
	// failNext makes the next backend operation (not Authorize) fail with it.
	failNext error
	// joinGate, if set, blocks JoinGroup until it is closed (or ctx ends);
	// joinEntered then gets a value when JoinGroup starts waiting.
	joinGate    chan struct{}
	joinEntered chan struct{}
}

type putCall struct {
	wire     []byte
	register enc.Name
}

var (
	_ ndndrepo.Backend = (*fakeBackend)(nil)
	_ ndndrepo.Backend = (*repo.Repo)(nil) // the core, as wired in cmd/ndn-repo
)

func newFake() *fakeBackend { return &fakeBackend{counts: map[string]int{}} }

// The test's goroutine and the server's handler goroutines share the fake;
// the network between them is no synchronization the race detector sees,
// so every field is set and read under mu.

func (f *fakeBackend) setDeny(deny func(caller enc.Name, verb string, target enc.Name) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deny = deny
}

func (f *fakeBackend) setFailNext(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = err
}

// gateJoins makes JoinGroup wait until the returned channel is closed.
func (f *fakeBackend) gateJoins() (gate, entered chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joinGate, f.joinEntered = make(chan struct{}), make(chan struct{}, 1)
	return f.joinGate, f.joinEntered
}

func (f *fakeBackend) takeFail() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.failNext
	f.failNext = nil
	return err
}

func (f *fakeBackend) Insert(_ context.Context, s repo.InsertSpec) (repo.Job, error) {
	if err := f.takeFail(); err != nil {
		return repo.Job{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inserts = append(f.inserts, s)
	f.jobs++
	return repo.Job{ID: fmt.Sprintf("job%d", f.jobs), Name: s.Name, State: repo.JobRunning}, nil
}

func (f *fakeBackend) PutData(_ context.Context, wire []byte, register enc.Name) error {
	if err := f.takeFail(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts = append(f.puts, putCall{wire: append([]byte(nil), wire...), register: register.Clone()})
	return nil
}

func (f *fakeBackend) JoinGroup(ctx context.Context, g repo.GroupSpec) error {
	f.mu.Lock()
	gate, entered := f.joinGate, f.joinEntered
	f.mu.Unlock()
	if gate != nil {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := f.takeFail(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joins = append(f.joins, g)
	return nil
}

func (f *fakeBackend) LeaveGroup(_ context.Context, group enc.Name) error {
	if err := f.takeFail(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leaves = append(f.leaves, group.Clone())
	return nil
}

func (f *fakeBackend) Authorize(_ context.Context, caller enc.Name, verb string, target enc.Name) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authz = append(f.authz, verb+" "+caller.String()+" "+target.String())
	if f.deny != nil && f.deny(caller, verb, target) {
		return fmt.Errorf("fake: %w", security.ErrPolicyDenied)
	}
	return nil
}

func (f *fakeBackend) Count(protocol, verb, result string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[protocol+"/"+verb+"/"+result]++
}

func (f *fakeBackend) snapshot() fakeBackend {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := map[string]int{}
	for k, v := range f.counts {
		c[k] = v
	}
	return fakeBackend{
		inserts: append([]repo.InsertSpec(nil), f.inserts...),
		puts:    append([]putCall(nil), f.puts...),
		joins:   append([]repo.GroupSpec(nil), f.joins...),
		leaves:  append([]enc.Name(nil), f.leaves...),
		authz:   append([]string(nil), f.authz...),
		counts:  c,
	}
}

func tctx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func name(t testing.TB, s string) enc.Name {
	t.Helper()
	n, err := enc.NameFromStr(s)
	require.NoError(t, err)
	return n
}

// under returns prefix/<more...>, a fresh name.
func under(prefix enc.Name, more ...string) enc.Name {
	n := prefix.Clone()
	for _, m := range more {
		n = n.Append(enc.NewGenericComponent(m))
	}
	return n
}

// fixture is a repo node serving ndnd commands on the real forwarder, with
// a fake core behind it.
type fixture struct {
	prefix enc.Name
	node   *ndnx.Node
	srv    *ndndrepo.Server
	b      *fakeBackend
}

func newFixture(t *testing.T, cfg ndndrepo.Config) *fixture {
	t.Helper()
	f := &fixture{prefix: ndntest.Prefix(t), b: newFake()}
	f.node = ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "repo")})
	cfg.Prefix = f.prefix
	if cfg.Logger == nil && !testing.Verbose() {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := ndndrepo.Serve(tctx(t, 10*time.Second), f.node, f.b, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	f.srv = srv
	return f
}

// keySchema is an ndnd trust schema that lets any certificate sign
// anything and suggests one key: the smallest "right security
// configuration" alo-history's comment asks for, so that ndnd's
// ExpressCommand signs with a real key instead of DigestSha256.
type keySchema struct{ s ndn.Signer }

func (keySchema) Check(enc.Name, enc.Name) bool               { return true }
func (k keySchema) Suggest(enc.Name, ndn.KeyChain) ndn.Signer { return k.s }

// tapEngine is the node's ndnd engine, seen through a tap that records
// every Interest ndnd's client expresses and every Data it gets back, so a
// test can read the repo's reply even where ExpressCommand's own
// validation hides it (std/object/client_cmd.go:96).
type tapEngine struct {
	ndn.Engine
	mu        sync.Mutex
	interests [][]byte
	replies   [][]byte
}

func (e *tapEngine) Express(i *ndn.EncodedInterest, cb ndn.ExpressCallbackFunc) error {
	e.mu.Lock()
	e.interests = append(e.interests, i.Wire.Join())
	e.mu.Unlock()
	return e.Engine.Express(i, func(a ndn.ExpressCallbackArgs) {
		if a.Result == ndn.InterestResultData {
			e.mu.Lock()
			e.replies = append(e.replies, a.RawData.Join())
			e.mu.Unlock()
		}
		cb(a)
	})
}

// last returns the last Interest sent and the last Data received under
// prefix (ExpressCommand also fetches certificates to validate the reply).
func (e *tapEngine) last(t *testing.T, prefix enc.Name) (interest []byte, reply ndn.Data) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.interests) - 1; i >= 0 && interest == nil; i-- {
		in, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(e.interests[i]))
		require.NoError(t, err)
		if prefix.IsPrefix(in.Name()) {
			interest = e.interests[i]
		}
	}
	for i := len(e.replies) - 1; i >= 0 && reply == nil; i-- {
		d, _, err := spec.Spec{}.ReadData(enc.NewBufferView(e.replies[i]))
		require.NoError(t, err)
		if prefix.IsPrefix(d.Name()) {
			reply = d
		}
	}
	return interest, reply
}

// ndndApp is an application written for ndnd's repo: ndnd's own object
// client, with its ExpressCommand, on a node of its own.
type ndndApp struct {
	id     *security.Identity
	node   *ndnx.Node
	tap    *tapEngine
	client ndn.Client
}

// newNdndApp makes an ndnd app whose trust config suggests its own key. With
// signed false it is alo-history exactly: object.NewClient(engine, store,
// nil), which signs commands with DigestSha256.
func newNdndApp(t *testing.T, who string, signed bool) *ndndApp {
	t.Helper()
	a := &ndndApp{id: ndntest.Identity(t, who)}
	a.node = ndntest.Connect(t, ndnx.Config{Identity: a.id})
	a.tap = &tapEngine{Engine: a.node.Engine()}
	var trust *sec.TrustConfig
	if signed {
		kc := keychain.NewKeyChainMem(storage.NewMemoryStore())
		anchor := ndntest.Anchor()
		require.NoError(t, kc.InsertCert(anchor.CertWire()))
		tc, err := sec.NewTrustConfig(kc, keySchema{a.id.Signer()}, []enc.Name{anchor.CertName()})
		require.NoError(t, err)
		trust = tc
	}
	// Not started: Start would attach a second root handler to the engine
	// the node's own client holds; ExpressCommand needs only the engine.
	a.client = object.NewClient(a.tap, storage.NewMemoryStore(), trust)
	return a
}

// outcome is what one ExpressCommand produced: the callback's result and
// the repo's reply as seen on the wire.
type outcome struct {
	cbContent []byte
	cbErr     error
	res       *tlv.RepoCmdRes
	params    []byte // the ApplicationParameters sent (the command Data)
}

// express sends cmd exactly as alo-history does:
//
//	client.ExpressCommand(repoName.Append(enc.NewKeywordComponent("cmd")),
//		name.Append(enc.NewKeywordComponent("repo")), cmd, callback)
func (a *ndndApp) express(t *testing.T, repoName enc.Name, cmd enc.Wire) outcome {
	t.Helper()
	type cbResult struct {
		w   enc.Wire
		err error
	}
	ch := make(chan cbResult, 1)
	a.client.ExpressCommand(
		repoName.Clone().Append(enc.NewKeywordComponent("cmd")),
		a.id.Name().Clone().Append(enc.NewKeywordComponent("repo")),
		cmd,
		func(w enc.Wire, err error) { ch <- cbResult{w, err} })
	var o outcome
	select {
	case r := <-ch:
		o.cbErr = r.err
		if r.w != nil {
			o.cbContent = r.w.Join()
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ExpressCommand callback never came")
	}
	interest, reply := a.tap.last(t, ndndrepo.CommandName(repoName))
	if interest != nil {
		i, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(interest))
		require.NoError(t, err)
		o.params = i.AppParam().Join()
	}
	if reply != nil {
		res, err := ndndrepo.ParseResponse(reply.Content().Join())
		require.NoError(t, err)
		o.res = res
	}
	return o
}

// rawCommand sends params as the ApplicationParameters of an unsigned
// Interest to the repo's command name from node, verifies the reply and
// returns its RepoCmdRes.
func rawCommand(t *testing.T, node *ndnx.Node, repoName enc.Name, params []byte) *tlv.RepoCmdRes {
	t.Helper()
	ctx := tctx(t, 5*time.Second)
	var ap enc.Wire
	if params != nil {
		ap = enc.Wire{params}
	}
	i, err := node.MakeInterest(ctx, ndndrepo.CommandName(repoName), &ndn.InterestConfig{MustBeFresh: true}, ap, false)
	require.NoError(t, err)
	d, err := node.Express(ctx, i)
	require.NoError(t, err)
	_, err = node.VerifyData(ctx, d)
	require.NoError(t, err, "the repo's reply must verify")
	require.True(t, d.Data.Name().Equal(i.FinalName), "reply named as the Interest")
	res, err := ndndrepo.ParseResponse(d.Data.Content().Join())
	require.NoError(t, err)
	return res
}

// signedCommand is a command Data signed by signer.
func signedCommand(t testing.TB, signer ndn.Signer, dataName enc.Name, content []byte) []byte {
	t.Helper()
	d, err := spec.Spec{}.MakeData(dataName, &ndn.DataConfig{}, enc.Wire{content}, signer)
	require.NoError(t, err)
	return d.Wire.Join()
}

// blobData is a Data packet named n, signed with DigestSha256 (the repo
// stores packets as given; their signatures are the consumers' business).
func blobData(t testing.TB, n enc.Name, content string) []byte {
	t.Helper()
	d, err := spec.Spec{}.MakeData(n, &ndn.DataConfig{}, enc.Wire{[]byte(content)}, sig.NewSha256Signer())
	require.NoError(t, err)
	return d.Wire.Join()
}

func syncJoin(protocol, group enc.Name, threshold uint64) *tlv.RepoCmd {
	sj := &tlv.SyncJoin{}
	if protocol != nil {
		sj.Protocol = &spec.NameContainer{Name: protocol}
	}
	if group != nil {
		sj.Group = &spec.NameContainer{Name: group}
	}
	if threshold > 0 {
		sj.HistorySnapshot = &tlv.HistorySnapshotConfig{Threshold: threshold}
	}
	return &tlv.RepoCmd{SyncJoin: sj}
}

// tlvOf encodes one TLV.
func tlvOf(typ byte, v []byte) []byte {
	var l []byte
	switch {
	case len(v) < 253:
		l = []byte{byte(len(v))}
	default:
		l = []byte{253, byte(len(v) >> 8), byte(len(v))}
	}
	return append(append([]byte{typ}, l...), v...)
}
