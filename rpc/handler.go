package rpc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/rpc/codec"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security"
)

type requestKey struct{}

// RequestFromContext returns the Request being served, from the ctx the
// Server passes to handlers (typed Unary handlers use it to learn the
// caller). ok is false outside a handler.
func RequestFromContext(ctx context.Context) (req *Request, ok bool) {
	req, ok = ctx.Value(requestKey{}).(*Request)
	return req, ok
}

// Request is one decoded call as a Handler sees it. It is read-only for the
// handler and valid only until the handler returns.
type Request struct {
	// Service is the service prefix; Method the method name.
	Service enc.Name
	Method  string
	// Name is the call's full name (<svc>/<method>/<params-sha256>).
	Name enc.Name
	// Caller is the verified key name of the caller; nil for a public call.
	Caller enc.Name
	// Payload is the encoded request body; ContentType names its codec.
	Payload     []byte
	ContentType string
	// Metadata are the caller's key/value pairs (keys lower-case).
	Metadata Metadata
	// RequestID identifies the call across retransmissions (nil for public calls).
	RequestID []byte
	// TraceParent is the W3C traceparent the caller sent, or "".
	TraceParent string

	upstream enc.Name // a client or bidirectional stream's item prefix
}

// Decode unmarshals the payload into v with the request's codec.
func (r *Request) Decode(v any) error {
	c, err := codecFor(r.ContentType)
	if err != nil {
		return status.New(codes.InvalidArgument, err.Error())
	}
	if err := c.Unmarshal(r.Payload, v); err != nil {
		return status.Errorf(codes.InvalidArgument, "decode %s request: %v", c.Name(), err)
	}
	return nil
}

// Response is a handler's successful answer.
type Response struct {
	// Payload is the encoded body; ContentType names its codec ("" means
	// the request's).
	Payload     []byte
	ContentType string
	// Metadata are returned to the caller.
	Metadata Metadata
}

// Handler serves one method. ServeRPC returns a Response, or an error: a
// *status.Status (or an error wrapping one) reaches the caller with its code;
// context errors map to Canceled/DeadlineExceeded; anything else reaches the
// caller as Unknown (with its text). Handlers run on the node's worker
// goroutines, concurrently, and may block until ctx is done.
type Handler interface {
	ServeRPC(ctx context.Context, req *Request) (*Response, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (*Response, error)

// ServeRPC calls f(ctx, req).
func (f HandlerFunc) ServeRPC(ctx context.Context, req *Request) (*Response, error) {
	return f(ctx, req)
}

// Middleware wraps a Handler (server interceptor).
type Middleware func(Handler) Handler

// Chain composes middlewares; the first is outermost.
func Chain(ms ...Middleware) Middleware {
	return func(h Handler) Handler {
		for i := len(ms) - 1; i >= 0; i-- {
			h = ms[i](h)
		}
		return h
	}
}

// MethodOptions describe how a method may be called and served.
type MethodOptions struct {
	// Public lets unsigned callers in (no identity, no policy check).
	Public bool
	// CacheTTL > 0 makes replies cacheable for that long: the forwarder's
	// Content Store answers repeats, and identical concurrent calls are
	// aggregated in its PIT so the handler runs once. Only public methods
	// can be cacheable (a cached reply cannot be per caller).
	CacheTTL time.Duration
	// Idempotent methods may run more than once for one call. Others are
	// executed at most once per (caller, request id): a retransmission is
	// answered from the stored reply.
	Idempotent bool
	// Timeout caps the handler's run time (0: only the caller's deadline;
	// for a Notification, only the server's lifetime).
	Timeout time.Duration
	// Notification makes the method fire-and-forget: the server
	// acknowledges a call (status OK, no payload) as soon as it is
	// authenticated and authorized, then runs the handler on its own
	// goroutine, whose reply is discarded. A retransmitted signed call is
	// acknowledged again without running twice (at most once per caller
	// and request id), so Client.Notify with AtLeastOnce gives
	// exactly-once execution while the server runs. The handler's ctx ends
	// at Timeout or when the server shuts down.
	Notification bool
	// Resumable (long-running methods) makes a server that starts after a
	// crash run the handler again for operations its previous run left
	// unfinished, with the stored request (kept in the operation record
	// while it runs, so readers of the record see it). Otherwise such
	// operations end with Aborted.
	Resumable bool
	// Policy overrides the server's authorization policy for this method.
	Policy *security.Policy
	// Description is shown by describe.
	Description string
	// RequestType and ResponseType are example values whose shapes
	// describe publishes (set by Unary; optional for raw handlers).
	RequestType, ResponseType any
	// UpstreamType is an example of the items a client- or bidirectional-
	// streaming method receives, for describe (set by ClientStream and
	// BidiStream).
	UpstreamType any
}

// ErrDuplicateHandler is returned by Handle for a method registered twice.
var ErrDuplicateHandler = errors.New("rpc: duplicate handler")

// ErrBadMethod is returned by Handle for an unusable method name.
var ErrBadMethod = errors.New("rpc: bad method name")

var methodName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

type method struct {
	name   string
	h      Handler
	stream StreamHandler                                        // set for server-streaming methods
	upload ClientStreamHandler                                  // set for client-streaming methods
	bidi   BidiStreamHandler                                    // set for bidirectional-streaming methods
	op     func(context.Context, *Request, *Op) ([]byte, error) // set for long-running methods
	check  func(*Request) error                                 // long-running: checks a request before its operation starts
	opts   MethodOptions
}

// Mux maps method names to handlers. It is safe for concurrent use.
type Mux struct {
	mu      sync.RWMutex
	methods map[string]*method
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{methods: map[string]*method{}} }

// Handle registers h for method. Names start with a letter and hold letters,
// digits, '_', '.', '-' (names starting with '_' are reserved). Returns
// ErrBadMethod, ErrDuplicateHandler, or an error for inconsistent options
// (a cacheable method that is not public).
func (m *Mux) Handle(name string, h Handler, opts MethodOptions) error {
	if !methodName.MatchString(name) {
		return fmt.Errorf("%w: %q", ErrBadMethod, name)
	}
	if h == nil {
		return fmt.Errorf("%w: %q has a nil handler", ErrBadMethod, name)
	}
	if opts.CacheTTL < 0 || opts.Timeout < 0 {
		return fmt.Errorf("%w: %q: negative CacheTTL or Timeout", ErrBadMethod, name)
	}
	if opts.CacheTTL > 0 && !opts.Public {
		return fmt.Errorf("%w: %q: only public methods can be cacheable", ErrBadMethod, name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.methods[name]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicateHandler, name)
	}
	m.methods[name] = &method{name: name, h: h, opts: opts}
	return nil
}

func (m *Mux) lookup(name string) *method {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.methods[name]
}

func (m *Mux) list() []*method {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*method, 0, len(m.methods))
	for _, x := range m.methods {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Unary registers a typed method: the request is decoded into Req with the
// caller's codec (JSON by default), f runs, and Resp is encoded with the
// same codec. Errors are as Handler's.
func Unary[Req, Resp any](m *Mux, name string, f func(ctx context.Context, req Req) (Resp, error), opts MethodOptions) error {
	var zr Req
	var zs Resp
	if opts.RequestType == nil {
		opts.RequestType = zr
	}
	if opts.ResponseType == nil {
		opts.ResponseType = zs
	}
	return m.Handle(name, HandlerFunc(func(ctx context.Context, r *Request) (*Response, error) {
		var req Req
		if rt := reflect.TypeOf(req); rt != nil && rt.Kind() == reflect.Pointer {
			req = reflect.New(rt.Elem()).Interface().(Req)
			if err := r.Decode(req); err != nil {
				return nil, err
			}
		} else if err := r.Decode(&req); err != nil {
			return nil, err
		}
		resp, err := f(ctx, req)
		if err != nil {
			return nil, err
		}
		c, err := codecFor(r.ContentType)
		if err != nil {
			return nil, status.New(codes.InvalidArgument, err.Error())
		}
		b, err := c.Marshal(resp)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "encode %s response: %v", c.Name(), err)
		}
		return &Response{Payload: b, ContentType: c.Name()}, nil
	}), opts)
}

func codecFor(name string) (codec.Codec, error) {
	if name == "" {
		name = "json"
	}
	c, ok := codec.Get(name)
	if !ok {
		return nil, fmt.Errorf("unknown content type %q", name)
	}
	return c, nil
}
