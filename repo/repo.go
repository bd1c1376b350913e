package repo

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	rdr "github.com/named-data/ndnd/std/ndn/rdr_2024"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Record key prefixes in the store's records keyspace.
const (
	recPrefix = "prefix/" // + hex(NameKey): a served prefix
	recJob    = "job/"    // + id: an insert job (JSON)
	recGroup  = "group/"  // + hex(NameKey): a joined sync group (JSON)
	recGState = "gstate/" // + hex(NameKey): a group's sync state
)

// Repo serves a Store on the network and carries out repo commands. Create
// it with New, then Start; Close stops it (the Store and Node stay open:
// they belong to the caller). All methods are safe for concurrent use.
type Repo struct {
	node *ndnx.Node
	st   *store.Store
	cfg  Config
	log  *slog.Logger
	svc  *rpc.Server

	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sem    chan struct{} // insert jobs fetching

	// mu guards the fields below.
	mu       sync.Mutex
	started  bool
	closed   bool
	prefixes map[string]enc.Name
	jobs     map[string]*job
	groups   map[string]*group
	counts   map[[3]string]uint64
	served   [2]uint64 // Interests answered, Interests unanswered
}

// New makes a Repo over node and st. It does no I/O. node needs an
// identity (it signs command replies and RDR metadata) and trust anchors
// (it authenticates commands). Errors: ErrInvalidConfig.
func New(node *ndnx.Node, st *store.Store, cfg Config) (*Repo, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if node == nil || st == nil {
		return nil, fmt.Errorf("%w: node and store are required", ErrInvalidConfig)
	}
	cfg = cfg.withDefaults()
	cfg.Prefix = cfg.Prefix.Clone()
	base, cancel := context.WithCancel(context.Background())
	r := &Repo{
		node: node, st: st, cfg: cfg, log: cfg.Logger,
		base: base, cancel: cancel,
		sem:      make(chan struct{}, cfg.MaxJobs),
		prefixes: map[string]enc.Name{},
		jobs:     map[string]*job{},
		groups:   map[string]*group{},
		counts:   map[[3]string]uint64{},
	}
	svc, err := newService(r)
	if err != nil {
		cancel()
		return nil, err
	}
	r.svc = svc
	return r, nil
}

// Node returns the node the repo runs on.
func (r *Repo) Node() *ndnx.Node { return r.node }

// Store returns the repo's store.
func (r *Repo) Store() *store.Store { return r.st }

// Prefix returns the repo's name.
func (r *Repo) Prefix() enc.Name { return r.cfg.Prefix }

// Start starts the command service at Config.Prefix, registers every
// prefix served before (from the store), rejoins the sync groups joined
// before, and resumes insert jobs a previous run left unfinished. It
// returns once the forwarder confirmed the command prefix. Errors:
// ErrClosed, and Node.Register's or the store's errors.
func (r *Repo) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	if r.started {
		r.mu.Unlock()
		return nil
	}
	r.started = true
	r.mu.Unlock()

	if err := r.svc.Start(ctx); err != nil {
		return fmt.Errorf("repo: start command service: %w", err)
	}
	var prefixes []enc.Name
	err := r.st.Records(recPrefix, func(_ string, v []byte) bool {
		if n, err := store.NameFromKey(v); err == nil {
			prefixes = append(prefixes, n)
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, p := range prefixes {
		if err := r.serve(ctx, p, false); err != nil {
			return err
		}
	}
	if err := r.loadJobs(); err != nil {
		return err
	}
	return r.rejoinGroups(ctx)
}

// Close stops the repo: the command service, group members and insert
// jobs (an unfinished job resumes at the next Start), and detaches the
// served prefixes. It waits for every goroutine the repo started and is
// idempotent. It closes neither the Node nor the Store.
func (r *Repo) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	groups := make([]*group, 0, len(r.groups))
	for _, g := range r.groups {
		groups = append(groups, g)
	}
	prefixes := make([]enc.Name, 0, len(r.prefixes))
	for _, p := range r.prefixes {
		prefixes = append(prefixes, p)
	}
	r.mu.Unlock()

	r.cancel()
	err := r.svc.Close()
	for _, g := range groups {
		err = errors.Join(err, g.member.Close())
	}
	// Withdraw the routes too, so that the forwarder stops sending
	// Interests to a node that no longer answers them (the node may live
	// on, e.g. to host a restarted repo).
	uctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, p := range prefixes {
		_ = r.node.Unhandle(p)
		_ = r.node.Unregister(uctx, p)
	}
	r.wg.Wait()
	return err
}

// goOwned runs f on a goroutine that Close waits for.
func (r *Repo) goOwned(f func()) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
}

// serve attaches the data handler to prefix and registers it on the
// forwarder; with persist, it also records it so the next Start serves it
// again.
func (r *Repo) serve(ctx context.Context, prefix enc.Name, persist bool) error {
	return r.serveRoute(ctx, prefix, persist, nil)
}

// serveRoute is serve with route options (nil: cost 0).
func (r *Repo) serveRoute(ctx context.Context, prefix enc.Name, persist bool, opts *ndnx.RouteOptions) error {
	key := prefix.TlvStr()
	r.mu.Lock()
	_, have := r.prefixes[key]
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if have {
		return nil
	}
	if persist {
		k := store.NameKey(prefix)
		if err := r.st.PutRecord(ctx, recPrefix+hex.EncodeToString(k), k); err != nil {
			return err
		}
	}
	if err := r.node.Handle(prefix, r.serveData); err != nil && !errors.Is(err, ndn.ErrMultipleHandlers) {
		return err
	}
	r.mu.Lock()
	r.prefixes[key] = prefix.Clone()
	r.mu.Unlock()
	if err := r.node.Register(ctx, prefix, opts); err != nil {
		return fmt.Errorf("repo: register %s: %w", prefix, err)
	}
	r.log.Info("serving", "prefix", prefix)
	return nil
}

// Prefixes returns the prefixes the repo serves data under.
func (r *Repo) Prefixes() []enc.Name {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]enc.Name, 0, len(r.prefixes))
	for _, p := range r.prefixes {
		out = append(out, p)
	}
	return out
}

// serveData answers an Interest from the store: exact name, CanBePrefix
// (newest under it) and MustBeFresh as store.Get judges them, and RDR
// metadata for stored segmented objects. Unanswerable Interests get no
// reply (NDN repos do not Nack; the consumer's Interest times out or
// finds another source).
func (r *Repo) serveData(_ context.Context, in *ndnx.Incoming) {
	name := in.Interest.Name()
	var wire []byte
	var err error
	if n := len(name); n > 0 && name[n-1].IsKeyword(ndnx.MetadataKeyword) {
		wire, err = r.metadata(name[:n-1])
	} else {
		wire, err = r.st.Get(name, in.Interest.CanBePrefix(), in.Interest.MustBeFresh(), time.Now())
	}
	r.mu.Lock()
	if err != nil {
		r.served[1]++
	} else {
		r.served[0]++
	}
	r.mu.Unlock()
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			r.log.Warn("serve failed", "name", name, "err", err)
		}
		return
	}
	_ = in.Reply(enc.Wire{wire})
}

// metadata makes a signed RDR metadata packet naming the newest stored
// version of the object base: <base>/32=metadata/<version>/seg=0 whose
// content names <base>/<version> and its final segment. The repo signs it:
// a stored producer's metadata would be stale (its FreshnessPeriod is
// seconds) long before the object is.
func (r *Repo) metadata(base enc.Name) ([]byte, error) {
	vname, last, err := r.newestVersion(base)
	if err != nil {
		return nil, err
	}
	md := rdr.MetaData{Name: vname, FinalBlockID: last.Bytes()}
	name := append(base.Clone(), enc.NewKeywordComponent(ndnx.MetadataKeyword), vname[len(vname)-1], enc.NewSegmentComponent(0))
	w, err := r.node.SignData(name, &ndn.DataConfig{
		ContentType:  optional.Some(ndn.ContentTypeBlob),
		Freshness:    optional.Some(r.cfg.MetadataFreshness),
		FinalBlockID: optional.Some(enc.NewSegmentComponent(0)),
	}, md.Encode())
	if err != nil {
		return nil, err
	}
	return w.Join(), nil
}

// newestVersion finds the newest stored version under base (the greatest
// name under it must be <base>/v=N/seg=M) and its final segment.
func (r *Repo) newestVersion(base enc.Name) (enc.Name, enc.Component, error) {
	wire, err := r.st.Get(base, true, false, time.Now())
	if err != nil {
		return nil, enc.Component{}, err
	}
	d, _, err := security.ReadData(wire)
	if err != nil {
		return nil, enc.Component{}, fmt.Errorf("%w: %w", store.ErrCorrupt, err)
	}
	n := d.Name()
	if len(n) != len(base)+2 || !n[len(base)].IsVersion() || !n[len(base)+1].IsSegment() {
		return nil, enc.Component{}, fmt.Errorf("%w: no segmented object under %s", store.ErrNotFound, base)
	}
	last := n[len(n)-1]
	if fb, ok := d.FinalBlockID().Get(); ok && fb.IsSegment() {
		last = fb
	}
	return n[:len(base)+1].Clone(), last, nil
}

// PutData stores one Data packet (wire as received) durably, verifying it
// first if Config.VerifyData, and serves register (if not nil) from now
// on. Errors: ErrBadRequest (not a Data packet), security.ErrUnauthenticated,
// the store's errors (store.ErrInvalidData, store.ErrIO, ...), ErrClosed.
func (r *Repo) PutData(ctx context.Context, wire []byte, register enc.Name) error {
	if r.isClosed() {
		return ErrClosed
	}
	d, covered, err := security.ReadData(wire)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if r.cfg.VerifyData {
		if _, err := r.node.VerifyData(ctx, &ndnx.Data{Data: d, Raw: enc.Wire{wire}, SigCovered: covered}); err != nil {
			return err
		}
	}
	if err := r.st.Put(ctx, d.Name(), wire, store.PutOptions{}); err != nil {
		return err
	}
	if len(register) > 0 {
		return r.serve(ctx, register, true)
	}
	return nil
}

// PutCache stores one Data packet as a cache entry that expires after ttl
// (the store's default when ttl <= 0) and may be evicted, least recently
// used first, when the cache outgrows its byte bound; durable packets are
// never evicted for it. Errors as PutData.
func (r *Repo) PutCache(ctx context.Context, wire []byte, ttl time.Duration) error {
	if r.isClosed() {
		return ErrClosed
	}
	name, err := dataName(wire)
	if err != nil {
		return err
	}
	return r.st.Put(ctx, name, wire, store.PutOptions{Cache: true, TTL: ttl})
}

// Delete removes the packet named name, or with prefix every packet under
// it, and returns how many entries went. Errors: store.ErrNotFound (exact
// name not stored), store.ErrInvalidName (empty prefix), store.ErrIO,
// ErrClosed.
func (r *Repo) Delete(ctx context.Context, name enc.Name, prefix bool) (int, error) {
	if r.isClosed() {
		return 0, ErrClosed
	}
	if prefix {
		return r.st.DeletePrefix(ctx, name)
	}
	if err := r.st.Delete(ctx, name); err != nil {
		return 0, err
	}
	return 1, nil
}

// Authorize checks that caller may do verb on target under Config.Policy:
// the policy target is <Prefix>/<verb>/<target...>. Front ends call it
// after authenticating the command. Errors match
// security.ErrPermissionDenied.
func (r *Repo) Authorize(_ context.Context, caller enc.Name, verb string, target enc.Name) error {
	t := append(r.cfg.Prefix.Clone(), enc.NewGenericComponent(verb))
	t = append(t, target...)
	return r.cfg.Policy.Authorize(caller, t)
}

// Count adds one to the command counter (protocol, verb, result) shown by
// WriteMetrics, e.g. ("ndn-invoke", "insert", "ok").
func (r *Repo) Count(protocol, verb, result string) {
	r.mu.Lock()
	r.counts[[3]string{protocol, verb, result}]++
	r.mu.Unlock()
}

func (r *Repo) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// objectPrefix is what an insert of name registers by default: name
// without a trailing segment and version.
func objectPrefix(name enc.Name) enc.Name {
	n := name
	if l := len(n); l > 0 && n[l-1].IsSegment() {
		n = n[:l-1]
	}
	if l := len(n); l > 0 && n[l-1].IsVersion() {
		n = n[:l-1]
	}
	if len(n) == 0 {
		n = name
	}
	return n.Clone()
}

// dataName parses a Data wire from the network (security.ReadData) and
// returns its name. Errors: ErrBadRequest.
func dataName(wire []byte) (enc.Name, error) {
	d, _, err := security.ReadData(wire)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return d.Name(), nil
}
