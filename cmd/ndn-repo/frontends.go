package main

import (
	"context"
	"log/slog"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/pyrepo"
)

// frontEnd starts one protocol front end and returns its closer.
type frontEnd func(ctx context.Context, node *ndnx.Node, r *repo.Repo) (func(), error)

// frontEnds returns the enabled protocol front ends and the sync-group
// publication hook.
func frontEnds(c daemonConfig, log *slog.Logger) ([]frontEnd, func(ctx context.Context, group, name enc.Name, content []byte)) {
	var fronts []frontEnd
	if c.PyrepoProtocol == nil || *c.PyrepoProtocol {
		fronts = append(fronts, func(ctx context.Context, node *ndnx.Node, r *repo.Repo) (func(), error) {
			cfg := pyrepo.DefaultConfig()
			cfg.Prefix = r.Prefix()
			// NDNts's @ndn/pyrepo sends its check Interests digest-signed;
			// request numbers are random, so answering them leaks little.
			cfg.PublicStatus = c.PyrepoPublicStatus == nil || *c.PyrepoPublicStatus
			cfg.Logger = log
			s, err := pyrepo.Serve(ctx, node, r, cfg)
			if err != nil {
				return nil, err
			}
			return func() { _ = s.Close() }, nil
		})
	}
	return fronts, nil
}
