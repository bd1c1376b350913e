package rpc

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/internal/wire"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security"
	"github.com/ndn-invoke/ndn-invoke/security/session"
)

// Server errors.
var (
	// ErrServerClosed is returned by Start after Shutdown or Close.
	ErrServerClosed = errors.New("rpc: server closed")
	// ErrNoIdentity is returned by NewServer for a node that cannot sign
	// or verify (no identity or no trust anchors).
	ErrNoIdentity = errors.New("rpc: the server's node needs an identity and trust anchors")
)

// ServerConfig configures a Server. A zero field means the default.
type ServerConfig struct {
	// Service is the service's name prefix (required), e.g. /example/calc.
	Service enc.Name
	// Version is published by describe.
	Version string
	// Policy authorizes signed callers: a caller key may call method M if
	// the policy allows it to reach <Service>/<M>. Nil allows every caller
	// whose certificate chains to the node's trust anchors. A method's own
	// MethodOptions.Policy overrides it.
	Policy *security.Policy
	// Middleware wraps every method's handler (interceptors); the first is
	// outermost.
	Middleware []Middleware
	// MaxInFlight bounds handlers running at once; calls beyond it get
	// ResourceExhausted. Default 1024.
	MaxInFlight int
	// ReplyCache bounds the replies kept for at-most-once execution of
	// non-idempotent methods. Default 10000.
	ReplyCache int
	// ReplyTTL is how long a reply is kept for retransmissions. It must
	// outlast the replay window plus a call's lifetime. Default 2m.
	ReplyTTL time.Duration
	// InlineLimit is the largest encoded reply sent in the reply packet
	// itself; larger ones travel as a segmented object. Default 7000 bytes.
	InlineLimit int
	// MaxRequest bounds a request payload, including large requests
	// fetched as objects. Default 64 MiB.
	MaxRequest int
	// Sessions bounds the sessions of session-signed calls (count, idle
	// time, lifetime, handshakes per identity). Zero fields take
	// session.DefaultTableConfig's values.
	Sessions session.TableConfig
	// Ops, if set, keeps the records of long-running methods
	// (LongRunning) in a repo.
	Ops *OpsConfig
	// Logger receives the server's log. Default slog.Default().
	Logger *slog.Logger
}

func (c ServerConfig) withDefaults() ServerConfig {
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 1024
	}
	if c.ReplyCache == 0 {
		c.ReplyCache = 10000
	}
	if c.ReplyTTL == 0 {
		c.ReplyTTL = 2 * time.Minute
	}
	if c.InlineLimit == 0 {
		c.InlineLimit = 7000
	}
	if c.MaxRequest == 0 {
		c.MaxRequest = 64 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("component", "rpc", "service", c.Service.String())
	return c
}

// Validate reports a configuration that cannot work.
func (c ServerConfig) Validate() error {
	switch {
	case len(c.Service) == 0:
		return errors.New("rpc: ServerConfig.Service is required")
	case c.MaxInFlight < 0, c.ReplyCache < 0, c.InlineLimit < 0, c.MaxRequest < 0, c.ReplyTTL < 0:
		return errors.New("rpc: ServerConfig limits must not be negative")
	case c.Ops != nil && c.Ops.Store == nil:
		return errors.New("rpc: ServerConfig.Ops needs a Store")
	case c.Ops != nil && c.Ops.Retention < 0:
		return errors.New("rpc: ServerConfig.Ops.Retention is negative")
	case c.Ops != nil && c.Ops.Retention > 0 && !canSweep(c.Ops.Store):
		return errors.New("rpc: ServerConfig.Ops.Retention needs a Store that lists and deletes (OpLister, OpDeleter)")
	}
	return nil
}

// Server serves a service's methods on a Node: it verifies every signed
// call, authorizes it, runs the method's handler (once per call for
// non-idempotent methods), and answers with a signed reply. It also serves
// <svc>/_describe and <svc>/_health. Safe for concurrent use.
type Server struct {
	*Mux
	node     *ndnx.Node
	cfg      ServerConfig
	log      *slog.Logger
	sem      chan struct{}
	once     *replyCache
	sessions *serverSessions

	// base is the context of notification handlers: cancelled when the
	// server closes. async counts those handlers.
	base       context.Context
	cancelBase context.CancelFunc
	async      sync.WaitGroup
	streams    serverStreams
	ops        runningOps
	dropItem   func(seq uint64) bool // test hook (export_test.go): drop item Interests

	mu       sync.Mutex
	started  bool
	draining bool
	closed   bool
	inflight sync.WaitGroup
}

// NewServer returns a Server for cfg.Service on node; register methods on
// it (it embeds a Mux), then Start it. It does no I/O.
func NewServer(node *ndnx.Node, cfg ServerConfig) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if node == nil || node.Identity() == nil || node.Verifier() == nil {
		return nil, ErrNoIdentity
	}
	cfg = cfg.withDefaults()
	ss, err := newServerSessions(cfg.Sessions)
	if err != nil {
		return nil, fmt.Errorf("rpc: sessions: %w", err)
	}
	base, cancel := context.WithCancel(context.Background())
	srv := &Server{
		base:       base,
		cancelBase: cancel,
		streams:    serverStreams{m: map[string]*serverStream{}},
		ops:        runningOps{m: map[string]*runningOp{}},
		Mux:        NewMux(),
		node:       node,
		cfg:        cfg,
		log:        cfg.Logger,
		sem:        make(chan struct{}, cfg.MaxInFlight),
		once:       newReplyCache(cfg.ReplyCache, cfg.ReplyTTL),
		sessions:   ss,
	}
	// The internal cancel and delete methods: open to every authenticated
	// caller (they check that the caller started the operation itself).
	srv.Mux.methods[opsMethodCancel] = &method{name: opsMethodCancel, h: HandlerFunc(srv.cancelOp),
		opts: MethodOptions{Idempotent: true, Policy: security.AllowAllPolicy()}}
	srv.Mux.methods[opsMethodDelete] = &method{name: opsMethodDelete, h: HandlerFunc(srv.deleteOp),
		opts: MethodOptions{Idempotent: true, Policy: security.AllowAllPolicy()}}
	return srv, nil
}

// Start attaches the server to its prefix and registers the prefix with the
// forwarder; it returns once calls can reach it. Errors: ErrServerClosed,
// registration errors from the Node.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.closed || s.draining {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.started {
		s.mu.Unlock()
		return errors.New("rpc: server already started")
	}
	s.started = true
	s.mu.Unlock()
	if err := s.node.Handle(s.cfg.Service, s.serve); err != nil {
		return err
	}
	// No child-inherit: sub-prefixes others serve (the repo keeping our
	// operation records under <svc>/_ops) must get their Interests; with
	// the flag, the forwarder also listed us as a nexthop there and sent
	// some record fetches to us (found by a flaky TestOperations).
	if err := s.node.Register(ctx, s.cfg.Service, &ndnx.RouteOptions{NoInherit: true}); err != nil {
		_ = s.node.Unhandle(s.cfg.Service)
		return err
	}
	s.mu.Lock()
	if !s.closed {
		s.async.Add(1)
		go s.janitor() // owned: s.async; ends with s.base
	}
	s.mu.Unlock()
	if s.cfg.Ops == nil {
		return nil
	}
	if err := s.recoverOps(ctx); err != nil {
		return err
	}
	if s.cfg.Ops.Retention > 0 {
		s.mu.Lock()
		if !s.closed {
			s.async.Add(1)
			go s.opsJanitor() // owned: s.async; ends with s.base
		}
		s.mu.Unlock()
	}
	return nil
}

// janitor ends idle streams once a second until the server closes.
func (s *Server) janitor() {
	defer s.async.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.base.Done():
			return
		case now := <-t.C:
			s.sweepStreams(now)
		}
	}
}

// Shutdown stops accepting calls (health turns NOT_SERVING and new calls get
// Unavailable), waits for running handlers to finish or ctx to end, and
// withdraws the prefix. Idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.draining = true
	started := s.started
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { // owned: ends when in-flight handlers end, which Close's ctx bounds
		s.inflight.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	// Streams end; notification and stream handlers still running see
	// their ctx end; wait for them (they must honour ctx).
	s.closeStreams()
	s.cancelBase()
	s.async.Wait()
	// Erase every session's keys (forward secrecy); a handler still running
	// answers with the service key instead.
	s.sessions.table.Close()
	if started {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		_ = s.node.Unregister(uctx, s.cfg.Service)
		cancel()
		_ = s.node.Unhandle(s.cfg.Service)
	}
	return err
}

// Close stops the server at once (running handlers see their ctx end when
// the node closes). Idempotent.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.Shutdown(ctx)
	return nil
}

// serve handles one Interest under the service prefix (a node worker).
func (s *Server) serve(ctx context.Context, in *ndnx.Incoming) {
	name := in.Interest.Name()
	rel := name[len(s.cfg.Service):]
	if len(rel) == 0 {
		return
	}
	first := rel[0]
	if first.Typ != enc.TypeGenericNameComponent {
		return
	}
	switch string(first.Val) {
	case "_describe":
		s.replyJSON(in, s.describe(), time.Second)
		return
	case "_health":
		st := "SERVING"
		if s.isDraining() {
			st = "NOT_SERVING"
		}
		s.replyJSON(in, map[string]string{"status": st}, 0)
		return
	case "_obj":
		s.serveObject(in)
		return
	case streamMarker:
		s.serveStream(in, rel)
		return
	case "_ops":
		// Operation records live in the repo, whose route for the ops
		// prefix is longer than ours; an Interest for one should not
		// reach us (we register without child-inherit). If one does (the
		// repo is down), stay silent rather than answer with something
		// that is not a record.
		return
	case session.NameMarker:
		if s.enter() {
			defer s.leave()
			s.handshake(ctx, in)
		}
		return
	}
	m := s.lookup(string(first.Val))
	if m == nil {
		s.replyStatus(in, status.New(codes.Unimplemented, fmt.Sprintf("unknown method %q on %s", first.Val, s.cfg.Service)), 0)
		return
	}
	if len(rel) != 2 || rel[1].Typ != enc.TypeParametersSha256DigestComponent {
		s.replyStatus(in, status.New(codes.InvalidArgument, "a call is named <service>/<method>/<params-sha256>"), 0)
		return
	}
	if !s.enter() {
		return
	}
	defer s.leave()
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		s.replyStatus(in, status.New(codes.ResourceExhausted, "server busy: too many calls in flight"), 0)
		return
	}
	s.call(ctx, in, m)
}

func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining || s.closed {
		return false
	}
	s.inflight.Add(1)
	return true
}

func (s *Server) leave() { s.inflight.Done() }

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining || s.closed
}

func (s *Server) call(ctx context.Context, in *ndnx.Incoming, m *method) {
	freshness := time.Duration(0)
	if m.opts.CacheTTL > 0 {
		freshness = m.opts.CacheTTL
	}
	wreq, err := wire.DecodeRequest(in.Interest.AppParam().Join())
	if err != nil {
		s.replyStatus(in, status.Newf(codes.InvalidArgument, "bad request: %v", err), 0)
		return
	}
	req := &Request{
		Service: s.cfg.Service, Method: m.name, Name: in.Interest.Name(),
		Payload: wreq.Payload, ContentType: wreq.ContentType, RequestID: wreq.RequestID,
		TraceParent: wreq.TraceParent, Metadata: fromWireMD(wreq.Metadata),
		upstream: wreq.Upstream,
	}

	var sess *session.Session // set for a session-signed call
	sigType := ndn.SignatureNone
	if sig := in.Interest.Signature(); sig != nil {
		sigType = sig.SigType()
	}
	switch {
	case sigType == ndn.SignatureHmacWithSha256:
		var ok bool
		if sess, req.Caller, ok = s.verifySessionCall(in); !ok {
			return
		}
	case sigType != ndn.SignatureNone:
		caller, err := s.node.Verifier().VerifyInterest(ctx, in.Interest, in.SigCovered)
		if err != nil {
			s.replyStatus(in, status.New(codes.Unauthenticated, err.Error()), 0)
			return
		}
		req.Caller = caller
	case !m.opts.Public:
		s.replyStatus(in, status.New(codes.Unauthenticated, "method "+m.name+" needs a signed call"), 0)
		return
	}
	var signer ndn.Signer // nil: the service identity
	if sess != nil {
		signer = sess.Signer()
	}
	send := func(in *ndnx.Incoming, content []byte, freshness time.Duration) {
		if signer != nil {
			s.replyWith(in, content, freshness, signer)
		} else {
			s.reply(in, content, freshness)
		}
	}
	if req.Caller != nil && !m.opts.Public { // a public method is open to every caller
		policy := s.cfg.Policy
		if m.opts.Policy != nil {
			policy = m.opts.Policy
		}
		if policy != nil {
			if err := policy.Authorize(req.Caller, s.cfg.Service.Append(enc.NewGenericComponent(m.name))); err != nil {
				send(in, errorContent(status.New(codes.PermissionDenied, err.Error())), 0)
				return
			}
		}
	}

	if st := upstreamMismatch(m, req); st != nil {
		send(in, errorContent(st), 0)
		return
	}
	if len(wreq.PayloadName) > 0 {
		if req.Payload, err = s.fetchPayload(ctx, wreq.PayloadName); err != nil {
			send(in, errorContent(status.Convert(err)), 0)
			return
		}
	}
	sealed := strings.HasPrefix(req.ContentType, sealedPrefix)
	if req.ContentType, req.Payload, err = openPayload(sess, req.Name, false, req.ContentType, req.Payload); err != nil {
		send(in, errorContent(status.Newf(codes.Unauthenticated, "sealed request: %v", err)), 0)
		return
	}

	// At most once: a retransmission of a call in progress waits for it;
	// one of a finished call gets the stored reply. An upstream can be
	// consumed once, so methods that take one never run twice either.
	var key string
	if (!m.opts.Idempotent || m.takesUpstream()) && req.Caller != nil && len(req.RequestID) > 0 {
		key = req.Caller.TlvStr() + "\x00" + string(req.RequestID)
		content, leader := s.once.begin(key, in)
		if !leader {
			if content != nil {
				send(in, content, 0)
			}
			return // the leader answers us when it is done
		}
	}

	if m.opts.Notification {
		s.notify(in, req, m, key, send)
		return
	}
	if m.stream != nil || m.takesUpstream() {
		s.startStream(in, req, m, key, send)
		return
	}
	if m.op != nil {
		s.startOp(in, req, m, key, send)
		return
	}
	if wreq.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wreq.Timeout)
		defer cancel()
	}
	if m.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.opts.Timeout)
		defer cancel()
	}
	if req.TraceParent != "" {
		ctx = WithTraceParent(ctx, req.TraceParent)
	}
	h := m.h
	if len(s.cfg.Middleware) > 0 {
		h = Chain(s.cfg.Middleware...)(h)
	}
	resp, herr := runHandler(ctx, h, req)
	if sealed && herr == nil && resp != nil {
		b, err := sess.Seal(aad(req.Name, true), resp.Payload, sess.NextSeq())
		if err != nil {
			herr = status.Newf(codes.Internal, "seal reply: %v", err)
		} else {
			ct := resp.ContentType
			if ct == "" {
				ct = req.ContentType
			}
			resp = &Response{Payload: b, ContentType: sealedPrefix + ct, Metadata: resp.Metadata}
		}
	}
	content := s.encodeResult(ctx, req, resp, herr, freshness)
	if key != "" {
		for _, w := range s.once.finish(key, content) {
			send(w, content, 0)
		}
	}
	if herr != nil {
		freshness = 0 // errors are not cached
	}
	send(in, content, freshness)
}

// notify acknowledges a notification and runs its handler on an owned
// goroutine with the server's base context.
func (s *Server) notify(in *ndnx.Incoming, req *Request, m *method, key string, send func(*ndnx.Incoming, []byte, time.Duration)) {
	if !s.beginAsync(in) {
		return
	}
	ack := s.encodeResult(s.base, req, &Response{}, nil, 0)
	s.answerAll(in, key, ack, send)
	go func() { // owned: s.async, awaited by Shutdown and Close
		defer s.async.Done()
		ctx := s.base
		if m.opts.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, m.opts.Timeout)
			defer cancel()
		}
		if req.TraceParent != "" {
			ctx = WithTraceParent(ctx, req.TraceParent)
		}
		h := m.h
		if len(s.cfg.Middleware) > 0 {
			h = Chain(s.cfg.Middleware...)(h)
		}
		if _, err := runHandler(ctx, h, req); err != nil {
			s.log.Warn("notification handler failed", "method", m.name, "caller", req.Caller, "err", err)
		}
	}()
}

// beginAsync counts a handler goroutine in s.async, or answers
// Unavailable and returns false when the server is shutting down.
func (s *Server) beginAsync(in *ndnx.Incoming) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.draining {
		s.replyStatus(in, status.New(codes.Unavailable, "server shutting down"), 0)
		return false
	}
	s.async.Add(1)
	return true
}

// answerAll sends ack to the call and, for a call deduplicated under key,
// to its retransmissions waiting in the reply cache (which keeps ack).
func (s *Server) answerAll(in *ndnx.Incoming, key string, ack []byte, send func(*ndnx.Incoming, []byte, time.Duration)) {
	if key != "" {
		for _, w := range s.once.finish(key, ack) {
			send(w, ack, 0)
		}
	}
	send(in, ack, 0)
}

// runHandler calls h, turning a panic into Internal so one bad request
// cannot take the service down.
func runHandler(ctx context.Context, h Handler, req *Request) (resp *Response, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, status.Errorf(codes.Internal, "handler panicked: %v", r)
		}
	}()
	return h.ServeRPC(context.WithValue(ctx, requestKey{}, req), req)
}

// encodeResult builds the Response TLV; large payloads become objects.
func (s *Server) encodeResult(ctx context.Context, req *Request, resp *Response, herr error, freshness time.Duration) []byte {
	if herr != nil {
		st := errorStatus(herr)
		return (&wire.Response{Status: uint32(st.Code), Message: st.Message, Details: st.Details}).Encode()
	}
	if resp == nil {
		resp = &Response{}
	}
	ct := resp.ContentType
	if ct == "" {
		ct = req.ContentType
	}
	w := &wire.Response{Payload: resp.Payload, ContentType: ct, Metadata: toWireMD(resp.Metadata)}
	if len(resp.Payload) > s.cfg.InlineLimit {
		name, err := s.produce(resp.Payload, freshness)
		if err != nil {
			st := status.Newf(codes.Internal, "produce large reply: %v", err)
			return (&wire.Response{Status: uint32(st.Code), Message: st.Message}).Encode()
		}
		w.Payload, w.Kind, w.Continuation = nil, wire.KindObject, name
	}
	return w.Encode()
}

// errorStatus maps a handler error to a status (STYLE A5).
func errorStatus(err error) *status.Status {
	var st *status.Status
	if errors.As(err, &st) {
		return st
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err)
	}
	return status.New(codes.Unknown, err.Error())
}

// produce stores payload as a segmented, signed object under
// <svc>/_obj/<random>/v=<now>, served by serveObject.
func (s *Server) produce(payload []byte, freshness time.Duration) (enc.Name, error) {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	name := s.cfg.Service.Append(enc.NewGenericComponent("_obj"), enc.NewGenericBytesComponent(id),
		enc.NewVersionComponent(uint64(time.Now().UnixNano())))
	if freshness == 0 {
		freshness = 4 * time.Second
	}
	return object.Produce(ndn.ProduceArgs{Name: name, Content: enc.Wire{payload}, FreshnessPeriod: freshness},
		s.node.Store(), s.node.Identity().Signer())
}

func (s *Server) serveObject(in *ndnx.Incoming) {
	b, err := s.node.Store().Get(in.Interest.Name(), in.Interest.CanBePrefix())
	if err == nil && b != nil {
		_ = in.Reply(enc.Wire{b})
	}
}

func (s *Server) fetchPayload(ctx context.Context, name enc.Name) ([]byte, error) {
	b, err := consume(ctx, s.node, name, s.cfg.MaxRequest)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "fetch large request %s: %v", name, err)
	}
	return b, nil
}

func (s *Server) replyStatus(in *ndnx.Incoming, st *status.Status, freshness time.Duration) {
	s.reply(in, (&wire.Response{Status: uint32(st.Code), Message: st.Message, Details: st.Details}).Encode(), freshness)
}

func (s *Server) reply(in *ndnx.Incoming, content []byte, freshness time.Duration) {
	w, err := s.node.SignData(in.Interest.Name(), &ndn.DataConfig{Freshness: optional.Some(freshness)}, enc.Wire{content})
	if err != nil {
		s.log.Error("sign reply", "err", err)
		return
	}
	_ = in.Reply(w)
}

func (s *Server) replyJSON(in *ndnx.Incoming, v any, freshness time.Duration) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode JSON reply", "err", err)
		return
	}
	w, err := s.node.SignData(in.Interest.Name(), &ndn.DataConfig{
		Freshness: optional.Some(freshness), ContentType: optional.Some(ndn.ContentTypeBlob)}, enc.Wire{b})
	if err == nil {
		_ = in.Reply(w)
	}
}

func fromWireMD(md []wire.MD) Metadata {
	if len(md) == 0 {
		return nil
	}
	out := Metadata{}
	for _, p := range md {
		out[p.Key] = append(out[p.Key], string(p.Value))
	}
	return out
}

func toWireMD(md Metadata) []wire.MD {
	var out []wire.MD
	for _, k := range sortedKeys(md) {
		for _, v := range md[k] {
			out = append(out, wire.MD{Key: strings.ToLower(k), Value: []byte(v)})
		}
	}
	return out
}
