package main

import (
	"context"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo"
)

// frontEnd starts one protocol front end and returns its closer.
type frontEnd func(ctx context.Context, node *ndnx.Node, r *repo.Repo) (func(), error)

// frontEnds returns the enabled protocol front ends and the sync-group
// publication hook.
func frontEnds(c daemonConfig) ([]frontEnd, func(ctx context.Context, group, name enc.Name, content []byte)) {
	return nil, nil
}
