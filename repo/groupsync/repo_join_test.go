package groupsync_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/rpc"
)

// TestRepoJoin drives the repo's join command end to end: a repo joined to
// a group by command stores every publication of an ndnd SvsALO publisher,
// serves them after the publisher is gone, rejoins the group after a
// restart (from its records) and catches up on what it missed.
func TestRepoJoin(t *testing.T) {
	group := ndntest.Prefix(t)
	dir := t.TempDir()
	id := ndntest.Identity(t, "repo")
	start := func() (*repo.Repo, *store.Store) {
		node := ndntest.Connect(t, ndnx.Config{Identity: id})
		st, err := store.Open(dir, store.DefaultConfig())
		require.NoError(t, err)
		r, err := repo.New(node, st, repo.Config{Prefix: id.Name(), VerifyData: true})
		require.NoError(t, err)
		require.NoError(t, r.Start(ctxT(t, 10*time.Second)))
		return r, st
	}
	r, st := start()
	userNode := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "user")})
	c, err := repo.NewClient(userNode, id.Name(), rpc.ClientConfig{})
	require.NoError(t, err)
	defer c.Close()
	ctx := ctxT(t, 60*time.Second)
	require.NoError(t, c.Join(ctx, repo.GroupSpec{Group: group}))
	require.Len(t, r.Groups(), 1)

	p := newPublisher(t, group, "alice", pubOpts{})
	p.publishN("first", 5)
	has := func(st *store.Store, names ...string) func() bool {
		return func() bool {
			for _, n := range p.published {
				if _, err := st.Get(n, true, false, time.Now()); err != nil {
					return false
				}
			}
			return true
		}
	}
	waitFor(t, 20*time.Second, "5 publications stored", has(st))

	// Restart the repo: the group membership comes back from the store.
	require.NoError(t, r.Close())
	require.NoError(t, st.Close())
	p.publishN("while-down", 3)
	r, st = start()
	defer func() { r.Close(); st.Close() }()
	require.Len(t, r.Groups(), 1)
	waitFor(t, 30*time.Second, "publications made while down stored", has(st))

	// The repo serves them, with the publisher gone.
	last := p.published[len(p.published)-1]
	p.node.Close() // (its ALO is stopped by the cleanup; Stop twice hangs)
	consumer := ndntest.Connect(t, ndnx.Config{})
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d, err := consumer.Fetch(fctx, last, true, false)
	if err != nil {
		t.Fatalf("fetch %s: %v (prefixes %v)", last, err, r.Prefixes())
	}
	require.Equal(t, "while-down-2", string(d.Data.Content().Join()))

	require.NoError(t, c.Leave(ctx, group))
	require.Empty(t, r.Groups())
	require.Error(t, c.Leave(ctx, group))
}
