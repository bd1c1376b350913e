package repo

import (
	"context"
	"errors"
	"fmt"
	"io"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
)

// ArchiveRouteCost is the cost of the routes a repo registers for what an
// archiver stored under other producers' prefixes: above a live
// producer's (0), so the producer answers while it runs and the repo once
// it is gone (the forwarder's best-route strategy tries the cheaper
// nexthop first).
const ArchiveRouteCost = 100

// ArchiveSink is what the repo gives an archiver (ArchiverFunc): durable
// storage for the packets it archives, served on the network, and a state
// record. pubsub.ArchiveSink has the same methods, so the repo's sink is
// one. Its methods are safe for concurrent use.
type ArchiveSink interface {
	// Put stores the packets (signed Data wires) durably, then serves
	// every packet stored under each of prefixes, registered at
	// ArchiveRouteCost. Errors: ErrBadRequest (not a Data packet), the
	// store's, ErrClosed, Node.Register's.
	Put(ctx context.Context, pkts [][]byte, prefixes []enc.Name) error
	// LoadState returns the state last saved, nil if none.
	LoadState() ([]byte, error)
	// SaveState durably replaces the state.
	SaveState(ctx context.Context, state []byte) error
}

// ArchiverFunc starts an archiver of the group on node that stores
// through sink, and returns it running; Close stops it. The repo calls it
// at JoinGroup and at every Start after (for groups of its kind, see
// Config.Archivers). ctx bounds the start only. The repo does not import
// the packages that implement group kinds (pubsub sits beside repo, not
// below it); the program wires them, e.g. for pub-sub groups:
//
//	cfg.Archivers = map[string]repo.ArchiverFunc{repo.KindPubSub: func(ctx context.Context,
//		node *ndnx.Node, group enc.Name, sink repo.ArchiveSink) (io.Closer, error) {
//		c := pubsub.DefaultConfig()
//		c.Group, c.Node = group, node
//		a, err := pubsub.NewArchiver(c, sink)
//		if err != nil {
//			return nil, err
//		}
//		return a, a.Start(ctx)
//	}}
type ArchiverFunc func(ctx context.Context, node *ndnx.Node, group enc.Name, sink ArchiveSink) (io.Closer, error)

// KindPubSub is the GroupSpec.Kind of pub-sub groups (package pubsub).
const KindPubSub = "pubsub"

// archiveSink stores an archiver's packets in the repo.
type archiveSink struct {
	r     *Repo
	group enc.Name
}

func (s archiveSink) Put(ctx context.Context, pkts [][]byte, prefixes []enc.Name) error {
	if s.r.isClosed() {
		return ErrClosed
	}
	for _, w := range pkts {
		name, err := dataName(w)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		if err := s.r.st.Put(ctx, name, w, store.PutOptions{}); err != nil {
			return err
		}
	}
	// Registered after storing: a route to the repo attracts Interests
	// for what it may not have yet otherwise.
	for _, p := range prefixes {
		if err := s.r.serveRoute(ctx, p, false, &ndnx.RouteOptions{Cost: ArchiveRouteCost}); err != nil {
			return err
		}
	}
	return nil
}

func (s archiveSink) LoadState() ([]byte, error) {
	b, err := s.r.st.Record(recGState + groupKey(s.group))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

func (s archiveSink) SaveState(ctx context.Context, state []byte) error {
	return s.r.st.PutRecord(ctx, recGState+groupKey(s.group), state)
}
