package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/internal/wire"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

// OpLister is implemented by an OpStore that can list the records it
// keeps (repo.OpStore does). With it, a starting Server finds the
// operations a previous run of the service left running — it crashed, or
// was killed — and resumes them (MethodOptions.Resumable) or ends them
// with Aborted.
type OpLister interface {
	// List returns the names of the stored packets under prefix.
	List(ctx context.Context, prefix enc.Name) ([]enc.Name, error)
}

// OpDeleter is implemented by an OpStore that can delete records
// (repo.OpStore does). With it, the service deletes finished operations
// for Client.DeleteOp.
type OpDeleter interface {
	// Delete removes every stored packet under prefix.
	Delete(ctx context.Context, prefix enc.Name) error
}

// OpStore keeps operation records — signed Data packets — durably where
// clients can fetch them when the service is down: a repo.
// repo.NewOpStore adapts a repo.Client. Put must return only once the
// packets are durable and served.
type OpStore interface {
	Put(ctx context.Context, packets [][]byte) error
}

// OpsConfig enables long-running methods on a Server.
type OpsConfig struct {
	// Store keeps the operation records. Required.
	Store OpStore
	// Prefix is where operations are named: <Prefix>/<32 hex digits>.
	// Default <service>/_ops. The repo behind Store serves it (its route
	// is longer than the service's, so fetches reach the repo).
	Prefix enc.Name
	// Retention, if positive, is how long finished operations are kept:
	// the server deletes those whose last record is older, at Start and
	// then every min(Retention/2, 1h). The Store must then implement
	// OpLister and OpDeleter (repo.OpStore does). Zero keeps them until
	// deleted (Client.DeleteOp).
	Retention time.Duration
}

// OpError is a finished operation's error.
type OpError struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// OpStatus is an operation record: what Start returns and GetOp and
// WaitOp read back. Its JSON form is the record's content and what the CLI
// prints.
type OpStatus struct {
	Name     string          `json:"name"`
	Method   string          `json:"method"`
	Done     bool            `json:"done"`
	Progress int             `json:"progress"` // percent, 0-100
	Message  string          `json:"message,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`  // the handler's result (JSON), when done without error
	Error    *OpError        `json:"error,omitempty"`   // when done with an error
	Version  uint64          `json:"version"`           // record version, increasing
	Caller   string          `json:"caller,omitempty"`  // the key that started it
	Request  json.RawMessage `json:"request,omitempty"` // kept while running, for Resumable methods
	Resumed  int             `json:"resumed,omitempty"` // times resumed after a service restart
	Created  time.Time       `json:"created"`
	Updated  time.Time       `json:"updated"`
}

// Err returns the operation's error as a status error (nil if none).
func (o *OpStatus) Err() error {
	if o.Error == nil {
		return nil
	}
	var c codes.Code
	if err := c.UnmarshalText([]byte(o.Error.Code)); err != nil {
		c = codes.Unknown
	}
	return status.Error(c, o.Error.Message)
}

// Op is a running operation's handle, given to a long-running handler.
// Its methods are safe for concurrent use.
type Op struct {
	s    *Server
	name enc.Name

	mu sync.Mutex
	st OpStatus
}

// Name is the operation's name.
func (o *Op) Name() enc.Name { return o.name }

// Progress records progress (percent, clamped to 0-100) and a message in a
// new version of the record. Errors: the store's.
func (o *Op) Progress(ctx context.Context, percent int, message string) error {
	o.mu.Lock()
	o.st.Progress, o.st.Message = min(max(percent, 0), 100), message
	o.mu.Unlock()
	return o.s.writeOp(ctx, o)
}

// Status returns a copy of the operation's current record. A resumed
// handler finds there the progress recorded before the restart and how
// often the operation was resumed.
func (o *Op) Status() OpStatus {
	o.mu.Lock()
	defer o.mu.Unlock()
	st := o.st
	st.Result, st.Request = slices.Clone(st.Result), slices.Clone(st.Request)
	if st.Error != nil {
		e := *st.Error
		st.Error = &e
	}
	return st
}

// Validator is implemented by request types that can check themselves.
// LongRunning decodes each request and calls Validate before the
// operation starts, so a bad request fails the call itself, not the
// operation. A non-nil error answers the call: a status error as it is,
// any other as InvalidArgument.
type Validator interface {
	Validate() error
}

// LongRunning registers a long-running method: a call whose request
// decodes (and passes Validate, if Req is a Validator) is answered at once
// with the operation's name (Client.Start returns its first record), and
// f runs on its own goroutine, reporting with op.Progress; its result (or
// error) is the operation's final record, kept in the server's OpStore.
// f's ctx ends when a client cancels the operation (Client.CancelOp), at
// MethodOptions.Timeout, or when the server shuts down; the operation then
// ends with Canceled, DeadlineExceeded or Aborted. The server must have
// ServerConfig.Ops. Errors as Handle's.
func LongRunning[Req, Res any](m *Mux, name string, f func(ctx context.Context, req Req, op *Op) (Res, error), opts MethodOptions) error {
	var zr Req
	var zs Res
	if opts.RequestType == nil {
		opts.RequestType = zr
	}
	if opts.ResponseType == nil {
		opts.ResponseType = zs
	}
	if opts.Public || opts.CacheTTL > 0 || opts.Notification {
		return fmt.Errorf("%w: %q: a long-running method cannot be public, cacheable or a notification", ErrBadMethod, name)
	}
	run := func(ctx context.Context, r *Request, op *Op) ([]byte, error) {
		var req Req
		if err := r.Decode(&req); err != nil {
			return nil, err
		}
		res, err := f(ctx, req, op)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(res)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "encode result: %v", err)
		}
		return b, nil
	}
	placeholder := HandlerFunc(func(context.Context, *Request) (*Response, error) {
		return nil, status.Error(codes.Internal, "long-running method called as unary")
	})
	if err := m.Handle(name, placeholder, opts); err != nil {
		return err
	}
	check := func(r *Request) error {
		var req Req
		if err := r.Decode(&req); err != nil {
			return err
		}
		var v any = &req
		if _, ok := v.(Validator); !ok {
			v = req
		}
		if v, ok := v.(Validator); ok {
			if err := v.Validate(); err != nil {
				if _, ok := status.FromError(err); ok {
					return err
				}
				return status.Error(codes.InvalidArgument, err.Error())
			}
		}
		return nil
	}
	m.mu.Lock()
	m.methods[name].op, m.methods[name].check = run, check
	m.mu.Unlock()
	return nil
}

// The internal methods that cancel and delete an operation.
const (
	opsMethodCancel = "_ops.cancel"
	opsMethodDelete = "_ops.delete"
)

// CancelRequest names an operation to cancel or delete.
type CancelRequest struct {
	Name string `json:"name"`
}

// newOpID returns an operation id: 32 hex digits, the first 12 the
// creation time in milliseconds and the rest random (80 bits), so ids sort
// by creation time, which is what ListOps pages by.
func newOpID(now time.Time) string {
	b := make([]byte, 16)
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	return hex.EncodeToString(b)
}

// opIDTime is the creation time encoded in an operation id (zero if id
// has none).
func opIDTime(id string) time.Time {
	if !isOpID(id) {
		return time.Time{}
	}
	b, _ := hex.DecodeString(id[:12])
	var ms int64
	for _, x := range b {
		ms = ms<<8 | int64(x)
	}
	return time.UnixMilli(ms)
}

// isOpID reports whether s has the form of an operation id.
func isOpID(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// runningOps are a server's operations running in this process.
type runningOps struct {
	mu sync.Mutex
	m  map[string]*runningOp // key: op name TlvStr
}

type runningOp struct {
	op     *Op
	caller enc.Name
	cancel context.CancelFunc
}

// startOp answers a long-running call with the operation's first record
// and runs the handler on an owned goroutine.
func (s *Server) startOp(in *ndnx.Incoming, req *Request, m *method, key string, send func(*ndnx.Incoming, []byte, time.Duration)) {
	if s.cfg.Ops == nil || s.cfg.Ops.Store == nil {
		s.answerAll(in, key, errorContent(status.New(codes.FailedPrecondition, "this server keeps no operations (ServerConfig.Ops)")), send)
		return
	}
	if m.check != nil {
		if err := m.check(req); err != nil {
			s.answerAll(in, key, errorContent(errorStatus(err)), send)
			return
		}
	}
	now := time.Now()
	name := append(s.opsPrefix(), enc.NewGenericComponent(newOpID(now)))
	op := &Op{s: s, name: name, st: OpStatus{Name: name.String(), Method: s.cfg.Service.String() + "/" + m.name, Created: now}}
	if req.Caller != nil {
		op.st.Caller = req.Caller.String()
	}
	if m.opts.Resumable && json.Valid(req.Payload) {
		op.st.Request = json.RawMessage(req.Payload)
	}

	if !s.beginAsync(in) {
		return
	}
	started := false
	defer func() {
		if !started {
			s.async.Done()
		}
	}()

	// The first record is durable before the caller hears of it, so
	// whoever gets the name can read it.
	wctx, cancelW := context.WithTimeout(s.base, 10*time.Second)
	err := s.writeOp(wctx, op)
	cancelW()
	if err != nil {
		s.answerAll(in, key, errorContent(status.Newf(codes.Unavailable, "store operation record: %v", err)), send)
		return
	}
	op.mu.Lock()
	first, _ := json.Marshal(op.st)
	op.mu.Unlock()
	ack := (&wire.Response{Kind: wire.KindOperation, Continuation: name, Payload: first, ContentType: "json"}).Encode()
	s.answerAll(in, key, ack, send)

	started = true
	s.runOpAsync(op, req, m)
}

// runOpAsync runs a long-running handler on an owned goroutine (the caller
// has counted it in s.async) and stores the final record.
func (s *Server) runOpAsync(op *Op, req *Request, m *method) {
	name := op.name
	ctx, cancel := context.WithCancel(s.base)
	s.ops.mu.Lock()
	s.ops.m[name.TlvStr()] = &runningOp{op: op, caller: req.Caller, cancel: cancel}
	s.ops.mu.Unlock()
	go func() { // owned: s.async, awaited by Shutdown and Close
		defer s.async.Done()
		defer cancel()
		defer func() {
			s.ops.mu.Lock()
			delete(s.ops.m, name.TlvStr())
			s.ops.mu.Unlock()
		}()
		hctx := ctx
		if m.opts.Timeout > 0 {
			var c context.CancelFunc
			hctx, c = context.WithTimeout(hctx, m.opts.Timeout)
			defer c()
		}
		res, herr := runOp(hctx, m.op, req, op)
		op.mu.Lock()
		op.st.Done = true
		switch {
		case herr == nil:
			op.st.Result, op.st.Progress = res, 100
		case s.base.Err() != nil && m.opts.Resumable && op.st.Request != nil:
			// Left for the next run of the service, which resumes it
			// (recoverOps), as after a crash.
			op.st.Done = false
			op.st.Message = "the service shut down; the operation resumes when it starts again"
		case s.base.Err() != nil:
			op.st.Error = &OpError{Code: codes.Aborted.String(), Message: "the service shut down while the operation ran"}
		default:
			st := errorStatus(herr)
			op.st.Error = &OpError{Code: st.Code.String(), Message: st.Message}
		}
		if op.st.Done {
			op.st.Request = nil
		}
		op.mu.Unlock()
		// The final record must land even when the server is stopping.
		fctx, c := context.WithTimeout(context.WithoutCancel(s.base), 10*time.Second)
		defer c()
		if err := s.writeOp(fctx, op); err != nil {
			s.log.Error("storing final operation record failed", "op", name, "err", err)
		}
	}()
}

// runOp calls f, turning a panic into Internal.
func runOp(ctx context.Context, f func(context.Context, *Request, *Op) ([]byte, error), req *Request, op *Op) (res []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = status.Errorf(codes.Internal, "handler panicked: %v", r)
		}
	}()
	return f(ctx, req, op)
}

func (s *Server) opsPrefix() enc.Name {
	if p := s.cfg.Ops.Prefix; len(p) > 0 {
		return p.Clone()
	}
	return append(s.cfg.Service.Clone(), enc.NewGenericComponent("_ops"))
}

// writeOp stores the next version of op's record:
// <op>/v=<version>/seg=0, signed by the service, as a one-segment object
// (the repo serves RDR metadata naming the newest version).
func (s *Server) writeOp(ctx context.Context, o *Op) error {
	o.mu.Lock()
	o.st.Version++
	o.st.Updated = time.Now()
	content, err := json.Marshal(o.st)
	version := o.st.Version
	o.mu.Unlock()
	if err != nil {
		return err
	}
	name := append(o.name.Clone(), enc.NewVersionComponent(version), enc.NewSegmentComponent(0))
	w, err := s.node.SignData(name, &ndn.DataConfig{
		ContentType:  optional.Some(ndn.ContentTypeBlob),
		Freshness:    optional.Some(time.Second),
		FinalBlockID: optional.Some(enc.NewSegmentComponent(0)),
	}, enc.Wire{content})
	if err != nil {
		return err
	}
	return s.cfg.Ops.Store.Put(ctx, [][]byte{w.Join()})
}

// opArg decodes the operation named by an internal method's request; it
// must be one of this server's.
func (s *Server) opArg(r *Request) (enc.Name, error) {
	if s.cfg.Ops == nil {
		return nil, status.Error(codes.FailedPrecondition, "this server keeps no operations")
	}
	var req CancelRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	name, err := parseName(req.Name)
	prefix := s.opsPrefix()
	if err != nil || len(name) != len(prefix)+1 || !prefix.IsPrefix(name) {
		return nil, status.Errorf(codes.InvalidArgument, "%q is not an operation of %s", req.Name, s.cfg.Service)
	}
	return name, nil
}

// cancelOp is the _ops.cancel method: the caller that started an
// operation may cancel it while it runs here.
func (s *Server) cancelOp(ctx context.Context, r *Request) (*Response, error) {
	name, err := s.opArg(r)
	if err != nil {
		return nil, err
	}
	s.ops.mu.Lock()
	ro := s.ops.m[name.TlvStr()]
	s.ops.mu.Unlock()
	if ro == nil {
		return nil, status.Errorf(codes.NotFound, "operation %s is not running here", name)
	}
	if !sameIdentity(ro.caller, r.Caller) {
		return nil, status.Error(codes.PermissionDenied, "only the caller that started an operation may cancel it")
	}
	ro.cancel()
	return &Response{}, nil
}

// deleteOp is the _ops.delete method: the caller that started a finished
// operation, or the service itself, may delete its records from the store.
func (s *Server) deleteOp(ctx context.Context, r *Request) (*Response, error) {
	name, err := s.opArg(r)
	if err != nil {
		return nil, err
	}
	del, ok := s.cfg.Ops.Store.(OpDeleter)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this service's operation store cannot delete")
	}
	s.ops.mu.Lock()
	running := s.ops.m[name.TlvStr()] != nil
	s.ops.mu.Unlock()
	if running {
		return nil, status.Errorf(codes.FailedPrecondition, "operation %s is running: cancel it first", name)
	}
	st, key, err := readOp(ctx, s.node, name)
	if err != nil {
		return nil, err
	}
	if !sameIdentity(key, s.node.Identity().KeyName()) {
		return nil, status.Errorf(codes.Unauthenticated, "operation %s: record signed by %s, not by this service", name, key)
	}
	if !st.Done {
		return nil, status.Errorf(codes.FailedPrecondition, "operation %s is not done: cancel it first", name)
	}
	caller, _ := parseName(st.Caller)
	if !sameIdentity(caller, r.Caller) && !sameIdentity(s.node.Identity().KeyName(), r.Caller) {
		return nil, status.Error(codes.PermissionDenied, "only the caller that started an operation may delete it")
	}
	if err := del.Delete(ctx, name); err != nil {
		return nil, status.Errorf(codes.Unavailable, "delete operation %s: %v", name, err)
	}
	return &Response{}, nil
}

// parseName parses a name from untrusted text (ndnd's parser panics on
// some input).
func parseName(s string) (n enc.Name, err error) {
	defer func() {
		if recover() != nil {
			n, err = nil, fmt.Errorf("bad name %q", s)
		}
	}()
	return enc.NameFromStr(s)
}

// sameIdentity compares the identities (names before KEY) of two keys.
func sameIdentity(a, b enc.Name) bool {
	id := func(k enc.Name) enc.Name {
		for i := len(k) - 1; i >= 0; i-- {
			if k[i].Typ == enc.TypeGenericNameComponent && string(k[i].Val) == "KEY" {
				return k[:i]
			}
		}
		return k
	}
	return a != nil && b != nil && id(a).Equal(id(b))
}

// ErrNotOperation is returned by Start for a method that answered without
// an operation.
var ErrNotOperation = errors.New("rpc: not a long-running method")

// Start calls a long-running method and returns the operation's first
// record (Done false) once the server has stored it. Errors as Call's.
func (c *Client) Start(ctx context.Context, method enc.Name, req any, cc *CallConfig) (*OpStatus, error) {
	if cc == nil {
		cc = &CallConfig{}
	}
	var t streamTarget
	if err := c.invoke(ctx, method, req, &t, cc); err != nil {
		return nil, err
	}
	if len(t.op) == 0 {
		return nil, status.Errorf(codes.FailedPrecondition, "%s: %v", method, ErrNotOperation)
	}
	var st OpStatus
	if err := json.Unmarshal(t.payload, &st); err != nil {
		return nil, status.Errorf(codes.Internal, "bad operation record: %v", err)
	}
	return &st, nil
}

// GetOp reads the newest record of the operation name from the network
// (the repo keeping it, or a cache): its version through RDR metadata,
// then the record, whose signature must verify and come from the service
// the operation belongs to. Errors: NotFound (nothing answered),
// Unauthenticated, Internal (a malformed record).
func (c *Client) GetOp(ctx context.Context, name enc.Name) (*OpStatus, error) {
	st, key, err := readOp(ctx, c.node, name)
	if err != nil {
		return nil, err
	}
	if err := c.checkSigner(key, name); err != nil {
		return nil, status.Errorf(codes.Unauthenticated, "operation %s: %v", name, err)
	}
	return st, nil
}

// readOp reads the newest record of the operation name and returns it
// with the key that signed it (verified, but not checked against a
// policy).
func readOp(ctx context.Context, node *ndnx.Node, name enc.Name) (*OpStatus, enc.Name, error) {
	v, err := node.ResolveVersion(ctx, name, &ndnx.FetchOptions{Retries: 1})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, status.FromContextError(ctx.Err())
		}
		if errors.Is(err, ndnx.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
			return nil, nil, status.Errorf(codes.NotFound, "operation %s: no record found", name)
		}
		return nil, nil, status.Errorf(codes.Unavailable, "operation %s: %v", name, err)
	}
	return readOpRecord(ctx, node, name, append(v.Clone(), enc.NewSegmentComponent(0)))
}

// readOpRecord fetches and verifies the record rec of the operation name.
func readOpRecord(ctx context.Context, node *ndnx.Node, name, rec enc.Name) (*OpStatus, enc.Name, error) {
	// Each attempt is bounded, so one lost packet costs seconds, not the
	// caller's whole deadline.
	d, err := node.FetchRetry(ctx, rec, false, false, &ndnx.FetchOptions{Retries: 2})
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, ndnx.ErrTimeout) {
			return nil, nil, status.Errorf(codes.Unavailable, "operation %s: record %s: %v", name, rec, err)
		}
		return nil, nil, networkStatus(ctx, err)
	}
	key, err := node.VerifyData(ctx, d)
	if err != nil {
		return nil, nil, status.Errorf(codes.Unauthenticated, "operation %s: %v", name, err)
	}
	var st OpStatus
	if err := json.Unmarshal(d.Data.Content().Join(), &st); err != nil || st.Name != name.String() {
		return nil, nil, status.Errorf(codes.Internal, "operation %s: malformed record", name)
	}
	return &st, key, nil
}

// WaitOp reads the operation until it is done or ctx ends, backing off
// from 100ms to 2s between reads (resetting when it moves), and calls
// progress (if not nil) with every new version. It returns the final
// record; the operation's own error is in it (OpStatus.Err), not returned.
func (c *Client) WaitOp(ctx context.Context, name enc.Name, progress func(*OpStatus)) (*OpStatus, error) {
	delay := 100 * time.Millisecond
	var last uint64
	for {
		st, err := c.GetOp(ctx, name)
		if err != nil && status.Code(err) != codes.NotFound && status.Code(err) != codes.Unavailable {
			return nil, err
		}
		if st != nil {
			if st.Version != last {
				last, delay = st.Version, 100*time.Millisecond
				if progress != nil {
					progress(st)
				}
			}
			if st.Done {
				return st, nil
			}
		}
		if err := sleep(ctx, delay); err != nil {
			return st, status.FromContextError(err)
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// CancelOp asks the service running the operation name (its method's
// service, from the record) to cancel it. Errors: NotFound (not running
// there any more), PermissionDenied (not the caller that started it), or
// Call's.
func (c *Client) CancelOp(ctx context.Context, name enc.Name) error {
	return c.opCall(ctx, name, opsMethodCancel)
}

// DeleteOp asks the service the operation name belongs to to delete its
// records: the client is no longer interested in it. Only a finished
// operation can be deleted (cancel a running one first), by the caller
// that started it. Errors: NotFound (no record), FailedPrecondition (not
// done), PermissionDenied, Unimplemented (the service's store cannot
// delete), or Call's (Unavailable or DeadlineExceeded while the service is
// down).
func (c *Client) DeleteOp(ctx context.Context, name enc.Name) error {
	return c.opCall(ctx, name, opsMethodDelete)
}

// opCall calls an internal ops method of the service of operation name.
func (c *Client) opCall(ctx context.Context, name enc.Name, method string) error {
	st, err := c.GetOp(ctx, name)
	if err != nil {
		return err
	}
	svc, err := parseName(st.Method)
	if err != nil || len(svc) < 2 {
		return status.Errorf(codes.Internal, "operation %s: bad method %q", name, st.Method)
	}
	m := append(svc[:len(svc)-1].Clone(), enc.NewGenericComponent(method))
	return c.CallName(ctx, m, CancelRequest{Name: name.String()}, nil, nil)
}

// OpFilter selects operations by state in ListOps.
type OpFilter int

// The OpFilter values.
const (
	OpsAll     OpFilter = iota // every operation
	OpsRunning                 // not done
	OpsDone                    // done, with a result or an error
)

// ListOpsOptions pages and filters ListOps.
type ListOpsOptions struct {
	// PageSize bounds the operations returned: default 50, at most 1000.
	PageSize int
	// PageToken continues a listing: the NextPageToken of the page before.
	PageToken string
	// Filter selects operations by state.
	Filter OpFilter
}

// OpsPage is one page of ListOps.
type OpsPage struct {
	// Operations are the newest records, newest operation first.
	Operations []*OpStatus `json:"operations"`
	// NextPageToken continues the listing; empty on the last page.
	NextPageToken string `json:"next_page_token,omitempty"`
	// Unreadable counts operations skipped on this page because their
	// record could not be fetched or did not verify.
	Unreadable int `json:"unreadable,omitempty"`
}

// maxOpsPage bounds ListOpsOptions.PageSize.
const maxOpsPage = 1000

// ListOps lists the operations under prefix (a service's ops prefix,
// <svc>/_ops by default) that store (a repo.OpStore, which need not be the
// service's own client) keeps, newest first, a page at a time. Each
// operation's newest record is read and verified as GetOp does. Errors:
// InvalidArgument (a bad page token), Unavailable (the store's list
// failed). A page may hold fewer than PageSize operations while more
// follow (reading is bounded per page when a filter skips many): list
// until NextPageToken is empty.
func (c *Client) ListOps(ctx context.Context, store OpLister, prefix enc.Name, opts *ListOpsOptions) (*OpsPage, error) {
	var o ListOpsOptions
	if opts != nil {
		o = *opts
	}
	switch {
	case o.PageSize <= 0:
		o.PageSize = 50
	case o.PageSize > maxOpsPage:
		o.PageSize = maxOpsPage
	}
	if o.PageToken != "" && !isOpID(o.PageToken) {
		return nil, status.Errorf(codes.InvalidArgument, "bad page token %q", o.PageToken)
	}
	names, err := store.List(ctx, prefix)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "list operations under %s: %v", prefix, err)
	}
	newest := newestRecords(prefix, names)
	ids := make([]string, 0, len(newest))
	for id := range newest {
		if o.PageToken == "" || id < o.PageToken {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	page := &OpsPage{Operations: []*OpStatus{}}
	// A filter may skip many records: reading is bounded per page, which
	// then holds fewer operations but still a NextPageToken.
	scanLimit := max(4*o.PageSize, 200)
	for i, id := range ids {
		if len(page.Operations) == o.PageSize || i == scanLimit {
			page.NextPageToken = ids[i-1]
			break
		}
		rec := newest[id]
		name := rec[:len(prefix)+1]
		st, key, err := readOpRecord(ctx, c.node, name, rec)
		if err == nil {
			err = c.checkSigner(key, name)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, status.FromContextError(ctx.Err())
			}
			page.Unreadable++
			continue
		}
		if (o.Filter == OpsRunning && st.Done) || (o.Filter == OpsDone && !st.Done) {
			continue
		}
		page.Operations = append(page.Operations, st)
	}
	return page, nil
}

// newestRecords maps each operation id under prefix to the name of its
// newest record (<prefix>/<id>/v=<n>/seg=0) among names.
func newestRecords(prefix enc.Name, names []enc.Name) map[string]enc.Name {
	newest := map[string]enc.Name{}
	for _, n := range names {
		if len(n) != len(prefix)+3 || !prefix.IsPrefix(n) || !n[len(prefix)+1].IsVersion() || !n[len(prefix)+2].IsSegment() {
			continue
		}
		id := string(n[len(prefix)].Val)
		if cur, ok := newest[id]; !ok || n[len(prefix)+1].NumberVal() > cur[len(prefix)+1].NumberVal() {
			newest[id] = n
		}
	}
	return newest
}

// opsJanitor deletes finished operations older than Retention, at once
// and then periodically, until the server closes. Owned: s.async.
func (s *Server) opsJanitor() {
	defer s.async.Done()
	every := min(s.cfg.Ops.Retention/2, time.Hour)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(s.base, 5*time.Minute)
		n, err := s.sweepOps(ctx, time.Now().Add(-s.cfg.Ops.Retention))
		cancel()
		switch {
		case err != nil && s.base.Err() == nil:
			s.log.Warn("deleting old operations failed", "err", err, "deleted", n)
		case n > 0:
			s.log.Info("deleted old operations", "count", n, "retention", s.cfg.Ops.Retention)
		}
		select {
		case <-s.base.Done():
			return
		case <-t.C:
		}
	}
}

// sweepOps deletes the finished operations whose last record is older
// than cutoff; it returns how many.
func (s *Server) sweepOps(ctx context.Context, cutoff time.Time) (int, error) {
	lister, _ := s.cfg.Ops.Store.(OpLister)
	del, _ := s.cfg.Ops.Store.(OpDeleter)
	prefix := s.opsPrefix()
	names, err := lister.List(ctx, prefix)
	if err != nil {
		return 0, err
	}
	n := 0
	for id, rec := range newestRecords(prefix, names) {
		if created := opIDTime(id); created.IsZero() || created.After(cutoff) {
			continue // too young to have finished before cutoff
		}
		name := rec[:len(prefix)+1]
		s.ops.mu.Lock()
		running := s.ops.m[name.TlvStr()] != nil
		s.ops.mu.Unlock()
		if running {
			continue
		}
		st, key, err := readOpRecord(ctx, s.node, name, rec)
		if err != nil || !sameIdentity(key, s.node.Identity().KeyName()) || !st.Done || st.Updated.After(cutoff) {
			continue
		}
		if err := del.Delete(ctx, name); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// recoverOps runs at Start: every operation under the ops prefix whose
// newest record is not done was left by a previous run of the service.
// A Resumable method's handler runs again with the stored request; any
// other operation ends with Aborted.
func (s *Server) recoverOps(ctx context.Context) error {
	lister, ok := s.cfg.Ops.Store.(OpLister)
	if !ok {
		return nil
	}
	prefix := s.opsPrefix()
	names, err := lister.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("rpc: list operations: %w", err)
	}
	for _, rec := range newestRecords(prefix, names) {
		if err := s.recoverOp(ctx, prefix, rec); err != nil {
			s.log.Warn("recovering an operation failed", "record", rec, "err", err)
		}
	}
	return nil
}

func (s *Server) recoverOp(ctx context.Context, prefix, rec enc.Name) error {
	name := rec[:len(prefix)+1].Clone()
	st, key, err := readOpRecord(ctx, s.node, name, rec)
	if err != nil {
		return err
	}
	if !sameIdentity(key, s.node.Identity().KeyName()) {
		return fmt.Errorf("record signed by %s, not by this service", key)
	}
	if st.Done {
		return nil
	}
	op := &Op{s: s, name: name, st: *st}
	method := st.Method[strings.LastIndex(st.Method, "/")+1:]
	m := s.lookup(method)
	s.mu.Lock()
	if s.closed || s.draining {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.async.Add(1)
	s.mu.Unlock()
	if m != nil && m.op != nil && m.opts.Resumable && st.Request != nil {
		op.st.Resumed++
		op.st.Message = "resumed after a service restart"
		req := &Request{Service: s.cfg.Service, Method: m.name, Payload: st.Request, ContentType: "json"}
		if st.Caller != "" {
			req.Caller, _ = enc.NameFromStr(st.Caller)
		}
		if err := s.writeOp(ctx, op); err != nil {
			s.async.Done()
			return err
		}
		s.log.Info("resuming operation", "op", name, "method", method)
		s.runOpAsync(op, req, m)
		return nil
	}
	defer s.async.Done()
	op.st.Done, op.st.Request = true, nil
	op.st.Error = &OpError{Code: codes.Aborted.String(), Message: "the service restarted while the operation ran"}
	s.log.Info("operation left running by a previous run: aborted", "op", name, "method", method)
	return s.writeOp(ctx, op)
}

// canSweep reports whether store can list and delete operations.
func canSweep(store OpStore) bool {
	_, l := store.(OpLister)
	_, d := store.(OpDeleter)
	return l && d
}
