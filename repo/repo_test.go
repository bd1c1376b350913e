package repo_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// fixture is a started repo whose identity is its prefix.
type fixture struct {
	r    *repo.Repo
	st   *store.Store
	node *ndnx.Node
	dir  string
	cfg  repo.Config
}

func startRepo(t *testing.T, dir string, cfg repo.Config, id *security.Identity) *fixture {
	t.Helper()
	if id == nil {
		id = ndntest.Identity(t, "repo")
	}
	node := ndntest.Connect(t, ndnx.Config{Identity: id})
	st, err := store.Open(dir, store.DefaultConfig())
	require.NoError(t, err)
	cfg.Prefix = id.Name()
	r, err := repo.New(node, st, cfg)
	require.NoError(t, err)
	require.NoError(t, r.Start(ctxT(t, 10*time.Second)))
	f := &fixture{r: r, st: st, node: node, dir: dir, cfg: cfg}
	t.Cleanup(f.stop)
	return f
}

func (f *fixture) stop() {
	f.r.Close()
	f.st.Close()
	f.node.Close()
}

// producer publishes objects under its ObjectPrefix until the test ends.
type producer struct {
	node *ndnx.Node
}

func newProducer(t *testing.T) *producer {
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "producer")})
	require.NoError(t, node.ServeObjects(ctxT(t, 5*time.Second)))
	return &producer{node: node}
}

// publish produces content as a segmented object with RDR metadata and
// returns its name (unversioned).
func (p *producer) publish(t *testing.T, suffix string, content []byte) enc.Name {
	name := p.node.ObjectPrefix().Append(enc.NewGenericComponent(suffix))
	_, err := object.Produce(ndn.ProduceArgs{
		Name:    name.Append(enc.NewVersionComponent(uint64(time.Now().UnixNano()))),
		Content: enc.Wire{bytes.Clone(content)},
	}, p.node.Store(), p.node.Identity().Signer())
	require.NoError(t, err)
	return name
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func client(t *testing.T, name string, prefix enc.Name) *repo.Client {
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, name)})
	c, err := repo.NewClient(node, prefix, rpc.ClientConfig{})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestInsertFetchAfterProducerLeaves is the repo's main job: an object is
// inserted by command, its producer goes away, and a consumer still
// fetches it — resolving the version through the repo's RDR metadata and
// verifying every segment's producer signature.
func TestInsertFetchAfterProducerLeaves(t *testing.T) {
	f := startRepo(t, t.TempDir(), repo.Config{}, nil)
	p := newProducer(t)
	content := randomBytes(300_000) // about 38 segments
	name := p.publish(t, "blob", content)

	c := client(t, "user", f.r.Prefix())
	ctx := ctxT(t, 60*time.Second)
	j, err := c.Insert(ctx, repo.InsertRequest{Name: name.String()})
	require.NoError(t, err)
	require.Equal(t, "running", j.State)
	var seen []repo.JobStatus
	j, err = c.Wait(ctx, j.ID, 50*time.Millisecond, func(s repo.JobStatus) { seen = append(seen, s) })
	require.NoError(t, err)
	require.Equal(t, "done", j.State, "job: %+v", j)
	require.EqualValues(t, j.Total, j.Packets)
	require.NotEmpty(t, seen)

	p.node.Close() // the producer is gone; only the repo has the object

	consumer := ndntest.Connect(t, ndnx.Config{})
	var out bytes.Buffer
	obj, err := consumer.FetchObject(ctx, name, &out, nil)
	require.NoError(t, err)
	require.Equal(t, j.Version, obj.Name.String())
	require.True(t, bytes.Equal(content, out.Bytes()), "content differs")

	// list, stats, delete
	var names []string
	for n, err := range c.List(ctx, name, 10) {
		require.NoError(t, err)
		names = append(names, n)
	}
	require.Len(t, names, int(j.Packets))
	stats, err := c.Stats(ctx)
	require.NoError(t, err)
	require.EqualValues(t, j.Packets+1, stats.Packets, "segments and the producer's certificate")
	require.Contains(t, stats.Prefixes, name.String())
	n, err := c.Delete(ctx, name, true)
	require.NoError(t, err)
	require.Equal(t, int(j.Packets), n)
	_, err = c.Delete(ctx, name, false)
	require.Equal(t, codes.NotFound, status.Code(err))
}

// TestServeSemantics checks exact, CanBePrefix and MustBeFresh answers
// from packets put directly.
func TestServeSemantics(t *testing.T) {
	f := startRepo(t, t.TempDir(), repo.Config{}, nil)
	p := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "producer")})
	base := ndntest.Prefix(t)
	mk := func(v uint64, fresh time.Duration) []byte {
		cfg := &ndn.DataConfig{}
		if fresh > 0 {
			cfg.Freshness = optional.Some(fresh)
		}
		w, err := p.SignData(base.Append(enc.NewVersionComponent(v)), cfg, enc.Wire{[]byte("v")})
		require.NoError(t, err)
		return w.Join()
	}
	c := client(t, "user", f.r.Prefix())
	ctx := ctxT(t, 30*time.Second)
	// v=2 fresh for an hour, v=3 never fresh.
	stored, err := c.Put(ctx, [][]byte{mk(1, time.Hour), mk(2, time.Hour), mk(3, 0)}, base)
	require.NoError(t, err)
	require.Equal(t, 3, stored)

	consumer := ndntest.Connect(t, ndnx.Config{})
	get := func(name enc.Name, cbp, mbf bool) enc.Name {
		d, err := consumer.Fetch(ctx, name, cbp, mbf)
		require.NoError(t, err, "fetch %s", name)
		return d.Data.Name()
	}
	// Order matters: the forwarder's Content Store answers later
	// CanBePrefix Interests with whatever matching packet it holds.
	require.Equal(t, base.Append(enc.NewVersionComponent(3)).String(), get(base, true, false).String())
	require.Equal(t, base.Append(enc.NewVersionComponent(2)).String(), get(base, true, true).String())
	require.Equal(t, base.Append(enc.NewVersionComponent(1)).String(), get(base.Append(enc.NewVersionComponent(1)), false, false).String())

	// Cache entries: served like durable ones, counted apart.
	cached := mk(4, time.Hour)
	n, err := c.PutCache(ctx, [][]byte{cached}, time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, base.Append(enc.NewVersionComponent(4)).String(), get(base.Append(enc.NewVersionComponent(4)), false, false).String())
	st := f.st.Stats()
	require.EqualValues(t, 3, st.Packets)
	require.EqualValues(t, 1, st.CachePackets)

	// A name not stored: no answer (the Interest times out).
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = consumer.Fetch(short, base.Append(enc.NewVersionComponent(9)), false, false)
	require.Error(t, err)
}

// TestCommandAuthorization: the policy decides per object name, unsigned
// and malformed commands are refused and store nothing.
func TestCommandAuthorization(t *testing.T) {
	alice := ndntest.Identity(t, "alice")
	pol, err := security.ParsePolicy("allow " + alice.Name().String() + "/<...> to call /<...>\n")
	require.NoError(t, err)
	f := startRepo(t, t.TempDir(), repo.Config{Policy: pol}, nil)
	ctx := ctxT(t, 30*time.Second)

	mallory := client(t, "mallory", f.r.Prefix())
	_, err = mallory.Insert(ctx, repo.InsertRequest{Name: "/anything"})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	_, err = mallory.Delete(ctx, enc.Name{enc.NewGenericComponent("x")}, true)
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)

	node := ndntest.Connect(t, ndnx.Config{Identity: alice})
	ac, err := repo.NewClient(node, f.r.Prefix(), rpc.ClientConfig{})
	require.NoError(t, err)
	defer ac.Close()
	_, err = ac.Insert(ctx, repo.InsertRequest{Name: ""})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	_, err = ac.Put(ctx, [][]byte{{0x06, 0x01, 0x00}}, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	_, err = ac.Status(ctx, "nope")
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)

	// Unsigned: a public call is refused by rpc itself.
	rc, err := rpc.NewClient(node, rpc.ClientConfig{})
	require.NoError(t, err)
	err = rc.CallName(ctx, f.r.Prefix().Append(enc.NewGenericComponent("stats")), repo.Empty{}, nil, &rpc.CallConfig{Public: true})
	require.Error(t, err)
	require.Zero(t, f.st.Stats().Packets)
}

// TestRestartServesAndResumes: after a restart the repo serves what it
// stored and finished jobs are still queryable.
func TestRestartServesAndResumes(t *testing.T) {
	dir := t.TempDir()
	id := ndntest.Identity(t, "repo")
	f := startRepo(t, dir, repo.Config{}, id)
	p := newProducer(t)
	content := randomBytes(20_000)
	name := p.publish(t, "doc", content)
	ctx := ctxT(t, 60*time.Second)
	j, err := f.r.Insert(ctx, repo.InsertSpec{Name: name})
	require.NoError(t, err)
	j, err = f.r.Wait(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, repo.JobDone, j.State, j.Err)
	p.node.Close()
	f.stop()

	f2 := startRepo(t, dir, repo.Config{}, id)
	j2, ok := f2.r.Job(j.ID)
	require.True(t, ok)
	require.Equal(t, repo.JobDone, j2.State)
	consumer := ndntest.Connect(t, ndnx.Config{})
	var out bytes.Buffer
	_, err = consumer.FetchObject(ctx, name, &out, nil)
	require.NoError(t, err)
	require.True(t, bytes.Equal(content, out.Bytes()))
}

// TestInsertSinglePacketAndFailure: a name without metadata is fetched as
// one packet; a name nobody serves fails the job with a reason.
func TestInsertSinglePacketAndFailure(t *testing.T) {
	f := startRepo(t, t.TempDir(), repo.Config{}, nil)
	p := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "producer")})
	name := ndntest.Prefix(t).Append(enc.NewGenericComponent("one"))
	w, err := p.SignData(name, &ndn.DataConfig{}, enc.Wire{[]byte("hello")})
	require.NoError(t, err)
	require.NoError(t, p.Handle(name, func(_ context.Context, in *ndnx.Incoming) { _ = in.Reply(w) }))
	ctx := ctxT(t, 60*time.Second)
	// The producer registers a shorter prefix than the name, as producers
	// usually do.
	require.NoError(t, p.Register(ctx, name[:len(name)-1], nil))

	j, err := f.r.Insert(ctx, repo.InsertSpec{Name: name})
	require.NoError(t, err)
	j, err = f.r.Wait(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, repo.JobDone, j.State, j.Err)
	got, err := f.st.Get(name, false, false, time.Now())
	require.NoError(t, err)
	require.Equal(t, w.Join(), got)

	missing := ndntest.Prefix(t).Append(enc.NewGenericComponent("missing"))
	j, err = f.r.Insert(ctx, repo.InsertSpec{Name: missing})
	require.NoError(t, err)
	j, err = f.r.Wait(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, repo.JobFailed, j.State)
	require.NotEmpty(t, j.Err)
	_, err = f.st.Get(missing, true, false, time.Now())
	require.True(t, errors.Is(err, store.ErrNotFound))
}

// TestInsertThroughForwardingHint: a producer reachable only through a
// forwarding hint (as NDNts's pyrepo client makes it) is fetched from.
// Regression: the single-packet fetch once dropped the hint (segment
// fetches kept it).
func TestInsertThroughForwardingHint(t *testing.T) {
	f := startRepo(t, t.TempDir(), repo.Config{}, nil)
	p := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "producer")})
	base := ndntest.Prefix(t)
	hint := ndntest.Prefix(t)
	ctx := ctxT(t, 60*time.Second)
	one := base.Append(enc.NewGenericComponent("one"))
	w, err := p.SignData(one, &ndn.DataConfig{}, enc.Wire{[]byte("hinted")})
	require.NoError(t, err)
	require.NoError(t, p.Handle(base, func(_ context.Context, in *ndnx.Incoming) {
		if in.Interest.Name().Equal(one) {
			_ = in.Reply(w)
		}
	}))
	require.NoError(t, p.Register(ctx, hint, nil)) // only the hint is routed

	j, err := f.r.Insert(ctx, repo.InsertSpec{Name: one, ForwardingHint: hint})
	require.NoError(t, err)
	j, err = f.r.Wait(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, repo.JobDone, j.State, j.Err)
	got, err := f.st.Get(one, false, false, time.Now())
	require.NoError(t, err)
	require.Equal(t, w.Join(), got)
}
