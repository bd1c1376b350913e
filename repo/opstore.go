package repo

import (
	"context"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/rpc"
)

// OpStore keeps a service's long-running operation records in a repo: it
// puts each record with the repo's put command and has the repo serve
// prefix (the operations prefix, rpc.OpsConfig.Prefix). Use it as
// rpc.OpsConfig.Store; a client lists operations with one too
// (rpc.Client.ListOps), over its own repo.Client.
type OpStore struct {
	c      *Client
	prefix enc.Name
}

// NewOpStore returns an rpc.OpStore over c for operations under prefix.
func NewOpStore(c *Client, prefix enc.Name) *OpStore {
	return &OpStore{c: c, prefix: prefix.Clone()}
}

// Put stores the records durably (they are durable when it returns).
func (s *OpStore) Put(ctx context.Context, packets [][]byte) error {
	_, err := s.c.Put(ctx, packets, s.prefix)
	return err
}

// List returns the names of the packets stored under prefix (every page).
func (s *OpStore) List(ctx context.Context, prefix enc.Name) ([]enc.Name, error) {
	var out []enc.Name
	for uri, err := range s.c.List(ctx, prefix, 0) {
		if err != nil {
			return nil, err
		}
		n, err := ParseName(uri)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// Delete removes every record under prefix (one operation's).
func (s *OpStore) Delete(ctx context.Context, prefix enc.Name) error {
	_, err := s.c.Delete(ctx, prefix, true)
	return err
}

// RepoName is the repo's command prefix, which services describe so that
// clients can list their operations.
func (s *OpStore) RepoName() enc.Name { return s.c.prefix.Clone() }

var (
	_ rpc.OpStore   = (*OpStore)(nil)
	_ rpc.OpLister  = (*OpStore)(nil)
	_ rpc.OpDeleter = (*OpStore)(nil)
	_ rpc.OpsRepo   = (*OpStore)(nil)
)
