package rpc

// Client streams (and what bidirectional streams share with them): the
// client produces items under its own prefix, the server pulls them. See
// docs/PROTOCOL.md §16, "Client streams".

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/rpc/codec"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/internal/wire"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

// MaxStreamItem is the largest item payload a client streams to a server,
// in bytes: an item travels in one Data packet with its name and signature.
const MaxStreamItem = 7000

// upstreamMarker is the name component under a client's identity where it
// serves its upstreams by default: <identity>/_up/<id>/seq=N.
const upstreamMarker = "_up"

// ClientStreamHandler serves a client-streaming method: it reads the items
// the client streams with r, in order, and returns the single response (or
// an error, as Handler's). It runs on its own goroutine; ctx ends as a
// StreamHandler's does (client cancel, idle, MethodOptions.Timeout,
// shutdown). Returning before the client's stream ends is allowed: the
// client's further Sends fail and it gets the response.
type ClientStreamHandler interface {
	ServeClientStream(ctx context.Context, req *Request, r *StreamReader) (*Response, error)
}

// ClientStreamHandlerFunc adapts a function to ClientStreamHandler.
type ClientStreamHandlerFunc func(ctx context.Context, req *Request, r *StreamReader) (*Response, error)

// ServeClientStream calls f.
func (f ClientStreamHandlerFunc) ServeClientStream(ctx context.Context, req *Request, r *StreamReader) (*Response, error) {
	return f(ctx, req, r)
}

// HandleClientStream registers a client-streaming method. The call carries
// the prefix of the client's upstream; the server answers it at once with a
// stream (as HandleStream's) whose only item will be the response, and
// pulls the client's items, StreamWindow packets ahead of the handler,
// verifying that each packet is signed by the key that signed the call. Such methods are
// executed at most once per call, Idempotent or not. Errors as Handle's,
// and ErrBadMethod for a public, cacheable or notification method.
func (m *Mux) HandleClientStream(name string, h ClientStreamHandler, opts MethodOptions) error {
	if h == nil {
		return fmt.Errorf("%w: %q has a nil handler", ErrBadMethod, name)
	}
	return m.handleUpstream(name, opts, func(x *method) { x.upload = h })
}

// handleUpstream registers a method that takes a client's stream; set
// installs its handler.
func (m *Mux) handleUpstream(name string, opts MethodOptions, set func(*method)) error {
	if opts.Public || opts.CacheTTL > 0 || opts.Notification {
		return fmt.Errorf("%w: %q: a stream cannot be public, cacheable or a notification", ErrBadMethod, name)
	}
	placeholder := HandlerFunc(func(context.Context, *Request) (*Response, error) {
		return nil, status.Error(codes.Internal, "stream method called as unary")
	})
	if err := m.Handle(name, placeholder, opts); err != nil {
		return err
	}
	m.mu.Lock()
	set(m.methods[name])
	m.mu.Unlock()
	return nil
}

// ClientStream registers a typed client-streaming method: Req and each
// Item are decoded with the caller's codec, and Resp is encoded with it.
// recv returns the next item, io.EOF once the client closed its stream,
// or an error status (the client cancelled, an item did not decode or was
// not signed by the caller, ctx ended).
func ClientStream[Req, Item, Resp any](m *Mux, name string, f func(ctx context.Context, req Req, recv func() (Item, error)) (Resp, error), opts MethodOptions) error {
	var zr Req
	var zi Item
	var zs Resp
	if opts.RequestType == nil {
		opts.RequestType = zr
	}
	if opts.UpstreamType == nil {
		opts.UpstreamType = zi
	}
	if opts.ResponseType == nil {
		opts.ResponseType = zs
	}
	return m.HandleClientStream(name, ClientStreamHandlerFunc(func(ctx context.Context, r *Request, in *StreamReader) (*Response, error) {
		var req Req
		if err := r.Decode(&req); err != nil {
			return nil, err
		}
		c, err := codecFor(r.ContentType)
		if err != nil {
			return nil, status.New(codes.InvalidArgument, err.Error())
		}
		resp, err := f(ctx, req, func() (Item, error) {
			var it Item
			err := in.Recv(&it)
			return it, err
		})
		if err != nil {
			return nil, err
		}
		b, err := c.Marshal(resp)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "encode %s response: %v", c.Name(), err)
		}
		return &Response{Payload: b, ContentType: c.Name()}, nil
	}), opts)
}

// StreamReader receives, in order, the items a client streams to a client-
// or bidirectional-streaming handler. It fetches up to StreamWindow packets
// of items ahead of the handler on its own goroutines (the server stops them when
// the handler returns); a lost Interest or item is asked for again. Recv is
// not safe for concurrent use, but may run concurrently with the
// StreamWriter's Send. The reader is valid until the handler returns.
type StreamReader struct {
	st *Stream
	ct string
}

// RecvRaw returns the next item's payload. It blocks until the item
// arrives. It returns io.EOF once the client closed its stream; a status
// error if the client cancelled (Canceled), an item was not signed by the
// key that signed the call (Unauthenticated), the client is unreachable
// (Unavailable), or ctx ended (its code).
func (r *StreamReader) RecvRaw() ([]byte, error) { return r.st.RecvRaw() }

// Recv decodes the next item into v with the call's codec. Errors as
// RecvRaw's, or InvalidArgument for an item that does not decode.
func (r *StreamReader) Recv(v any) error {
	b, err := r.st.RecvRaw()
	if err != nil {
		return err
	}
	c, err := codecFor(r.ct)
	if err != nil {
		return status.New(codes.InvalidArgument, err.Error())
	}
	if err := c.Unmarshal(b, v); err != nil {
		return status.Errorf(codes.InvalidArgument, "decode %s stream item: %v", c.Name(), err)
	}
	return nil
}

// takesUpstream reports whether m pulls a client's stream.
func (m *method) takesUpstream() bool { return m.upload != nil || m.bidi != nil }

// upstreamMismatch refuses a call whose Upstream does not fit the method.
func upstreamMismatch(m *method, req *Request) *status.Status {
	switch {
	case m.upload != nil && len(req.upstream) == 0:
		return status.Newf(codes.InvalidArgument, "%s is a client-streaming method: call it with Client.ClientStream (ndn-invoke call --stream-in)", m.name)
	case m.bidi != nil && len(req.upstream) == 0:
		return status.Newf(codes.InvalidArgument, "%s is a bidirectional-streaming method: call it with Client.BidiStream (ndn-invoke call --stream-in)", m.name)
	case !m.takesUpstream() && len(req.upstream) > 0:
		return status.Newf(codes.InvalidArgument, "%s does not take a client stream", m.name)
	case m.takesUpstream() && req.Caller == nil:
		return status.Newf(codes.Unauthenticated, "%s needs a signed call: its stream items are checked against the caller's key", m.name)
	}
	return nil
}

// serveUpstream runs a client- or bidirectional-streaming handler on the
// stream st's goroutine (startStream): it pulls the client's upstream,
// and ends st with the handler's outcome.
func (s *Server) serveUpstream(ctx context.Context, m *method, req *Request, st *serverStream) {
	caller := req.Caller
	r := &StreamReader{ct: req.ContentType, st: startPull(ctx, s.node, req.upstream, func(key enc.Name) error {
		if !key.Equal(caller) {
			return fmt.Errorf("item signed by %s, not by the caller's key %s", key, caller)
		}
		return nil
	}, nil, StreamWindow, nil, nil)}
	final := streamItem{last: true}
	if m.upload != nil {
		resp, err := runUpload(ctx, m.upload, req, r)
		final.content = s.encodeResult(ctx, req, resp, err, 0)
	} else if err := runBidi(ctx, m.bidi, req, r, &StreamWriter{st: st, ct: req.ContentType}); err != nil {
		final.st = errorStatus(err)
	}
	_ = r.st.stop() // stop pulling; tells a client still sending
	err := st.push(final)
	switch {
	case errors.Is(err, ErrStreamClosed) && s.isDraining():
		// Shutdown closed the stream: still answer the Interests that wait
		// for its end, so the client learns now rather than at its deadline.
		if ctx.Err() != nil {
			final = streamItem{last: true, st: status.New(codes.Unavailable, "server shutting down")}
		}
		st.pushEnd(final)
	case err != nil && !errors.Is(err, ErrStreamClosed):
		s.log.Warn("stream end failed", "method", m.name, "err", err)
	}
}

// pushEnd produces the final item even if the stream is closed, unless it
// already has one.
func (st *serverStream) pushEnd(it streamItem) {
	st.mu.Lock()
	if st.ended {
		st.mu.Unlock()
		return
	}
	_ = st.queueLocked(it.encode(), true) // unlocks; fails only if signing does
}

// runUpload calls h, turning a panic into Internal.
func runUpload(ctx context.Context, h ClientStreamHandler, req *Request, r *StreamReader) (resp *Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, status.Errorf(codes.Internal, "handler panicked: %v", p)
		}
	}()
	return h.ServeClientStream(context.WithValue(ctx, requestKey{}, req), req, r)
}

// nextItem waits for the next item: a regular one (consumed), or the
// stream's last one (final; not consumed, so the stream stays at its end).
// Errors as RecvRaw's.
func (s *Stream) nextItem() (w *wire.Response, final bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if p, ok := s.items[s.next]; ok {
			if s.atEndLocked() {
				return p[s.pos], true, nil
			}
			return s.takeLocked(p), false, nil
		}
		if s.haveEnd && s.next > s.last {
			return nil, false, io.EOF
		}
		if s.closed {
			// Close's cancel may make the server answer a late item
			// Interest with "gone": the cause is the Close.
			return nil, false, status.FromContextError(context.Canceled)
		}
		if s.err != nil {
			return nil, false, s.err
		}
		if err := s.ctx.Err(); err != nil {
			return nil, false, status.FromContextError(err)
		}
		s.cond.Wait()
	}
}

// stop ends s as Close does, but tells the producer (_cancel) only if s
// has not reached its end: a producer that sent its last item needs no
// cancel, and the round trip would delay what follows.
func (s *Stream) stop() error {
	s.mu.Lock()
	atEnd := s.haveEnd && s.next >= s.last
	if atEnd {
		s.closed = true
	}
	s.mu.Unlock()
	if !atEnd {
		return s.Close()
	}
	s.cancel()
	s.wg.Wait()
	return nil
}

// ---- the client side ----

// upstreamCall carries a client stream's upstream through the call
// (CallConfig.up), and test hooks (export_test.go).
type upstreamCall struct {
	prefix   enc.Name
	drop     func(seq uint64) bool       // ignore these item Interests
	signer   *ndnx.Node                  // sign items with this node's identity
	produced func(seq uint64, items int) // the upstream produced a packet
	received func(seq uint64, items int) // the call's server stream delivered a packet
}

// upstream is the client side of a client or bidirectional stream: the
// items it produces under prefix for the server to pull, and the server
// stream that answers (down). mu guards closed.
type upstream struct {
	c      *Client
	method enc.Name
	cc     *CallConfig
	cd     codec.Codec
	ctx    context.Context
	prefix enc.Name
	prod   *serverStream
	down   *Stream
	stop   func() bool // unhooks the ctx watcher

	mu     sync.Mutex
	closed bool
}

// openUpstream serves a new upstream, calls method with it and starts
// pulling the server's stream with window fetchers.
func (c *Client) openUpstream(ctx context.Context, method enc.Name, req any, cc *CallConfig, window int) (*upstream, error) {
	if cc == nil {
		cc = &CallConfig{}
	}
	if cc.Public || cc.Sealed {
		return nil, status.New(codes.InvalidArgument, "a client or bidirectional stream cannot be public or sealed")
	}
	id := c.node.Identity()
	if id == nil {
		return nil, status.New(codes.Unauthenticated, "a client stream needs an identity: the server checks that its items are signed by the caller")
	}
	idb := make([]byte, 16)
	_, _ = rand.Read(idb)
	prefix := cc.Upstream.Clone()
	if len(prefix) == 0 {
		prefix = append(id.Name().Clone(), enc.NewGenericComponent(upstreamMarker))
	}
	// The random last component is the capability, as a server stream's id.
	prefix = append(prefix, enc.NewGenericComponent(hex.EncodeToString(idb)))
	hooks := upstreamCall{}
	if cc.up != nil {
		hooks = *cc.up
	}
	signer := c.node
	if hooks.signer != nil {
		signer = hooks.signer
	}
	u := &upstream{c: c, method: method, cc: cc, cd: callCodec(cc), ctx: ctx, prefix: prefix,
		prod: newServerStream(signer, prefix, func() {})}
	u.prod.drop, u.prod.onPacket = hooks.drop, hooks.produced
	if err := c.node.Handle(prefix, u.serve); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "serve upstream %s: %v", prefix, err)
	}
	if err := c.node.Register(ctx, prefix, nil); err != nil {
		_ = c.node.Unhandle(prefix)
		if ctx.Err() != nil {
			return nil, status.FromContextError(ctx.Err())
		}
		return nil, status.Errorf(codes.Unavailable, "register upstream %s: %v", prefix, err)
	}
	call := *cc
	hooks.prefix = prefix
	call.up = &hooks
	var t streamTarget
	if err := c.invoke(ctx, method, req, &t, &call); err != nil {
		u.unroute()
		return nil, err
	}
	if len(t.prefix) == 0 {
		u.unroute()
		return nil, status.Errorf(codes.Internal, "%s answered inline: it is not a streaming method", method)
	}
	// The end of the server's stream (or its failure) ends the upstream:
	// the server reads no more.
	u.down = startPull(ctx, c.node, t.prefix, c.replySigner(method), u.cd, window, u.prod.close, hooks.received)
	u.stop = context.AfterFunc(ctx, u.prod.close)
	return u, nil
}

// serve answers the server's Interests for <prefix>/seq=N and
// <prefix>/_cancel (the server reads no more). Runs on a node worker.
func (u *upstream) serve(_ context.Context, in *ndnx.Incoming) {
	name := in.Interest.Name()
	if len(name) != len(u.prefix)+1 {
		return
	}
	switch c := name[len(name)-1]; {
	case c.IsSequenceNum():
		u.prod.serveItem(in, c.NumberVal())
	case c.Typ == enc.TypeGenericNameComponent && string(c.Val) == "_cancel":
		u.prod.close()
		if w, err := u.c.node.SignData(name, nil, enc.Wire{(&wire.Response{}).Encode()}); err == nil {
			_ = in.Reply(w)
		}
	}
}

// send streams one item; it blocks while the producer holds
// StreamBufferBytes the server has not acknowledged.
func (u *upstream) send(payload []byte) error {
	if len(payload) > MaxStreamItem {
		return status.Errorf(codes.InvalidArgument, "stream item of %d bytes exceeds MaxStreamItem (%d)", len(payload), MaxStreamItem)
	}
	err := u.prod.push(streamItem{payload: payload, ct: u.cd.Name()})
	if errors.Is(err, ErrStreamClosed) && u.ctx.Err() != nil {
		return status.FromContextError(u.ctx.Err())
	}
	return err
}

// encodeSend encodes v with the call's codec and sends it.
func (u *upstream) encodeSend(v any) error {
	b, err := u.cd.Marshal(v)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "encode stream item: %v", err)
	}
	return u.send(b)
}

// closeSend ends the upstream: the server's reader gets io.EOF after the
// items sent. It never blocks.
func (u *upstream) closeSend() error { return u.prod.push(streamItem{last: true}) }

// close ends the call: an upstream not yet ended ends with Canceled (for a
// server still reading), the server's stream is cancelled if it has not
// ended, and the route is withdrawn. Idempotent.
func (u *upstream) close() {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return
	}
	u.closed = true
	u.mu.Unlock()
	u.stop()
	p := u.prod
	end := streamItem{last: true, st: status.New(codes.Canceled, "the client cancelled the stream")}
	p.mu.Lock()
	if !p.ended && !p.closed {
		_ = p.queueLocked(end.encode(), true) // unlocks
	} else {
		p.mu.Unlock()
	}
	_ = u.down.Close()
	p.close()
	u.unroute()
}

// unroute stops serving the upstream and withdraws its route.
func (u *upstream) unroute() {
	_ = u.c.node.Unhandle(u.prefix)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), 2*time.Second)
	_ = u.c.node.Unregister(ctx, u.prefix)
	cancel()
}

// finish decodes a client stream's result, carried by the server stream's
// final item, into resp.
func (u *upstream) finish(w *wire.Response, resp any) error {
	if w.Status != uint32(codes.OK) {
		return &status.Status{Code: codes.Code(w.Status), Message: w.Message, Details: w.Details}
	}
	return u.c.finish(u.ctx, u.method, nil, w, u.cd, resp, u.cc)
}

// Upload is the client side of a client stream: Send streams items, in
// order, and CloseAndRecv ends the stream and returns the server's single
// response. The client serves the items under its own prefix until the
// server pulls them, packed into packets, keeping at most
// StreamBufferBytes not yet acknowledged (Send blocks beyond that). Send and CloseAndRecv must not be called
// concurrently with each other; Close may be called from any goroutine.
// The caller must call CloseAndRecv or Close.
type Upload struct {
	u *upstream
}

// ClientStream calls a client-streaming method and returns the upload once
// the server accepted the call (errors then are Call's, plus
// Unauthenticated for a client without an identity, and InvalidArgument
// for a public or sealed cc). ctx bounds the whole upload: when it ends,
// Send and CloseAndRecv return its error. cc's Codec encodes the request,
// the items and the response (default JSON); cc.Upstream chooses where the
// items are served.
func (c *Client) ClientStream(ctx context.Context, method string, req any, cc *CallConfig) (*Upload, error) {
	name, err := enc.NameFromStr(method)
	if err != nil || len(name) < 2 {
		return nil, status.Errorf(codes.InvalidArgument, "bad method name %q: want /<service>/<method>", method)
	}
	return c.ClientStreamName(ctx, name, req, cc)
}

// ClientStreamName is ClientStream with a parsed name.
func (c *Client) ClientStreamName(ctx context.Context, method enc.Name, req any, cc *CallConfig) (*Upload, error) {
	// The answer is one item: one Interest outstanding is enough.
	u, err := c.openUpstream(ctx, method, req, cc, 1)
	if err != nil {
		return nil, err
	}
	return &Upload{u: u}, nil
}

// Send encodes v with the call's codec and streams it. It blocks while the
// client holds StreamBufferBytes the server has not acknowledged. Errors: ErrStreamClosed once the
// stream ended (the server's handler returned: CloseAndRecv gives its
// outcome; or Close was called), ctx's status, InvalidArgument for an item
// that does not encode or exceeds MaxStreamItem.
func (up *Upload) Send(v any) error { return up.u.encodeSend(v) }

// SendRaw streams one already-encoded item; as Send. payload must not be
// modified afterwards.
func (up *Upload) SendRaw(payload []byte) error { return up.u.send(payload) }

// CloseAndRecv ends the stream, waits for the server's response and
// decodes it into resp (which may be nil), then releases the upload. Errors
// are Call's: the handler's status, or ctx's.
func (up *Upload) CloseAndRecv(resp any) error {
	_ = up.u.closeSend() // ErrStreamClosed: the server ended first; its answer tells
	defer up.Close()
	w, final, err := up.u.down.nextItem()
	switch {
	case err != nil:
		return err
	case !final:
		return status.Errorf(codes.Unimplemented, "%s streams its replies: use Client.BidiStream", up.u.method)
	}
	return up.u.finish(w, resp)
}

// Close abandons the upload, if CloseAndRecv did not end it: the server's
// handler sees Canceled. It waits for the upload's goroutines and
// withdraws its route. Idempotent; always nil.
func (up *Upload) Close() error {
	up.u.close()
	return nil
}

// String names the upload.
func (up *Upload) String() string { return fmt.Sprintf("upload %s", up.u.prefix) }
