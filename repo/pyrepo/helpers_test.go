package pyrepo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/pyrepo"
	"github.com/ndn-invoke/ndn-invoke/security"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

// fakeBackend records every call. Authorize allows a verb to a caller whose
// key is under an identity given to allow.
type fakeBackend struct {
	mu        sync.Mutex
	allowed   map[string][]enc.Name // verb -> identity names
	inserts   []repo.InsertSpec
	jobs      map[string]*repo.Job
	deletes   []deleteCall
	stored    map[string]enc.Name // packets the fake "holds", by TLV string
	joins     []repo.GroupSpec
	leaves    []enc.Name
	counts    map[string]int // "verb/result"
	failOn    string         // a verb whose backend call fails
	forbidden []enc.Name     // targets denied to everyone
}

type deleteCall struct {
	name   enc.Name
	prefix bool
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{allowed: map[string][]enc.Name{}, jobs: map[string]*repo.Job{}, stored: map[string]enc.Name{}, counts: map[string]int{}}
}

func (f *fakeBackend) allow(id *security.Identity, verbs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range verbs {
		f.allowed[v] = append(f.allowed[v], id.Name())
	}
}

func (f *fakeBackend) store(names ...enc.Name) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range names {
		f.stored[n.TlvStr()] = n
	}
}

func (f *fakeBackend) Insert(_ context.Context, spec repo.InsertSpec) (repo.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inserts = append(f.inserts, spec)
	if f.failOn == "insert" {
		return repo.Job{}, fmt.Errorf("fake: insert refused")
	}
	j := &repo.Job{ID: fmt.Sprintf("job%d", len(f.inserts)), Name: spec.Name, State: repo.JobRunning, Caller: spec.Caller, Started: time.Now()}
	f.jobs[j.ID] = j
	return *j, nil
}

func (f *fakeBackend) Job(id string) (repo.Job, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	if !ok {
		return repo.Job{}, false
	}
	return *j, true
}

func (f *fakeBackend) setJob(id string, state repo.JobState, packets uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs[id].State, f.jobs[id].Packets = state, packets
}

func (f *fakeBackend) Delete(_ context.Context, name enc.Name, prefix bool) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes = append(f.deletes, deleteCall{name, prefix})
	if f.failOn == "delete" {
		return 0, fmt.Errorf("fake: delete refused")
	}
	n := 0
	for k, s := range f.stored {
		if s.Equal(name) || (prefix && name.IsPrefix(s)) {
			delete(f.stored, k)
			n++
		}
	}
	return n, nil
}

func (f *fakeBackend) JoinGroup(_ context.Context, g repo.GroupSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joins = append(f.joins, g)
	if f.failOn == "join" {
		return fmt.Errorf("fake: join refused")
	}
	return nil
}

func (f *fakeBackend) LeaveGroup(_ context.Context, group enc.Name) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leaves = append(f.leaves, group)
	return nil
}

func (f *fakeBackend) Authorize(_ context.Context, caller enc.Name, verb string, target enc.Name) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.forbidden {
		if n.IsPrefix(target) {
			return fmt.Errorf("%w: %s is forbidden", security.ErrPermissionDenied, target)
		}
	}
	for _, id := range f.allowed[verb] {
		if id.IsPrefix(caller) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s may not %s %s", security.ErrPermissionDenied, caller, verb, target)
}

func (f *fakeBackend) Count(protocol, verb, result string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if protocol != "pyrepo" {
		panic("Count: protocol " + protocol)
	}
	f.counts[verb+"/"+result]++
}

func (f *fakeBackend) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[key]
}

// calls returns how many backend calls changed state.
func (f *fakeBackend) calls() (inserts, deletes, joins, leaves int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.inserts), len(f.deletes), len(f.joins), len(f.leaves)
}

func (f *fakeBackend) insertSpecs() []repo.InsertSpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]repo.InsertSpec(nil), f.inserts...)
}

// fixture is a repo Server on the test forwarder with a fake backend.
type fixture struct {
	repo    enc.Name
	node    *ndnx.Node
	backend *fakeBackend
	srv     *pyrepo.Server
}

func newFixture(t *testing.T, cfg pyrepo.Config) *fixture {
	t.Helper()
	f := &fixture{repo: ndntest.Prefix(t), backend: newFakeBackend()}
	f.node = ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "repo")})
	cfg.Prefix = f.repo
	srv, err := pyrepo.Serve(tctx(t, 10*time.Second), f.node, f.backend, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	f.srv = srv
	return f
}

// user is a client identity with its node and pyrepo.Client.
type user struct {
	id     *security.Identity
	node   *ndnx.Node
	client *pyrepo.Client
}

func newUser(t *testing.T, f *fixture, name string, cfg pyrepo.ClientConfig) *user {
	t.Helper()
	u := &user{id: ndntest.Identity(t, name)}
	u.node = ndntest.Connect(t, ndnx.Config{Identity: u.id})
	cfg.Repo = f.repo
	if cfg.CheckInterval == 0 {
		cfg.CheckInterval = 20 * time.Millisecond
	}
	c, err := pyrepo.NewClient(u.node, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	u.client = c
	return u
}

func tctx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func name(t testing.TB, s string) enc.Name {
	t.Helper()
	n, err := enc.NameFromStr(s)
	require.NoError(t, err)
	return n
}

func u64(v uint64) *uint64 { return &v }

// rawPub is a hand-driven publisher for attacks: it serves whatever Data
// it is told to under <prefix>/msg and sends notify Interests with any
// ApplicationParameters.
type rawPub struct {
	node   *ndnx.Node
	prefix enc.Name
	mu     sync.Mutex
	data   map[string]enc.Wire // by Interest name
	any    enc.Wire            // answers every msg Interest when set
	asked  int
}

func newRawPub(t *testing.T, node *ndnx.Node) *rawPub {
	t.Helper()
	p := &rawPub{node: node, prefix: ndntest.Prefix(t).Append(enc.NewGenericComponent("pub")), data: map[string]enc.Wire{}}
	msg := p.prefix.Append(enc.NewGenericComponent("msg"))
	require.NoError(t, node.Handle(msg, func(_ context.Context, in *ndnx.Incoming) {
		p.mu.Lock()
		p.asked++
		w, ok := p.data[in.Interest.Name().TlvStr()]
		if !ok && p.any != nil {
			w, ok = p.any, true
		}
		p.mu.Unlock()
		if ok {
			_ = in.Reply(w)
		}
	}))
	require.NoError(t, node.Register(tctx(t, 5*time.Second), msg, nil))
	return p
}

func (p *rawPub) serve(n enc.Name, w enc.Wire) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.data[n.TlvStr()] = w
}

func (p *rawPub) msgInterests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.asked
}

// notify sends one signed notify Interest for v with the given
// ApplicationParameters and waits up to lifetime for the acknowledgement.
func (p *rawPub) notify(t *testing.T, repoName enc.Name, v pyrepo.Verb, appParam []byte, lifetime time.Duration) error {
	t.Helper()
	ctx := tctx(t, lifetime+time.Second)
	i, err := p.node.MakeInterest(ctx, v.NotifyPrefix(repoName), &ndn.InterestConfig{Lifetime: optional.Some(lifetime)}, enc.Wire{appParam}, true)
	require.NoError(t, err)
	_, err = p.node.Express(ctx, i)
	return err
}

// publish serves msg under the message name for (v, nonce) and notifies.
func (p *rawPub) publish(t *testing.T, repoName enc.Name, v pyrepo.Verb, nonce []byte, msg enc.Wire) error {
	t.Helper()
	p.serve(pyrepo.MsgName(p.prefix, v.Topic(repoName), nonce), msg)
	np := pyrepo.NotifyAppParam{Publisher: p.prefix, Nonce: nonce}
	return p.notify(t, repoName, v, np.Encode(), 3*time.Second)
}

// finishJobs waits (on its own goroutine, until ctx ends) for the backend
// to have n insert jobs, then sets the last len(states) of them to states,
// with Packets = 3. The returned channel closes when it is done.
func finishJobs(ctx context.Context, f *fakeBackend, n int, states ...repo.JobState) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if got, _, _, _ := f.calls(); got >= n {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		for i, st := range states {
			f.setJob(fmt.Sprintf("job%d", n-len(states)+i+1), st, 3)
		}
	}()
	return done
}
