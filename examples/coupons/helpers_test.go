package coupons_test

import (
	"context"

	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
)

// Helpers shared by the Example and the tests (an Example has no
// testing.T, so they return errors).

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// uniqueName is /example/<kind>-<nanoseconds>/<rest...>: a fresh namespace
// per run, under the test anchor's trust.
func uniqueName(kind string, rest ...string) enc.Name {
	n := enc.Name{enc.NewGenericComponent("ndntest"), enc.NewGenericComponent(fmt.Sprint(kind, "-", time.Now().UnixNano()))}
	for _, r := range rest {
		n = append(n, enc.NewGenericComponent(r))
	}
	return n
}

// connect connects a node with a fresh identity name, certified by the
// test anchor, to the test binary's forwarder.
func connect(ctx context.Context, name enc.Name) (*ndnx.Node, error) {
	id, err := ndntest.Anchor().Issue(name, time.Hour)
	if err != nil {
		return nil, err
	}
	return ndnx.Connect(ctx, ndnx.Config{Transport: ndntest.Transport(), Identity: id,
		Anchors: [][]byte{ndntest.Anchor().CertWire()}, Logger: quiet})
}

// testRepo is a repo daemon's core that archives pub-sub groups, as
// cmd/ndn-repo runs it.
type testRepo struct {
	r    *repo.Repo
	st   *store.Store
	node *ndnx.Node
	dir  string

	mu   sync.Mutex
	arch []*pubsub.Archiver
}

// startRepo starts a repo storing in a new temporary directory and joins
// group as a pub-sub group.
func startRepo(ctx context.Context, group enc.Name) (_ *testRepo, err error) {
	tr := &testRepo{}
	defer func() {
		if err != nil {
			tr.Close()
		}
	}()
	if tr.dir, err = os.MkdirTemp("", "coupons-repo-"); err != nil {
		return nil, err
	}
	name := uniqueName("repo")
	if tr.node, err = connect(ctx, name); err != nil {
		return nil, err
	}
	if tr.st, err = store.Open(tr.dir, store.DefaultConfig()); err != nil {
		return nil, err
	}
	cfg := repo.Config{Prefix: name, Logger: quiet, Archivers: map[string]repo.ArchiverFunc{repo.KindPubSub: tr.archiver}}
	if tr.r, err = repo.New(tr.node, tr.st, cfg); err != nil {
		return nil, err
	}
	if err = tr.r.Start(ctx); err != nil {
		return nil, err
	}
	if err = tr.r.JoinGroup(ctx, repo.GroupSpec{Group: group, Kind: repo.KindPubSub}); err != nil {
		return nil, err
	}
	return tr, nil
}

func (tr *testRepo) archiver(ctx context.Context, node *ndnx.Node, group enc.Name, sink repo.ArchiveSink) (io.Closer, error) {
	c := pubsub.DefaultConfig()
	c.Group, c.Node, c.Logger = group, node, quiet
	a, err := pubsub.NewArchiver(c, sink)
	if err != nil {
		return nil, err
	}
	if err := a.Start(ctx); err != nil {
		_ = a.Close()
		return nil, err
	}
	tr.mu.Lock()
	tr.arch = append(tr.arch, a)
	tr.mu.Unlock()
	return a, nil
}

// archived counts the publications the repo's archivers stored.
func (tr *testRepo) archived() uint64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var n uint64
	for _, a := range tr.arch {
		n += a.Stats().Publications
	}
	return n
}

// Close stops the repo and removes its directory.
func (tr *testRepo) Close() {
	if tr.r != nil {
		tr.r.Close()
	}
	if tr.st != nil {
		tr.st.Close()
	}
	if tr.node != nil {
		tr.node.Close()
	}
	if tr.dir != "" {
		os.RemoveAll(tr.dir)
	}
}

// waitFor polls cond every 10ms until it holds or ctx ends.
func waitFor(ctx context.Context, what string, cond func() bool) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}
