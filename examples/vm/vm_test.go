package vm_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/examples/vm"
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

func TestCreateRequestValidate(t *testing.T) {
	tests := []struct {
		name    string
		in      vm.CreateRequest
		wantErr string // "" for valid
	}{
		{"ok", vm.CreateRequest{Name: "web", Seconds: 30}, ""},
		{"ok upper and digits", vm.CreateRequest{Name: "Web-01", Seconds: 1}, ""},
		{"ok longest", vm.CreateRequest{Name: strings.Repeat("a", vm.MaxNameLen), Seconds: 3600}, ""},
		{"empty name", vm.CreateRequest{Seconds: 3}, "needs a name"},
		{"long name", vm.CreateRequest{Name: strings.Repeat("a", vm.MaxNameLen+1), Seconds: 3}, "longer than"},
		{"leading dash", vm.CreateRequest{Name: "-web", Seconds: 3}, "starts or ends"},
		{"trailing dash", vm.CreateRequest{Name: "web-", Seconds: 3}, "starts or ends"},
		{"slash", vm.CreateRequest{Name: "../etc", Seconds: 3}, "only letters"},
		{"space", vm.CreateRequest{Name: "a b", Seconds: 3}, "only letters"},
		{"unicode", vm.CreateRequest{Name: "wéb", Seconds: 3}, "only letters"},
		{"zero seconds", vm.CreateRequest{Name: "web"}, "seconds must be 1 to 3600"},
		{"negative seconds", vm.CreateRequest{Name: "web", Seconds: -1}, "seconds must be"},
		{"too many seconds", vm.CreateRequest{Name: "web", Seconds: 3601}, "seconds must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, codes.InvalidArgument, status.Code(err))
			require.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		in      vm.Config
		wantErr bool
	}{
		{"zero", vm.Config{}, false},
		{"default", vm.DefaultConfig(), false},
		{"negative tick", vm.Config{Tick: -time.Second}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			require.Equal(t, tt.wantErr, err != nil, "%v", err)
			if err != nil {
				require.ErrorIs(t, err, vm.ErrInvalidConfig)
				require.ErrorIs(t, vm.Register(rpc.NewMux(), tt.in), vm.ErrInvalidConfig)
			}
		})
	}
}

// fixture is a repo and the identities of the service and a user.
type fixture struct {
	repoPrefix enc.Name
	svcID      *security.Identity
	client     *rpc.Client
}

func newFixture(t *testing.T) *fixture {
	rid := ndntest.Identity(t, "repo")
	rnode := ndntest.Connect(t, ndnx.Config{Identity: rid})
	st, err := store.Open(t.TempDir(), store.DefaultConfig())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	r, err := repo.New(rnode, st, repo.Config{Prefix: rid.Name()})
	require.NoError(t, err)
	require.NoError(t, r.Start(ctxT(t, 10*time.Second)))
	t.Cleanup(func() { r.Close() })

	svcID, err := ndntest.Anchor().Issue(mustName(vm.Service), time.Hour)
	require.NoError(t, err)
	alice, err := ndntest.Anchor().Issue(mustName("/example/users/alice"), time.Hour)
	require.NoError(t, err)
	c, err := rpc.NewClient(ndntest.Connect(t, ndnx.Config{Identity: alice}), rpc.ClientConfig{})
	require.NoError(t, err)
	return &fixture{repoPrefix: rid.Name(), svcID: svcID, client: c}
}

// start runs the service on a node of its own.
func (f *fixture) start(t *testing.T, cfg vm.Config) (*ndnx.Node, *vm.Server) {
	node := ndntest.Connect(t, ndnx.Config{Identity: f.svcID})
	s, err := vm.Start(ctxT(t, 20*time.Second), node, f.repoPrefix, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return node, s
}

// TestResumeKeepsProgress: a service that dies mid-creation (its node
// gone first, so no final record is written, as after kill -9) leaves the
// operation unfinished in the repo; the next run resumes it from the
// recorded progress: progress never goes back, and the result comes.
func TestResumeKeepsProgress(t *testing.T) {
	f := newFixture(t)
	quiet := vm.Config{Tick: 100 * time.Millisecond, Logger: discard()}
	node1, s1 := f.start(t, quiet)
	ctx := ctxT(t, 60*time.Second)
	op, err := f.client.Start(ctx, mustName(vm.Service+"/"+vm.Method), vm.CreateRequest{Name: "web", Seconds: 20}, nil)
	require.NoError(t, err)
	name := mustName(op.Name)

	var mu sync.Mutex
	var seen []int
	done := make(chan *rpc.OpStatus, 1)
	go func() {
		st, err := f.client.WaitOp(ctx, name, func(st *rpc.OpStatus) {
			mu.Lock()
			seen = append(seen, st.Progress)
			mu.Unlock()
		})
		if err != nil {
			st = nil
		}
		done <- st
	}()

	var before int
	require.Eventually(t, func() bool {
		st, err := f.client.GetOp(ctx, name)
		if err == nil {
			before = st.Progress
		}
		return err == nil && st.Progress >= 25
	}, 20*time.Second, 20*time.Millisecond)
	node1.Close() // the crash: nothing more reaches the repo
	s1.Close()
	st, err := f.client.GetOp(ctx, name)
	require.NoError(t, err)
	require.False(t, st.Done, "the record stays unfinished while the service is down")
	require.GreaterOrEqual(t, st.Progress, before)
	require.Less(t, st.Progress, 100)

	f.start(t, quiet)
	// Read the record often (every 20ms, a "second" is 100ms): a count
	// started again from 0 would show.
	for {
		st, err := f.client.GetOp(ctx, name)
		if err == nil {
			require.GreaterOrEqual(t, st.Progress, before, "the resumed creation went back")
			if st.Done {
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("the operation did not finish")
		case <-time.After(20 * time.Millisecond):
		}
	}
	var final *rpc.OpStatus
	select {
	case final = <-done:
	case <-ctx.Done():
		t.Fatal("the waiting client got no result")
	}
	require.NotNil(t, final)
	require.NoError(t, final.Err())
	require.JSONEq(t, `{"name":"web","state":"RUNNING"}`, string(final.Result))
	require.Equal(t, 1, final.Resumed)
	require.Equal(t, 100, final.Progress)
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(seen); i++ {
		require.GreaterOrEqual(t, seen[i], seen[i-1], "progress went back: %v", seen)
	}
}

// TestStartWithoutRepo: no repo answers at the prefix: a clear error, soon.
func TestStartWithoutRepo(t *testing.T) {
	svcID, err := ndntest.Anchor().Issue(mustName(vm.Service), time.Hour)
	require.NoError(t, err)
	node := ndntest.Connect(t, ndnx.Config{Identity: svcID})
	_, err = vm.Start(ctxT(t, time.Second), node, ndntest.Prefix(t), vm.Config{})
	require.ErrorIs(t, err, vm.ErrNoRepo)
}

func TestEnsureDomain(t *testing.T) {
	dir := t.TempDir()
	d, err := vm.EnsureDomain(dir)
	require.NoError(t, err)
	kc := "dir://" + d.ServiceKeys
	first := map[string]string{}
	for _, uri := range []string{vm.Service, vm.DefaultRepo, "/example/calc"} {
		id, err := security.LoadIdentity(kc, mustName(uri))
		require.NoError(t, err, uri)
		first[uri] = id.CertName().String()
	}
	_, err = vm.EnsureDomain(dir)
	require.NoError(t, err)
	for uri, cert := range first {
		id, err := security.LoadIdentity(kc, mustName(uri))
		require.NoError(t, err)
		require.Equal(t, cert, id.CertName().String(), "a second EnsureDomain must reuse %s", uri)
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
