package main

import (
	"context"
	"log/slog"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/ndndrepo"
	"github.com/ndn-invoke/ndn-invoke/repo/pyrepo"
)

// frontEnd starts one protocol front end and returns its closer.
type frontEnd func(ctx context.Context, node *ndnx.Node, r *repo.Repo) (func(), error)

// frontEnds returns the enabled protocol front ends, and the sync-group
// publication hook maker (nil when no front end acts on publications).
func frontEnds(c daemonConfig, log *slog.Logger) ([]frontEnd, func(r *repo.Repo) func(ctx context.Context, group, name enc.Name, content []byte)) {
	var fronts []frontEnd
	var hook func(r *repo.Repo) func(ctx context.Context, group, name enc.Name, content []byte)
	if c.NdndProtocol == nil || *c.NdndProtocol {
		fronts = append(fronts, func(ctx context.Context, node *ndnx.Node, r *repo.Repo) (func(), error) {
			cfg := ndndrepo.DefaultConfig()
			cfg.Prefix = r.Prefix()
			cfg.Logger = log
			s, err := ndndrepo.Serve(ctx, node, r, cfg)
			if err != nil {
				return nil, err
			}
			return func() { _ = s.Close() }, nil
		})
		// ndnd's repo acts on BlobFetch commands published in its groups.
		hook = func(r *repo.Repo) func(ctx context.Context, group, name enc.Name, content []byte) {
			h := ndndrepo.PublicationHook(r)
			return func(ctx context.Context, group, _ enc.Name, content []byte) { h(ctx, group, content) }
		}
	}
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
	return fronts, hook
}
