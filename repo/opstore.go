package repo

import (
	"context"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/rpc"
)

// OpStore keeps a service's long-running operation records in a repo: it
// puts each record with the repo's put command and has the repo serve
// prefix (the operations prefix, rpc.OpsConfig.Prefix). Use it as
// rpc.OpsConfig.Store.
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

var (
	_ rpc.OpStore  = (*OpStore)(nil)
	_ rpc.OpLister = (*OpStore)(nil)
)
