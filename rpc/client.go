package rpc

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/rpc/codec"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/internal/retry"
	"github.com/ndn-invoke/ndn-invoke/rpc/internal/wire"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security"
	"github.com/ndn-invoke/ndn-invoke/security/session"
)

// RetryPolicy says when and how a failed call is retried. Retrying a
// non-idempotent method is safe: every attempt carries the same request id,
// and the server runs it at most once.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, including the first. Default 3; 1
	// disables retries.
	MaxAttempts int
	// InitialBackoff and MaxBackoff bound the exponential backoff (with
	// jitter) between attempts. Defaults 100ms and 5s.
	InitialBackoff, MaxBackoff time.Duration
	// RetryableCodes are retried. Default: Unavailable only (as gRPC).
	RetryableCodes []codes.Code
	// BudgetTokens and BudgetRatio throttle retries across all calls of
	// a Client (gRPC retry throttling): each failure costs a token, each
	// success returns BudgetRatio, and retries stop while fewer than half
	// the tokens remain, so retries cannot multiply load on a failing
	// service. Defaults 10 and 0.1.
	BudgetTokens, BudgetRatio float64
}

// BreakerConfig configures the per-service circuit breaker.
type BreakerConfig struct {
	// Disabled turns the breaker off.
	Disabled bool
	// FailureThreshold is the failure fraction that opens the breaker once
	// MinRequests calls were seen in Window. Defaults 0.5, 20, 10s.
	FailureThreshold float64
	MinRequests      int
	Window           time.Duration
	// OpenFor is how long an open breaker rejects calls before letting a
	// probe through (half-open). Default 5s.
	OpenFor time.Duration
}

// Fallback is called when a call fails with Unavailable (including an open
// circuit breaker): it may answer instead (a cached or degraded reply, as
// encoded payload bytes for resp) or return an error. It runs on the
// caller's goroutine.
type Fallback func(ctx context.Context, method enc.Name, err error) ([]byte, error)

// ClientConfig configures a Client. A zero field means the default.
type ClientConfig struct {
	// Retry is the retry policy.
	Retry RetryPolicy
	// Breaker configures the per-service circuit breakers.
	Breaker BreakerConfig
	// Fallback, if set, may answer calls that fail with Unavailable.
	Fallback Fallback
	// Middleware wraps every call (client interceptors); the first is
	// outermost.
	Middleware []ClientMiddleware
	// Sessions makes signed calls session-signed: one Ed25519 handshake per
	// service agrees on keys, and later calls and replies carry HMAC-SHA256
	// signatures (about 40× cheaper than Ed25519 sign + verify). A service
	// that lost the session (restart, expiry, eviction) is handshaken with
	// again transparently, once per call.
	Sessions bool
	// ServicePolicy says which keys may answer for which services, as
	// "allow <signer> to call <service>/<method>" rules. Nil: the reply's
	// signer identity must be a prefix of the call name (the service's key
	// lives under the service name, e.g. /example/calc/KEY/...).
	ServicePolicy *security.Policy
	// Logger receives the client's log. Default slog.Default().
	Logger *slog.Logger
}

// CallConfig tunes one call; nil means defaults.
type CallConfig struct {
	// Public sends an unsigned, deterministic request (no request id, no
	// timeout, no trace), so identical calls share one name and the
	// network can aggregate and cache them. The method must be public.
	Public bool
	// Codec encodes the request and decodes the reply. Default JSON.
	Codec codec.Codec
	// Metadata travels with the request.
	Metadata Metadata
	// ReplyMetadata, if not nil, receives the reply's metadata.
	ReplyMetadata *Metadata
	// MaxAttempts overrides the client's RetryPolicy.MaxAttempts when > 0.
	MaxAttempts int
	// Sealed encrypts the request and reply payloads with the session's
	// keys (ChaCha20-Poly1305, bound to the call's name), so forwarders and
	// caches see names but not contents. It implies a session-signed call.
	Sealed bool
	// atLeastOnce is set by Notify.
	atLeastOnce bool
	// Upstream (client and bidirectional streams) is where the client
	// serves the items it streams to the server: each stream under
	// <Upstream>/<32 random hex digits>, pulled as .../seq=N. It must be
	// routed to the client's forwarder; the client registers the stream's
	// prefix for the call's duration. Default <identity>/_up.
	Upstream enc.Name
	// up is what ClientStream and BidiStream pass to call: the upstream
	// in use and its test hooks.
	up *upstreamCall
	// AttemptTimeout bounds each attempt (0: the whole ctx deadline). An
	// attempt that runs out ends with DeadlineExceeded, which is retried
	// only if the retry policy lists it.
	AttemptTimeout time.Duration
}

// Invoker performs a call: encode, send, verify and decode. Client
// middleware wraps it.
type Invoker func(ctx context.Context, method enc.Name, req, resp any, cc *CallConfig) error

// ClientMiddleware wraps an Invoker (client interceptor).
type ClientMiddleware func(Invoker) Invoker

// Client calls methods of NDN services through a Node. Safe for concurrent
// use. It starts no goroutines.
type Client struct {
	node    *ndnx.Node
	cfg     ClientConfig
	policy  retry.Policy
	budget  *retry.Budget
	breaker retry.BreakerConfig
	invoke  Invoker

	sessions *clientSessions

	mu       sync.Mutex
	breakers map[string]*retry.Breaker
}

// NewClient returns a Client that calls through node. It does no I/O.
func NewClient(node *ndnx.Node, cfg ClientConfig) (*Client, error) {
	if node == nil {
		return nil, errors.New("rpc: NewClient needs a node")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := retry.DefaultPolicy()
	if cfg.Retry.MaxAttempts > 0 {
		p.MaxAttempts = cfg.Retry.MaxAttempts
	}
	if cfg.Retry.InitialBackoff > 0 {
		p.Backoff.Initial = cfg.Retry.InitialBackoff
	}
	if cfg.Retry.MaxBackoff > 0 {
		p.Backoff.Max = cfg.Retry.MaxBackoff
	}
	if len(cfg.Retry.RetryableCodes) > 0 {
		p.RetryableCodes = nil
		for _, c := range cfg.Retry.RetryableCodes {
			p.RetryableCodes = append(p.RetryableCodes, uint32(c))
		}
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("rpc: retry policy: %w", err)
	}
	tokens, ratio := cfg.Retry.BudgetTokens, cfg.Retry.BudgetRatio
	if tokens == 0 {
		tokens = 10
	}
	if ratio == 0 {
		ratio = 0.1
	}
	bc := retry.DefaultBreakerConfig()
	if cfg.Breaker.FailureThreshold > 0 {
		bc.FailureThreshold = cfg.Breaker.FailureThreshold
	}
	if cfg.Breaker.MinRequests > 0 {
		bc.MinRequests = cfg.Breaker.MinRequests
	}
	if cfg.Breaker.Window > 0 {
		bc.Window = cfg.Breaker.Window
	}
	if cfg.Breaker.OpenFor > 0 {
		bc.OpenFor = cfg.Breaker.OpenFor
	}
	if err := bc.Validate(); err != nil {
		return nil, fmt.Errorf("rpc: breaker: %w", err)
	}
	c := &Client{node: node, cfg: cfg, policy: p, budget: retry.NewBudget(tokens, ratio), breaker: bc,
		breakers: map[string]*retry.Breaker{}, sessions: newClientSessions()}
	c.invoke = c.call
	for i := len(cfg.Middleware) - 1; i >= 0; i-- {
		c.invoke = cfg.Middleware[i](c.invoke)
	}
	return c, nil
}

// Call invokes method (the NDN name <service>/<method>, e.g.
// "/example/calc/add") with req and decodes the reply into resp (either may
// be nil). The ctx deadline becomes the Interest lifetime and is sent to the
// server; cancelling ctx stops retransmission. Errors are *status.Status
// (status.Code(err) gives the code): DeadlineExceeded when the deadline
// passes, Unavailable when the network or service cannot be reached or the
// circuit breaker is open, Unauthenticated when the reply's signature does
// not check out, and whatever the server's handler returned.
func (c *Client) Call(ctx context.Context, method string, req, resp any, cc *CallConfig) error {
	name, err := enc.NameFromStr(method)
	if err != nil || len(name) < 2 {
		return status.Errorf(codes.InvalidArgument, "bad method name %q: want /<service>/<method>", method)
	}
	return c.CallName(ctx, name, req, resp, cc)
}

// Close ends the client's sessions and erases their keys (forward
// secrecy: session keys do not outlive the client). Calls after Close make
// new sessions if they need them. Idempotent; it does not close the Node.
func (c *Client) Close() error {
	c.sessions.table.Close()
	return nil
}

// CallName is Call with a parsed name.
func (c *Client) CallName(ctx context.Context, method enc.Name, req, resp any, cc *CallConfig) error {
	if cc == nil {
		cc = &CallConfig{}
	}
	return c.invoke(ctx, method, req, resp, cc)
}

func (c *Client) breakerFor(svc enc.Name) *retry.Breaker {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := svc.TlvStr()
	b, ok := c.breakers[k]
	if !ok {
		b, _ = retry.NewBreaker(c.breaker) // validated in NewClient
		c.breakers[k] = b
	}
	return b
}

// call is the innermost Invoker.
func (c *Client) call(ctx context.Context, method enc.Name, req, resp any, cc *CallConfig) error {
	cd := cc.Codec
	if cd == nil {
		cd, _ = codec.Get("json")
	}
	var payload []byte
	if req != nil {
		b, err := cd.Marshal(req)
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "encode request: %v", err)
		}
		payload = b
	}
	wreq := &wire.Request{Payload: payload, ContentType: cd.Name(), Metadata: toWireMD(cc.Metadata)}
	if cc.up != nil {
		wreq.Upstream = cc.up.prefix
	}
	signed := !cc.Public
	if signed {
		if c.node.Identity() == nil {
			return status.New(codes.Unauthenticated, "this call must be signed, but the client has no identity (set a keychain, or call a public method with Public)")
		}
		wreq.RequestID = make([]byte, 16)
		_, _ = rand.Read(wreq.RequestID)
		if dl, ok := ctx.Deadline(); ok {
			wreq.Timeout = time.Until(dl)
		}
		wreq.TraceParent = childTraceParent(TraceParent(ctx))
		if TraceParent(ctx) == "" {
			wreq.TraceParent = newTraceParent()
		}
	} else if cc.Sealed {
		return status.New(codes.InvalidArgument, "a sealed call cannot be public")
	}
	svc := method.Prefix(-1)
	var sess *session.Session
	if signed && (c.cfg.Sessions || cc.Sealed) {
		var err error
		if sess, err = c.session(ctx, svc); err != nil {
			return err
		}
	}
	var cleanup func()
	defer func() {
		if cleanup != nil {
			cleanup()
		}
	}()
	// build encodes the request for sess (sealing depends on the session).
	build := func() ([]byte, error) {
		if cleanup != nil {
			cleanup()
			cleanup = nil
		}
		w := *wreq
		if cc.Sealed {
			if err := sealRequest(sess, method, &w); err != nil {
				return nil, status.Newf(codes.Internal, "seal request: %v", err)
			}
		}
		if len(w.Payload) > inlineRequestLimit {
			if !signed {
				return nil, status.Newf(codes.InvalidArgument, "request of %d bytes is too large for a public call (limit %d)", len(w.Payload), inlineRequestLimit)
			}
			if err := c.node.ServeObjects(ctx); err != nil {
				return nil, status.Newf(codes.Unavailable, "serve large request: %v", err)
			}
			name, err := c.produceRequest(w.Payload)
			if err != nil {
				return nil, status.Newf(codes.Internal, "produce large request: %v", err)
			}
			cleanup = func() { _ = c.node.Client().Remove(name) }
			w.Payload, w.PayloadName = nil, name
		}
		if err := w.Validate(); err != nil {
			return nil, status.Newf(codes.InvalidArgument, "request: %v", err)
		}
		return w.Encode(), nil
	}
	params, err := build()
	if err != nil {
		return err
	}

	attempts := c.policy.MaxAttempts
	if cc.MaxAttempts > 0 {
		attempts = cc.MaxAttempts
	}
	br := c.breakerFor(svc)
	var lastErr error
	rehandshook := false
	for attempt := 1; ; attempt++ {
		st, wresp := c.attempt(ctx, br, method, params, signed, sess, cc.AttemptTimeout)
		if st == nil {
			c.budget.OnSuccess()
			return c.finish(ctx, method, sess, wresp, cd, resp, cc)
		}
		if sess != nil && isSessionUnknown(st) && !rehandshook {
			// The service lost our session: make a new one, once.
			rehandshook = true
			if sess, err = c.renewSession(ctx, svc, sess); err != nil {
				return err
			}
			if params, err = build(); err != nil {
				return err
			}
			attempt--
			continue
		}
		lastErr = st
		if cc.atLeastOnce {
			// Retry lost notifications (a timed-out attempt, an
			// unreachable service) until acknowledged or ctx ends; the
			// caller bounds it, so no retry budget applies.
			if (st.Code != codes.DeadlineExceeded && st.Code != codes.Unavailable) || ctx.Err() != nil {
				break
			}
			if err := sleep(ctx, c.policy.Backoff.Delay(attempt, mrand.Float64())); err != nil {
				break
			}
			continue
		}
		retryable := c.policy.Retryable(uint32(st.Code))
		if retryable {
			c.budget.OnFailure()
		}
		if !retryable || attempt >= attempts || !c.budget.AllowRetry() || ctx.Err() != nil {
			break
		}
		if err := sleep(ctx, c.policy.Backoff.Delay(attempt, mrand.Float64())); err != nil {
			break
		}
	}
	if status.Code(lastErr) == codes.Unavailable && c.cfg.Fallback != nil {
		b, err := c.cfg.Fallback(ctx, method, lastErr)
		if err != nil {
			return err
		}
		if resp != nil {
			if err := cd.Unmarshal(b, resp); err != nil {
				return status.Errorf(codes.Internal, "decode fallback reply: %v", err)
			}
		}
		return nil
	}
	return lastErr
}

// inlineRequestLimit is the largest payload sent inside the call Interest;
// larger ones are produced as a segmented object the server fetches.
const inlineRequestLimit = 6000

func (c *Client) produceRequest(payload []byte) (enc.Name, error) {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	name := c.node.ObjectPrefix().Append(enc.NewGenericBytesComponent(id), enc.NewVersionComponent(uint64(time.Now().UnixNano())))
	return object.Produce(ndn.ProduceArgs{Name: name, Content: enc.Wire{payload}, FreshnessPeriod: time.Minute},
		c.node.Store(), c.node.Identity().Signer())
}

// attempt makes one attempt; st is nil on an OK reply.
func (c *Client) attempt(ctx context.Context, br *retry.Breaker, method enc.Name, params []byte, signed bool, sess *session.Session, timeout time.Duration) (*status.Status, *wire.Response) {
	done, err := br.Allow(time.Now())
	if err != nil {
		return status.Newf(codes.Unavailable, "%s: %v", method.Prefix(-1), err), nil
	}
	actx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var st *status.Status
	var wresp *wire.Response
	if sess != nil {
		st, wresp = c.sessionExchange(actx, sess, method, params)
	} else {
		st, wresp = c.exchange(actx, method, params, signed)
	}
	outcome := retry.Success
	switch {
	case st == nil:
	case ctx.Err() != nil:
		outcome = retry.Ignored
	case st.Code == codes.Unavailable, st.Code == codes.DeadlineExceeded, st.Code == codes.Internal, st.Code == codes.Unknown:
		outcome = retry.Failure
	}
	done(time.Now(), outcome)
	return st, wresp
}

// exchange sends one Interest and checks the reply.
func (c *Client) exchange(ctx context.Context, method enc.Name, params []byte, signed bool) (*status.Status, *wire.Response) {
	i, err := c.node.MakeInterest(ctx, method, &ndn.InterestConfig{MustBeFresh: true}, enc.Wire{params}, signed)
	if err != nil {
		return status.Newf(codes.Internal, "encode call: %v", err), nil
	}
	d, err := c.node.Express(ctx, i)
	if err != nil {
		return networkStatus(ctx, err), nil
	}
	key, err := c.node.VerifyData(ctx, d)
	if err != nil {
		if ctx.Err() != nil {
			// The deadline passed while we fetched the signer's
			// certificate: that is the caller's deadline, not a bad reply.
			return status.FromContextError(ctx.Err()), nil
		}
		return status.Newf(codes.Unauthenticated, "reply from %s: %v", method, err), nil
	}
	if err := c.checkSigner(key, method); err != nil {
		return status.Newf(codes.Unauthenticated, "reply from %s: %v", method, err), nil
	}
	wresp, err := wire.DecodeResponse(d.Data.Content().Join())
	if err != nil {
		return status.Newf(codes.Internal, "bad reply from %s: %v", method, err), nil
	}
	if wresp.Status != uint32(codes.OK) {
		return &status.Status{Code: codes.Code(wresp.Status), Message: wresp.Message, Details: wresp.Details}, nil
	}
	return nil, wresp
}

// checkSigner applies ClientConfig.ServicePolicy, or the default rule that
// the signer's identity is a prefix of the call name.
func (c *Client) checkSigner(key, method enc.Name) error {
	if c.cfg.ServicePolicy != nil {
		return c.cfg.ServicePolicy.Authorize(key, method)
	}
	id := key
	for i := len(key) - 1; i >= 0; i-- {
		if key[i].Typ == enc.TypeGenericNameComponent && string(key[i].Val) == "KEY" {
			id = key[:i]
			break
		}
	}
	if !id.IsPrefix(method) {
		return fmt.Errorf("%w: signed by %s, which may not answer for %s", security.ErrPolicyDenied, id, method)
	}
	return nil
}

func (c *Client) finish(ctx context.Context, method enc.Name, sess *session.Session, w *wire.Response, cd codec.Codec, resp any, cc *CallConfig) error {
	if cc.ReplyMetadata != nil {
		*cc.ReplyMetadata = fromWireMD(w.Metadata)
	}
	payload := w.Payload
	if w.Kind == wire.KindStream {
		if t, ok := resp.(*streamTarget); ok {
			t.prefix = w.Continuation
			return nil
		}
		return status.Errorf(codes.Unimplemented, "%s is a streaming method: use Client.Stream", method)
	}
	if w.Kind == wire.KindOperation {
		if t, ok := resp.(*streamTarget); ok {
			t.op, t.payload = w.Continuation, w.Payload
			return nil
		}
		return status.Errorf(codes.Unimplemented, "%s is a long-running method: use Client.Start", method)
	}
	if w.Kind == wire.KindObject {
		b, err := consume(ctx, c.node, w.Continuation, 0)
		if err != nil {
			if ctx.Err() != nil {
				return status.FromContextError(ctx.Err())
			}
			return status.Errorf(codes.Unavailable, "fetch large reply %s: %v", w.Continuation, err)
		}
		payload = b
	} else if w.Kind != wire.KindInline {
		return status.Errorf(codes.Unimplemented, "reply kind %v is not supported by this client", w.Kind)
	}
	ct, payload, err := openPayload(sess, method, true, w.ContentType, payload)
	if err != nil {
		return status.Errorf(codes.Unauthenticated, "sealed reply from %s: %v", method, err)
	}
	if cc.Sealed && w.ContentType == ct && len(payload) > 0 {
		return status.Errorf(codes.Unauthenticated, "sealed call to %s got an unsealed reply", method)
	}
	if resp == nil {
		return nil
	}
	if t, ok := resp.(*streamTarget); ok { // Invoke: a unary reply, raw
		t.payload, t.ct = payload, ct
		return nil
	}
	rc := cd
	if ct != "" && ct != cd.Name() {
		if x, ok := codec.Get(ct); ok {
			rc = x
		}
	}
	if err := rc.Unmarshal(payload, resp); err != nil {
		return status.Errorf(codes.Internal, "decode %s reply: %v", rc.Name(), err)
	}
	return nil
}

// Describe fetches <svc>/_describe and verifies who signed it.
func (c *Client) Describe(ctx context.Context, svc enc.Name) (*Description, error) {
	var d Description
	if err := c.fetchJSON(ctx, svc, "_describe", &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Health fetches <svc>/_health and returns "SERVING" or "NOT_SERVING".
func (c *Client) Health(ctx context.Context, svc enc.Name) (string, error) {
	var h struct {
		Status string `json:"status"`
	}
	if err := c.fetchJSON(ctx, svc, "_health", &h); err != nil {
		return "", err
	}
	return h.Status, nil
}

func (c *Client) fetchJSON(ctx context.Context, svc enc.Name, what string, v any) error {
	name := svc.Append(enc.NewGenericComponent(what))
	d, err := c.node.Fetch(ctx, name, false, true)
	if err != nil {
		return networkStatus(ctx, err)
	}
	key, err := c.node.VerifyData(ctx, d)
	if err == nil {
		err = c.checkSigner(key, name)
	}
	if err != nil && ctx.Err() != nil {
		return status.FromContextError(ctx.Err())
	}
	if err != nil {
		return status.Errorf(codes.Unauthenticated, "%s: %v", name, err)
	}
	if err := json.Unmarshal(d.Data.Content().Join(), v); err != nil {
		return status.Errorf(codes.Internal, "%s: bad JSON: %v", name, err)
	}
	return nil
}

// networkStatus maps a Node error to a status (DESIGN: Nack NoRoute →
// Unavailable, Interest timeout → DeadlineExceeded).
func networkStatus(ctx context.Context, err error) *status.Status {
	switch {
	case ctx.Err() != nil:
		return status.FromContextError(ctx.Err())
	case errors.Is(err, ndnx.ErrTimeout):
		return status.New(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, ndnx.ErrNack), errors.Is(err, ndnx.ErrFaceDown), errors.Is(err, ndnx.ErrClosed):
		return status.New(codes.Unavailable, err.Error())
	default:
		return status.New(codes.Unavailable, err.Error())
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
