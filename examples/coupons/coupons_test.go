package coupons_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/examples/coupons"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
	"github.com/ndn-invoke/ndn-invoke/security"
)

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// fixture is a repo archiving a fresh group, a registration front end and
// a coupon service's identity and state directory.
type fixture struct {
	t     *testing.T
	cfg   coupons.Config
	repo  *testRepo
	web   *ndnx.Node
	reg   *coupons.Registration
	shop  *ndnx.Node
	dir   string
	shopN enc.Name
}

func newFixture(t *testing.T) *fixture {
	ctx := ctxT(t, 20*time.Second)
	group := ndntest.Prefix(t)
	f := &fixture{t: t, dir: t.TempDir(), shopN: ndntest.Identity(t, "shop").Name(),
		cfg: coupons.Config{Group: group, Topic: append(group.Clone(), enc.NewGenericComponent("registered")), Logger: quiet}}
	var err error
	f.repo, err = startRepo(ctx, group)
	require.NoError(t, err)
	t.Cleanup(f.repo.Close)
	f.web = ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "web"), Logger: quiet})
	c := f.cfg
	c.Node = f.web
	f.reg, err = coupons.NewRegistration(ctx, c)
	require.NoError(t, err)
	t.Cleanup(func() { f.reg.Close() })
	return f
}

// service starts the coupon service (same identity and Dir each time); it
// is stopped when the test ends if not before.
func (f *fixture) service() *coupons.Service {
	t := f.t
	id, err := ndntest.Anchor().Issue(f.shopN, time.Hour)
	require.NoError(t, err)
	f.shop = ndntest.Connect(t, ndnx.Config{Identity: id, Logger: quiet})
	sc := coupons.ServiceConfig{Config: f.cfg, Dir: f.dir}
	sc.Node = f.shop
	svc, err := coupons.StartService(ctxT(t, 10*time.Second), sc)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	return svc
}

func grantsOf(t *testing.T, svc *coupons.Service) []string {
	t.Helper()
	gs, err := svc.Grants()
	require.NoError(t, err)
	var out []string
	for _, g := range gs {
		require.Equal(t, coupons.CouponCode(g.User), g.Code)
		out = append(out, g.User)
	}
	return out
}

func waitGrants(t *testing.T, svc *coupons.Service, n int) []string {
	t.Helper()
	var got []string
	err := waitFor(ctxT(t, 20*time.Second), fmt.Sprint(n, " grants"), func() bool {
		got = grantsOf(t, svc)
		return len(got) >= n
	})
	require.NoError(t, err, "granted %v", got)
	return got
}

// Issue #7's scenario: users 1-3 register with the coupon service up;
// the service stops; users 4-6 register (Register returns at once, nobody
// receiving); the front end exits; the service restarts with the same
// checkpoint and grants 4-6 from the repo (the forwarder's Content Store
// is off), never 1-3 again; a third run grants nothing.
func TestCouponsWhileDown(t *testing.T) {
	f := newFixture(t)
	ctx := ctxT(t, 60*time.Second)
	svc := f.service()
	for i := 1; i <= 3; i++ {
		require.NoError(t, f.reg.Register(ctx, fmt.Sprint("user", i)))
	}
	assert.Equal(t, []string{"user1", "user2", "user3"}, waitGrants(t, svc, 3))
	require.NoError(t, svc.Close())
	require.NoError(t, svc.Close(), "Close is idempotent")
	require.NoError(t, f.shop.Close())
	_, err := svc.Grants()
	assert.ErrorIs(t, err, coupons.ErrClosed)

	// Registration does not wait for the coupon service: a 2s bound is
	// plenty, and nobody but the repo is there to receive.
	quick := ctxT(t, 2*time.Second)
	for i := 4; i <= 6; i++ {
		require.NoError(t, f.reg.Register(quick, fmt.Sprint("user", i)))
	}
	require.NoError(t, f.reg.Flush(ctx), "the repo fetched the registrations")
	require.NoError(t, waitFor(ctx, "archived", func() bool { return f.repo.archived() >= 2 }))
	require.NoError(t, f.reg.Close())
	require.NoError(t, f.web.Close())
	assert.ErrorIs(t, f.reg.Register(ctx, "late"), coupons.ErrClosed)
	ndntest.NoContentStore(t)

	svc = f.service()
	want := []string{"user1", "user2", "user3", "user4", "user5", "user6"}
	assert.Equal(t, want, waitGrants(t, svc, 6))
	require.NoError(t, waitFor(ctxT(t, 10*time.Second), "3 grants counted", func() bool { return svc.Stats().Granted == 3 }))
	assert.Equal(t, coupons.ServiceStats{Granted: 3}, svc.Stats(), "1-3 were not delivered again")
	require.NoError(t, svc.Close())
	require.NoError(t, f.shop.Close())

	// A third run grants only what is new: a new front end registers
	// user7; the old registrations are not delivered again.
	svc = f.service()
	web2 := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "web2"), Logger: quiet})
	c := f.cfg
	c.Node = web2
	reg2, err := coupons.NewRegistration(ctx, c)
	require.NoError(t, err)
	defer reg2.Close()
	require.NoError(t, reg2.Register(ctx, "user7"))
	assert.Equal(t, append(want, "user7"), waitGrants(t, svc, 7))
	// The grant is stored before it is counted.
	require.NoError(t, waitFor(ctxT(t, 10*time.Second), "1 grant counted", func() bool { return svc.Stats().Granted == 1 }))
	assert.Equal(t, coupons.ServiceStats{Granted: 1}, svc.Stats())
}

// A user registered twice, as a re-delivery after a crash between storing
// a grant and committing the checkpoint would look, is granted once; an
// event that is not a registration is counted and skipped.
func TestRepeatsAndRejects(t *testing.T) {
	f := newFixture(t)
	ctx := ctxT(t, 30*time.Second)
	svc := f.service()
	require.NoError(t, f.reg.Register(ctx, "ann"))
	require.NoError(t, f.reg.Register(ctx, "ann"))
	assert.ErrorIs(t, f.reg.Register(ctx, "two words"), coupons.ErrBadUser)

	// Someone else in the group publishes junk on the topic.
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "junk"), Logger: quiet})
	pc := pubsub.DefaultConfig()
	pc.Group, pc.Node, pc.Logger = f.cfg.Group, node, quiet
	ps, err := pubsub.New(pc)
	require.NoError(t, err)
	require.NoError(t, ps.Start(ctx))
	defer ps.Close()
	tp, err := ps.Advertise(f.cfg.Topic)
	require.NoError(t, err)
	require.NoError(t, tp.Publish(ctx, []byte("not json")))
	require.NoError(t, f.reg.Register(ctx, "bo"))

	require.NoError(t, waitFor(ctx, "all delivered", func() bool {
		s := svc.Stats()
		return s.Granted == 2 && s.Repeats == 1 && s.Rejected == 1
	}), "%+v", svc.Stats())
	assert.Equal(t, []string{"ann", "bo"}, grantsOf(t, svc))
}

// A state directory is held by one Service at a time.
func TestServiceDirLocked(t *testing.T) {
	f := newFixture(t)
	f.service()
	other := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "other"), Logger: quiet})
	sc := coupons.ServiceConfig{Config: f.cfg, Dir: f.dir}
	sc.Node = other
	_, err := coupons.StartService(ctxT(t, 10*time.Second), sc)
	assert.Error(t, err)
}

func TestConfigValidate(t *testing.T) {
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "v"), Logger: quiet})
	anon := ndntest.Connect(t, ndnx.Config{Logger: quiet})
	tests := []struct {
		name    string
		cfg     coupons.ServiceConfig
		wantErr bool
	}{
		{"ok", coupons.ServiceConfig{Config: coupons.Config{Node: node}, Dir: "d"}, false},
		{"no node", coupons.ServiceConfig{Dir: "d"}, true},
		{"no identity", coupons.ServiceConfig{Config: coupons.Config{Node: anon}, Dir: "d"}, true},
		{"no dir", coupons.ServiceConfig{Config: coupons.Config{Node: node}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr {
				assert.ErrorIs(t, err, coupons.ErrBadConfig)
			} else {
				assert.NoError(t, err)
			}
		})
	}
	_, err := coupons.NewRegistration(ctxT(t, time.Second), coupons.Config{})
	assert.ErrorIs(t, err, coupons.ErrBadConfig)
	_, err = coupons.StartService(ctxT(t, time.Second), coupons.ServiceConfig{Config: coupons.Config{Node: node}})
	assert.ErrorIs(t, err, coupons.ErrBadConfig)
}

func TestEvents(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{"ok", `{"user":"alice"}`, "alice", false},
		{"unicode", `{"user":"zoë"}`, "zoë", false},
		{"extra field", `{"user":"bob","x":1}`, "bob", false},
		{"empty user", `{"user":""}`, "", true},
		{"space", `{"user":"a b"}`, "", true},
		{"control", `{"user":"a\u0007"}`, "", true},
		{"too long", `{"user":"` + strings.Repeat("x", coupons.MaxUser+1) + `"}`, "", true},
		{"not json", `alice`, "", true},
		{"huge", `{"user":"` + strings.Repeat(" ", 4096) + `"}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := coupons.DecodeEvent([]byte(tt.in))
			if tt.wantErr {
				assert.ErrorIs(t, err, coupons.ErrBadUser)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			b, err := coupons.EncodeEvent(got)
			require.NoError(t, err)
			again, err := coupons.DecodeEvent(b)
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
	_, err := coupons.EncodeEvent("")
	assert.ErrorIs(t, err, coupons.ErrBadUser)
	assert.Equal(t, "WELCOME-2BD806C9", coupons.CouponCode("alice"))
}

// The demo domain gains the example's identities once and keeps them.
func TestEnsureDomain(t *testing.T) {
	dir := t.TempDir()
	d, err := coupons.EnsureDomain(dir)
	require.NoError(t, err)
	var certs []string
	for _, uri := range []string{coupons.WebIdentity, coupons.ServiceIdentity, coupons.RepoIdentity} {
		n, err := enc.NameFromStr(uri)
		require.NoError(t, err)
		id, err := security.LoadIdentity("dir://"+d.ServiceKeys, n)
		require.NoError(t, err, uri)
		certs = append(certs, id.CertName().String())
	}
	_, err = coupons.EnsureDomain(dir)
	require.NoError(t, err)
	for i, uri := range []string{coupons.WebIdentity, coupons.ServiceIdentity, coupons.RepoIdentity} {
		n, _ := enc.NameFromStr(uri)
		id, err := security.LoadIdentity("dir://"+d.ServiceKeys, n)
		require.NoError(t, err)
		assert.Equal(t, certs[i], id.CertName().String(), "reused")
	}
}
