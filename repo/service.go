package repo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Protocol is the name of the repo's own command protocol in metrics.
const Protocol = "ndn-invoke"

// The repo's own commands are methods of an rpc service at Config.Prefix,
// so every command is a signed Interest <repo>/<verb>/<params-digest>
// whose ApplicationParameters carry the arguments: verb and parameters
// are bound under one signature (an insert cannot be replayed as a
// delete), the replay window rejects repeats, and non-idempotent commands
// run at most once per request id. JSON in and out.

// InsertRequest asks the repo to fetch and store an object.
type InsertRequest struct {
	Name           string  `json:"name"`
	StartSeg       *uint64 `json:"start_seg,omitempty"`
	EndSeg         *uint64 `json:"end_seg,omitempty"`
	ForwardingHint string  `json:"forwarding_hint,omitempty"`
	Register       string  `json:"register,omitempty"`
}

// JobStatus is a Job as the command service reports it.
type JobStatus struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Version string    `json:"version,omitempty"`
	State   string    `json:"state"` // running, done, failed
	Packets uint64    `json:"packets"`
	Total   uint64    `json:"total,omitempty"`
	Bytes   uint64    `json:"bytes"`
	Error   string    `json:"error,omitempty"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
}

// StatusRequest names a job.
type StatusRequest struct {
	ID string `json:"id"`
}

// PutRequest carries Data packets (wire bytes) to store as they are. With
// CacheTTLMs they become cache entries (kept apart from durable data,
// expiring after that many milliseconds, evicted least recently used first
// when the cache is full) instead of durable packets.
type PutRequest struct {
	Packets    [][]byte `json:"packets"`
	Register   string   `json:"register,omitempty"`
	CacheTTLMs int64    `json:"cache_ttl_ms,omitempty"`
}

// PutResponse reports how many packets were stored.
type PutResponse struct {
	Stored int `json:"stored"`
}

// DeleteRequest names a packet, or with Prefix every packet under a name.
type DeleteRequest struct {
	Name   string `json:"name"`
	Prefix bool   `json:"prefix,omitempty"`
}

// DeleteResponse reports how many entries were removed.
type DeleteResponse struct {
	Deleted int `json:"deleted"`
}

// ListRequest asks for the stored names under Prefix, a page at a time.
type ListRequest struct {
	Prefix string `json:"prefix"`
	rpc.PageRequest
}

// ListResponse is a page of names.
type ListResponse struct {
	Names []string `json:"names"`
	rpc.PageResponse
}

// GroupRequest names a sync group to join or leave.
type GroupRequest struct {
	Group           string `json:"group"`
	MulticastPrefix string `json:"multicast_prefix,omitempty"`
	HistorySnapshot uint64 `json:"history_snapshot,omitempty"`
	// Kind is GroupSpec.Kind ("" for ndnd SvsALO groups, "pubsub").
	Kind string `json:"kind,omitempty"`
}

// Empty is an empty reply or request.
type Empty struct{}

// StatsResponse is the repo's state at a glance.
type StatsResponse struct {
	Packets      uint64   `json:"packets"`
	Bytes        uint64   `json:"bytes"`
	CachePackets uint64   `json:"cache_packets"`
	CacheBytes   uint64   `json:"cache_bytes"`
	Prefixes     []string `json:"prefixes"`
	Groups       []string `json:"groups"`
	JobsRunning  int      `json:"jobs_running"`
}

func jobStatus(j Job) JobStatus {
	s := JobStatus{ID: j.ID, Name: j.Name.String(), State: j.State.String(), Packets: j.Packets,
		Total: j.Total, Bytes: j.Bytes, Error: j.Err, Started: j.Started, Ended: j.Ended}
	if j.Version != nil {
		s.Version = j.Version.String()
	}
	return s
}

// ParseName parses an NDN URI without panicking (ndnd v1.5.3's
// enc.NameFromStr panics on some inputs, such as a component starting
// with "="). Errors: ErrBadRequest.
func ParseName(s string) (n enc.Name, err error) {
	defer func() {
		if recover() != nil {
			n, err = nil, fmt.Errorf("%w: malformed name %q", ErrBadRequest, s)
		}
	}()
	if s == "" {
		return nil, nil
	}
	n, err = enc.NameFromStr(s)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed name %q: %w", ErrBadRequest, s, err)
	}
	return n, nil
}

// newService builds the command service (started by Repo.Start).
func newService(r *Repo) (*rpc.Server, error) {
	s, err := rpc.NewServer(r.node, rpc.ServerConfig{
		Service: r.cfg.Prefix,
		Version: "repo/1",
		// Callers are authenticated by rpc; Repo.Authorize decides per
		// object name inside each method.
		Policy: security.AllowAllPolicy(),
		Logger: r.cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	h := &handlers{r: r}
	err = errors.Join(
		rpc.Unary(s.Mux, "insert", h.insert, rpc.MethodOptions{Description: "fetch an object from its producer and store it; returns the job (follow it with status)"}),
		rpc.Unary(s.Mux, "put", h.put, rpc.MethodOptions{Description: "store Data packets given as wire bytes"}),
		rpc.Unary(s.Mux, "delete", h.delete, rpc.MethodOptions{Description: "delete a packet, or every packet under a prefix"}),
		rpc.Unary(s.Mux, "status", h.status, rpc.MethodOptions{Idempotent: true, Description: "the state of an insert job"}),
		rpc.Unary(s.Mux, "list", h.list, rpc.MethodOptions{Idempotent: true, Description: "stored names under a prefix, paginated"}),
		rpc.Unary(s.Mux, "join", h.join, rpc.MethodOptions{Idempotent: true, Description: "store every publication of an SVS v3 sync group"}),
		rpc.Unary(s.Mux, "leave", h.leave, rpc.MethodOptions{Idempotent: true, Description: "stop storing a sync group"}),
		rpc.Unary(s.Mux, "stats", h.stats, rpc.MethodOptions{Idempotent: true, Description: "packets, bytes, prefixes, groups and running jobs"}),
	)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

type handlers struct{ r *Repo }

// authorize checks the caller of the current call for verb on target and
// counts the outcome when it fails.
func (h *handlers) authorize(ctx context.Context, verb string, target enc.Name) (enc.Name, error) {
	req, ok := rpc.RequestFromContext(ctx)
	if !ok || len(req.Caller) == 0 {
		h.r.Count(Protocol, verb, "unauthenticated")
		return nil, status.Error(codes.Unauthenticated, "repo commands must be signed")
	}
	if err := h.r.Authorize(ctx, req.Caller, verb, target); err != nil {
		h.r.Count(Protocol, verb, "denied")
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	return req.Caller, nil
}

// result counts the outcome of verb and maps err to a status.
func (h *handlers) result(verb string, err error) error {
	if err == nil {
		h.r.Count(Protocol, verb, "ok")
		return nil
	}
	h.r.Count(Protocol, verb, "error")
	var c codes.Code
	switch {
	case errors.Is(err, ErrBadRequest), errors.Is(err, store.ErrInvalidName), errors.Is(err, store.ErrInvalidData), errors.Is(err, store.ErrBadPageToken):
		c = codes.InvalidArgument
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrNoJob), errors.Is(err, ErrNotJoined):
		c = codes.NotFound
	case errors.Is(err, ErrClosed), errors.Is(err, store.ErrClosed):
		c = codes.Unavailable
	case errors.Is(err, security.ErrUnauthenticated):
		c = codes.FailedPrecondition
	case errors.Is(err, store.ErrIO):
		c = codes.ResourceExhausted
	case errors.Is(err, context.DeadlineExceeded):
		c = codes.DeadlineExceeded
	default:
		c = codes.Internal
	}
	return status.Error(c, err.Error())
}

func (h *handlers) names(verb string, ss ...string) ([]enc.Name, error) {
	out := make([]enc.Name, len(ss))
	for i, s := range ss {
		n, err := ParseName(s)
		if err != nil {
			return nil, h.result(verb, err)
		}
		out[i] = n
	}
	return out, nil
}

func (h *handlers) insert(ctx context.Context, req InsertRequest) (JobStatus, error) {
	n, err := h.names("insert", req.Name, req.ForwardingHint, req.Register)
	if err != nil {
		return JobStatus{}, err
	}
	if len(n[0]) == 0 {
		return JobStatus{}, h.result("insert", fmt.Errorf("%w: insert needs a name", ErrBadRequest))
	}
	caller, err := h.authorize(ctx, "insert", n[0])
	if err != nil {
		return JobStatus{}, err
	}
	j, err := h.r.Insert(ctx, InsertSpec{Name: n[0], StartSeg: req.StartSeg, EndSeg: req.EndSeg, ForwardingHint: n[1], Register: n[2], Caller: caller})
	if err != nil {
		return JobStatus{}, h.result("insert", err)
	}
	h.r.Count(Protocol, "insert", "ok")
	return jobStatus(j), nil
}

func (h *handlers) put(ctx context.Context, req PutRequest) (PutResponse, error) {
	reg, err := h.names("put", req.Register)
	if err != nil {
		return PutResponse{}, err
	}
	if len(req.Packets) == 0 {
		return PutResponse{}, h.result("put", fmt.Errorf("%w: no packets", ErrBadRequest))
	}
	// Authorize every packet's name before storing any.
	names := make([]enc.Name, len(req.Packets))
	for i, w := range req.Packets {
		n, err := dataName(w)
		if err != nil {
			return PutResponse{}, h.result("put", fmt.Errorf("packet %d: %w", i, err))
		}
		if _, err := h.authorize(ctx, "insert", n); err != nil {
			return PutResponse{}, err
		}
		names[i] = n
	}
	if len(reg[0]) > 0 {
		if _, err := h.authorize(ctx, "insert", reg[0]); err != nil {
			return PutResponse{}, err
		}
	}
	// Store concurrently so the packets share group commits; each is
	// durable when its PutData returns, and the reply waits for all.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		stored  int
		failure error
	)
	sem := make(chan struct{}, 32)
	for i, w := range req.Packets {
		sem <- struct{}{}
		wg.Add(1)
		go func() { // owned: waited for below
			defer wg.Done()
			defer func() { <-sem }()
			var err error
			if req.CacheTTLMs > 0 {
				err = h.r.PutCache(ctx, w, time.Duration(req.CacheTTLMs)*time.Millisecond)
			} else {
				err = h.r.PutData(ctx, w, nil)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if failure == nil {
					failure = fmt.Errorf("packet %d (%s): %w", i, names[i], err)
				}
				return
			}
			stored++
		}()
	}
	wg.Wait()
	if failure == nil && len(reg[0]) > 0 {
		failure = h.r.serve(ctx, reg[0], true)
	}
	if failure != nil {
		return PutResponse{Stored: stored}, h.result("put", failure)
	}
	return PutResponse{Stored: stored}, h.result("put", nil)
}

func (h *handlers) delete(ctx context.Context, req DeleteRequest) (DeleteResponse, error) {
	n, err := h.names("delete", req.Name)
	if err != nil {
		return DeleteResponse{}, err
	}
	if len(n[0]) == 0 {
		return DeleteResponse{}, h.result("delete", fmt.Errorf("%w: delete needs a name", ErrBadRequest))
	}
	if _, err := h.authorize(ctx, "delete", n[0]); err != nil {
		return DeleteResponse{}, err
	}
	k, err := h.r.Delete(ctx, n[0], req.Prefix)
	return DeleteResponse{Deleted: k}, h.result("delete", err)
}

func (h *handlers) status(ctx context.Context, req StatusRequest) (JobStatus, error) {
	j, ok := h.r.Job(req.ID)
	if !ok {
		return JobStatus{}, h.result("status", fmt.Errorf("%w: %q", ErrNoJob, req.ID))
	}
	if _, err := h.authorize(ctx, "status", j.Name); err != nil {
		return JobStatus{}, err
	}
	return jobStatus(j), h.result("status", nil)
}

func (h *handlers) list(ctx context.Context, req ListRequest) (ListResponse, error) {
	n, err := h.names("list", req.Prefix)
	if err != nil {
		return ListResponse{}, err
	}
	if _, err := h.authorize(ctx, "list", n[0]); err != nil {
		return ListResponse{}, err
	}
	if req.PageSize < 0 {
		return ListResponse{}, h.result("list", fmt.Errorf("%w: page_size must not be negative", ErrBadRequest))
	}
	names, next, err := h.r.st.List(n[0], req.PageToken, req.PageSize)
	if err != nil {
		return ListResponse{}, h.result("list", err)
	}
	resp := ListResponse{Names: make([]string, len(names))}
	for i, x := range names {
		resp.Names[i] = x.String()
	}
	resp.NextPageToken = next
	return resp, h.result("list", nil)
}

func (h *handlers) join(ctx context.Context, req GroupRequest) (Empty, error) {
	n, err := h.names("join", req.Group, req.MulticastPrefix)
	if err != nil {
		return Empty{}, err
	}
	if _, err := h.authorize(ctx, "join", n[0]); err != nil {
		return Empty{}, err
	}
	return Empty{}, h.result("join", h.r.JoinGroup(ctx, GroupSpec{Group: n[0], MulticastPrefix: n[1], HistorySnapshot: req.HistorySnapshot, Kind: req.Kind}))
}

func (h *handlers) leave(ctx context.Context, req GroupRequest) (Empty, error) {
	n, err := h.names("leave", req.Group)
	if err != nil {
		return Empty{}, err
	}
	if _, err := h.authorize(ctx, "leave", n[0]); err != nil {
		return Empty{}, err
	}
	return Empty{}, h.result("leave", h.r.LeaveGroup(ctx, n[0]))
}

func (h *handlers) stats(ctx context.Context, _ Empty) (StatsResponse, error) {
	if _, err := h.authorize(ctx, "stats", nil); err != nil {
		return StatsResponse{}, err
	}
	st := h.r.st.Stats()
	resp := StatsResponse{Packets: st.Packets, Bytes: st.Bytes, CachePackets: st.CachePackets, CacheBytes: st.CacheBytes}
	for _, p := range h.r.Prefixes() {
		resp.Prefixes = append(resp.Prefixes, p.String())
	}
	for _, g := range h.r.Groups() {
		resp.Groups = append(resp.Groups, g.Group.String())
	}
	resp.JobsRunning, _ = h.r.jobCounts()
	return resp, h.result("stats", nil)
}
