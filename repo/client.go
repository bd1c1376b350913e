package repo

import (
	"context"
	"fmt"
	"iter"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/rpc"
)

// Client sends the repo's own commands (signed rpc calls) to a repo. It is
// safe for concurrent use. Errors of every method are rpc status errors
// (status.Code(err) gives the code: PermissionDenied, NotFound,
// InvalidArgument, Unavailable, ...).
type Client struct {
	rc     *rpc.Client
	prefix enc.Name
}

// NewClient makes a client for the repo at prefix, calling through node
// (which needs an identity the repo trusts). cfg is the rpc client's
// configuration (set ServicePolicy if the repo's key is not under prefix).
// It does no I/O.
func NewClient(node *ndnx.Node, prefix enc.Name, cfg rpc.ClientConfig) (*Client, error) {
	rc, err := rpc.NewClient(node, cfg)
	if err != nil {
		return nil, err
	}
	return &Client{rc: rc, prefix: prefix.Clone()}, nil
}

// Close releases the client; it does not close the Node.
func (c *Client) Close() error { return c.rc.Close() }

func (c *Client) call(ctx context.Context, verb string, req, resp any) error {
	m := append(c.prefix.Clone(), enc.NewGenericComponent(verb))
	return c.rc.CallName(ctx, m, req, resp, nil)
}

// Insert asks the repo to fetch and store an object and returns its job.
func (c *Client) Insert(ctx context.Context, req InsertRequest) (JobStatus, error) {
	var j JobStatus
	err := c.call(ctx, "insert", req, &j)
	return j, err
}

// Status returns the state of job id.
func (c *Client) Status(ctx context.Context, id string) (JobStatus, error) {
	var j JobStatus
	err := c.call(ctx, "status", StatusRequest{ID: id}, &j)
	return j, err
}

// Wait polls job id every interval (default 200ms) until it ends or ctx
// does, calling progress (if not nil) with each state seen. It returns the
// final state; a failed job is not an error here (check State).
func (c *Client) Wait(ctx context.Context, id string, interval time.Duration, progress func(JobStatus)) (JobStatus, error) {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		j, err := c.Status(ctx, id)
		if err != nil {
			return j, err
		}
		if progress != nil {
			progress(j)
		}
		if j.State != JobRunning.String() {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-t.C:
		}
	}
}

// Put stores Data packets (wire bytes, as signed by their producer).
func (c *Client) Put(ctx context.Context, packets [][]byte, register enc.Name) (int, error) {
	req := PutRequest{Packets: packets}
	if register != nil {
		req.Register = register.String()
	}
	var resp PutResponse
	err := c.call(ctx, "put", req, &resp)
	return resp.Stored, err
}

// PutCache stores Data packets as cache entries living ttl (see PutRequest).
func (c *Client) PutCache(ctx context.Context, packets [][]byte, ttl time.Duration) (int, error) {
	var resp PutResponse
	err := c.call(ctx, "put", PutRequest{Packets: packets, CacheTTLMs: max(ttl.Milliseconds(), 1)}, &resp)
	return resp.Stored, err
}

// Delete removes a packet, or with prefix every packet under name.
func (c *Client) Delete(ctx context.Context, name enc.Name, prefix bool) (int, error) {
	var resp DeleteResponse
	err := c.call(ctx, "delete", DeleteRequest{Name: name.String(), Prefix: prefix}, &resp)
	return resp.Deleted, err
}

// List returns the names stored under prefix, fetching pages of pageSize
// (0: the repo's default) as the caller iterates.
func (c *Client) List(ctx context.Context, prefix enc.Name, pageSize int) iter.Seq2[string, error] {
	return rpc.Pages(ctx, func(ctx context.Context, token string) ([]string, string, error) {
		var resp ListResponse
		req := ListRequest{Prefix: prefix.String()}
		req.PageSize, req.PageToken = pageSize, token
		if err := c.call(ctx, "list", req, &resp); err != nil {
			return nil, "", err
		}
		return resp.Names, resp.NextPageToken, nil
	})
}

// Join makes the repo store every publication of a sync group.
func (c *Client) Join(ctx context.Context, g GroupSpec) error {
	req := GroupRequest{Group: g.Group.String(), HistorySnapshot: g.HistorySnapshot, Kind: g.Kind}
	if g.MulticastPrefix != nil {
		req.MulticastPrefix = g.MulticastPrefix.String()
	}
	return c.call(ctx, "join", req, nil)
}

// Leave makes the repo stop storing a sync group.
func (c *Client) Leave(ctx context.Context, group enc.Name) error {
	return c.call(ctx, "leave", GroupRequest{Group: group.String()}, nil)
}

// Stats returns the repo's counters, prefixes and groups.
func (c *Client) Stats(ctx context.Context) (StatsResponse, error) {
	var s StatsResponse
	err := c.call(ctx, "stats", Empty{}, &s)
	return s, err
}

// String names the repo the client talks to.
func (c *Client) String() string { return fmt.Sprintf("repo client (%s)", c.prefix) }
