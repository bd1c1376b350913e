package rpc

// Bidirectional streams: a server stream and a client's upstream at once.
// See docs/PROTOCOL.md §16, "Bidirectional streams".

import (
	"context"
	"fmt"
	"io"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

// BidiStreamHandler serves a bidirectional-streaming method: it reads the
// client's items with r and sends its own with w, independently and in any
// interleaving (Recv and Send may run on different goroutines), and returns
// nil to end its stream or an error to end it with that status. It runs on
// its own goroutine; ctx ends as a StreamHandler's does.
type BidiStreamHandler interface {
	ServeBidiStream(ctx context.Context, req *Request, r *StreamReader, w *StreamWriter) error
}

// BidiStreamHandlerFunc adapts a function to BidiStreamHandler.
type BidiStreamHandlerFunc func(ctx context.Context, req *Request, r *StreamReader, w *StreamWriter) error

// ServeBidiStream calls f.
func (f BidiStreamHandlerFunc) ServeBidiStream(ctx context.Context, req *Request, r *StreamReader, w *StreamWriter) error {
	return f(ctx, req, r, w)
}

// HandleBidiStream registers a bidirectional-streaming method: the server
// streams items to the client as HandleStream's methods do, and pulls the
// client's items as HandleClientStream's do, with the same window,
// backpressure and signer check on each side. Errors as
// HandleClientStream's.
func (m *Mux) HandleBidiStream(name string, h BidiStreamHandler, opts MethodOptions) error {
	if h == nil {
		return fmt.Errorf("%w: %q has a nil handler", ErrBadMethod, name)
	}
	return m.handleUpstream(name, opts, func(x *method) { x.bidi = h })
}

// BidiStream registers a typed bidirectional-streaming method: Req and
// each In are decoded with the caller's codec, each Out is encoded with it.
// recv is as ClientStream's; send as ServerStream's (it blocks while the
// client has not acknowledged StreamBufferBytes, and returns ErrStreamClosed once
// the client went away).
func BidiStream[Req, In, Out any](m *Mux, name string, f func(ctx context.Context, req Req, recv func() (In, error), send func(Out) error) error, opts MethodOptions) error {
	var zr Req
	var zi In
	var zo Out
	if opts.RequestType == nil {
		opts.RequestType = zr
	}
	if opts.UpstreamType == nil {
		opts.UpstreamType = zi
	}
	if opts.ResponseType == nil {
		opts.ResponseType = zo
	}
	return m.HandleBidiStream(name, BidiStreamHandlerFunc(func(ctx context.Context, r *Request, in *StreamReader, w *StreamWriter) error {
		var req Req
		if err := r.Decode(&req); err != nil {
			return err
		}
		c, err := codecFor(r.ContentType)
		if err != nil {
			return status.New(codes.InvalidArgument, err.Error())
		}
		return f(ctx, req, func() (In, error) {
			var it In
			err := in.Recv(&it)
			return it, err
		}, func(it Out) error {
			b, err := c.Marshal(it)
			if err != nil {
				return status.Errorf(codes.Internal, "encode %s item: %v", c.Name(), err)
			}
			return w.Send(b)
		})
	}), opts)
}

// runBidi calls h, turning a panic into Internal.
func runBidi(ctx context.Context, h BidiStreamHandler, req *Request, r *StreamReader, w *StreamWriter) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = status.Errorf(codes.Internal, "handler panicked: %v", p)
		}
	}()
	return h.ServeBidiStream(context.WithValue(ctx, requestKey{}, req), req, r, w)
}

// Duplex is the client side of a bidirectional stream: Send streams items
// to the server and Recv returns the server's, independently. Each
// direction has its own window and backpressure: Send blocks while the
// server has not acknowledged StreamBufferBytes, and the client fetches at
// most StreamWindow packets of the server's items ahead of Recv. Send and CloseSend may
// run on one goroutine while Recv runs on another; neither is safe for
// concurrent use with itself. Close may be called from any goroutine. The
// caller must call Close.
type Duplex struct {
	u        *upstream
	gotFinal bool // Recv returned the final item's content
}

// BidiStream calls a bidirectional-streaming method and returns the stream
// once the server accepted the call; errors and cc as ClientStream's.
func (c *Client) BidiStream(ctx context.Context, method string, req any, cc *CallConfig) (*Duplex, error) {
	name, err := enc.NameFromStr(method)
	if err != nil || len(name) < 2 {
		return nil, status.Errorf(codes.InvalidArgument, "bad method name %q: want /<service>/<method>", method)
	}
	return c.BidiStreamName(ctx, name, req, cc)
}

// BidiStreamName is BidiStream with a parsed name.
func (c *Client) BidiStreamName(ctx context.Context, method enc.Name, req any, cc *CallConfig) (*Duplex, error) {
	u, err := c.openUpstream(ctx, method, req, cc, StreamWindow)
	if err != nil {
		return nil, err
	}
	return &Duplex{u: u}, nil
}

// Send encodes v with the call's codec and streams it; errors as
// Upload.Send's (ErrStreamClosed once the server's handler returned or
// CloseSend was called: Recv gives the outcome).
func (d *Duplex) Send(v any) error { return d.u.encodeSend(v) }

// SendRaw streams one already-encoded item; as Send. payload must not be
// modified afterwards.
func (d *Duplex) SendRaw(payload []byte) error { return d.u.send(payload) }

// CloseSend ends the client's stream: the handler's reader gets io.EOF
// after the items sent. The server's items keep coming. It never blocks;
// later Sends return ErrStreamClosed. It returns nil.
func (d *Duplex) CloseSend() error {
	_ = d.u.closeSend() // ErrStreamClosed: already ended, by either side
	return nil
}

// RecvRaw returns the server's next item. It returns io.EOF at the end of
// the server's stream, the handler's status error if it failed, and a
// status error with ctx's code if ctx ended or Close was called. A
// client-streaming method called this way yields its response as the one
// item.
func (d *Duplex) RecvRaw() ([]byte, error) {
	w, final, err := d.u.down.nextItem()
	if err != nil || !final {
		if err != nil {
			return nil, err
		}
		return w.Payload, nil
	}
	if w.Status != uint32(codes.OK) {
		return nil, d.u.finish(w, nil)
	}
	if d.gotFinal || (len(w.Payload) == 0 && len(w.Continuation) == 0) {
		return nil, io.EOF
	}
	d.gotFinal = true
	var t streamTarget
	if err := d.u.finish(w, &t); err != nil {
		return nil, err
	}
	return t.payload, nil
}

// Recv decodes the server's next item into v with the call's codec. Errors
// as RecvRaw's, or Internal for an item that does not decode.
func (d *Duplex) Recv(v any) error {
	b, err := d.RecvRaw()
	if err != nil {
		return err
	}
	if err := d.u.cd.Unmarshal(b, v); err != nil {
		return status.Errorf(codes.Internal, "decode stream item: %v", err)
	}
	return nil
}

// Close ends the call: if the client's stream has not ended it ends with
// Canceled, and if the server's has not, the server is told to stop (its
// handler's ctx is cancelled). It waits for the stream's goroutines and
// withdraws the client's route. Idempotent; always nil.
func (d *Duplex) Close() error {
	d.u.close()
	return nil
}

// String names the stream.
func (d *Duplex) String() string { return fmt.Sprintf("bidi stream %s", d.u.prefix) }
