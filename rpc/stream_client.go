package rpc

import (
	"context"
	"encoding/json"
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

// streamTarget receives a stream call's continuation, or a unary reply's
// raw payload (see finish).
type streamTarget struct {
	prefix  enc.Name
	op      enc.Name // a long-running call's operation
	payload []byte
	ct      string
}

// Result is what Invoke returns: a unary method's reply payload (encoded
// with ContentType), or a server stream.
type Result struct {
	Payload     []byte
	ContentType string
	// Stream is set when the method streams; the caller must Close it.
	Stream *Stream
	// Operation is set when the method is long-running: its first record.
	Operation *OpStatus
}

// Invoke calls method whatever its kind, for generic callers such as the
// CLI that do not know in advance: a unary reply comes back raw in
// Result.Payload, a stream as Result.Stream. Errors as Call's.
func (c *Client) Invoke(ctx context.Context, method enc.Name, req any, cc *CallConfig) (*Result, error) {
	if cc == nil {
		cc = &CallConfig{}
	}
	var t streamTarget
	if err := c.invoke(ctx, method, req, &t, cc); err != nil {
		return nil, err
	}
	if len(t.op) > 0 {
		var st OpStatus
		if err := json.Unmarshal(t.payload, &st); err != nil {
			return nil, status.Errorf(codes.Internal, "bad operation record: %v", err)
		}
		return &Result{Operation: &st}, nil
	}
	if len(t.prefix) == 0 {
		return &Result{Payload: t.payload, ContentType: t.ct}, nil
	}
	return &Result{Stream: c.openStream(ctx, method, t.prefix, cc)}, nil
}

// errPastEnd: the item asked for lies past the stream's end.
var errPastEnd = errors.New("rpc: past the end of the stream")

// streamItemLifetime is the lifetime of an item Interest: the server holds
// it until the item is produced, and the client asks again when it
// expires (which also keeps the stream from going idle).
// (A variable only so that the loss test can shorten it.)
var streamItemLifetime = 4 * time.Second

// streamInitialWindow is how many packets a stream asks for at first; each
// packet that arrives lets it ask for one more, up to its window (slow
// start), so the first item does not queue behind a window of Interests.
const streamInitialWindow = 2

// Stream is the client side of a server stream: Recv returns the items in
// order. It fetches up to StreamWindow packets of items ahead on its own
// goroutines (stopped by Close or when the stream ends); a lost Interest
// or packet is asked for again, so order and completeness hold under loss.
// Recv and Close may be called from different goroutines; Recv is not safe
// for concurrent use.
type Stream struct {
	node     *ndnx.Node
	check    func(key enc.Name) error // may key sign packets?
	prefix   enc.Name
	cd       codec.Codec
	window   int                         // the most packets fetched ahead
	onEnd    func()                      // if set, called once when the end or an error is known
	onPacket func(seq uint64, items int) // test hook: a packet arrived
	ended    sync.Once
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu      sync.Mutex
	cond    *sync.Cond
	items   map[uint64][]*wire.Response // fetched packets, not yet consumed
	cwnd    int                         // packets fetched ahead now: grows to window (slow start)
	claim   uint64                      // next seq a fetcher takes
	next    uint64                      // seq of the packet Recv reads
	pos     int                         // index of the next item in packet next
	last    uint64                      // final seq, when haveEnd
	haveEnd bool
	err     error // a fetch failed for good
	closed  bool
}

// Stream calls a server-streaming method and returns the stream once the
// server accepted the call (errors then are Call's). ctx bounds the whole
// stream: when it ends, fetching stops and Recv returns its error. cc's
// Codec decodes the items (default JSON).
func (c *Client) Stream(ctx context.Context, method string, req any, cc *CallConfig) (*Stream, error) {
	name, err := enc.NameFromStr(method)
	if err != nil || len(name) < 2 {
		return nil, status.Errorf(codes.InvalidArgument, "bad method name %q: want /<service>/<method>", method)
	}
	return c.StreamName(ctx, name, req, cc)
}

// StreamName is Stream with a parsed name.
func (c *Client) StreamName(ctx context.Context, method enc.Name, req any, cc *CallConfig) (*Stream, error) {
	if cc == nil {
		cc = &CallConfig{}
	}
	var t streamTarget
	if err := c.invoke(ctx, method, req, &t, cc); err != nil {
		return nil, err
	}
	if len(t.prefix) == 0 {
		return nil, status.Errorf(codes.Internal, "%s is not a streaming method (it answered inline)", method)
	}
	return c.openStream(ctx, method, t.prefix, cc), nil
}

// openStream starts fetching the stream at prefix.
func (c *Client) openStream(ctx context.Context, method, prefix enc.Name, cc *CallConfig) *Stream {
	var received func(uint64, int)
	if cc != nil && cc.up != nil {
		received = cc.up.received
	}
	return startPull(ctx, c.node, prefix, c.replySigner(method), callCodec(cc), StreamWindow, nil, received)
}

// replySigner checks that key may sign the replies and stream items of
// method.
func (c *Client) replySigner(method enc.Name) func(key enc.Name) error {
	return func(key enc.Name) error { return c.checkSigner(key, method) }
}

// callCodec is cc's codec, JSON by default.
func callCodec(cc *CallConfig) codec.Codec {
	if cc != nil && cc.Codec != nil {
		return cc.Codec
	}
	cd, _ := codec.Get("json")
	return cd
}

// startPull starts fetching the stream at prefix through node with window
// fetchers; check says whose signatures packets may carry, onEnd (optional)
// learns once that the stream ended or failed, onPacket (optional, a test
// hook) learns of each packet. It is the client side of a server stream,
// and the server side of a client's upstream.
func startPull(ctx context.Context, node *ndnx.Node, prefix enc.Name, check func(enc.Name) error, cd codec.Codec, window int, onEnd func(), onPacket func(uint64, int)) *Stream {
	sctx, cancel := context.WithCancel(ctx)
	s := &Stream{node: node, check: check, prefix: prefix, cd: cd, window: window, onEnd: onEnd, onPacket: onPacket,
		ctx: sctx, cancel: cancel, items: map[uint64][]*wire.Response{}, cwnd: min(window, streamInitialWindow)}
	s.cond = sync.NewCond(&s.mu)
	// Wake waiters when ctx ends (the callback runs once, then is gone).
	context.AfterFunc(sctx, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
	for range window {
		s.wg.Add(1)
		go s.fetcher() // owned: s.wg, awaited by Close
	}
	return s
}

// fetcher claims the next seq within the window and fetches it.
func (s *Stream) fetcher() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		for s.ctx.Err() == nil && s.err == nil && !(s.haveEnd && s.claim > s.last) && s.claim >= s.next+uint64(s.cwnd) {
			s.cond.Wait()
		}
		if s.ctx.Err() != nil || s.err != nil || (s.haveEnd && s.claim > s.last) {
			s.mu.Unlock()
			return
		}
		seq := s.claim
		s.claim++
		s.mu.Unlock()

		items, final, err := s.fetch(seq)
		s.mu.Lock()
		switch {
		case errors.Is(err, errPastEnd):
		case err != nil:
			if s.err == nil && s.ctx.Err() == nil {
				s.err = err
			}
		default:
			if seq >= s.next { // else a duplicate of a consumed packet
				s.items[seq] = items
			}
			if final && (!s.haveEnd || seq < s.last) {
				s.haveEnd, s.last = true, seq
			}
			if s.cwnd < s.window {
				s.cwnd++
			}
		}
		end := s.haveEnd || s.err != nil
		s.cond.Broadcast()
		s.mu.Unlock()
		if err == nil && s.onPacket != nil {
			s.onPacket(seq, len(items))
		}
		if end && s.onEnd != nil {
			s.ended.Do(s.onEnd)
		}
	}
}

// fetch gets packet seq, asking again whenever an Interest expires (the
// packet may not be produced yet, or a packet was lost) until the stream's
// ctx ends. The packet must verify and be signed by the service, and hold
// items: plain ones, and in the final packet (final) the end last.
func (s *Stream) fetch(seq uint64) ([]*wire.Response, bool, error) {
	name := append(s.prefix.Clone(), enc.NewSequenceNumComponent(seq))
	for {
		actx, cancel := context.WithTimeout(s.ctx, streamItemLifetime)
		d, err := s.node.Fetch(actx, name, false, false)
		cancel()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil, false, s.ctx.Err()
			}
			if errors.Is(err, ndnx.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
				s.mu.Lock()
				past := s.haveEnd && seq > s.last
				s.mu.Unlock()
				if past {
					return nil, false, errPastEnd
				}
				continue
			}
			return nil, false, status.Errorf(codes.Unavailable, "stream %s packet %d: %v", s.prefix, seq, err)
		}
		key, err := s.node.VerifyData(s.ctx, d)
		if err == nil {
			err = s.check(key)
		}
		if err != nil {
			return nil, false, status.Errorf(codes.Unauthenticated, "stream %s packet %d: %v", s.prefix, seq, err)
		}
		items, err := wire.DecodeItems(d.Data.Content().Join())
		if err != nil {
			return nil, false, status.Errorf(codes.Internal, "stream %s packet %d: %v", s.prefix, seq, err)
		}
		final := false
		if fb, ok := d.Data.FinalBlockID().Get(); ok && fb.IsSequenceNum() && fb.NumberVal() == seq {
			final = true
		}
		if w := items[len(items)-1]; !final && (w.Status != uint32(codes.OK) || w.Kind != wire.KindInline) {
			if len(items) == 1 && w.Status != uint32(codes.OK) {
				// Not an item: the server no longer has the stream.
				return nil, false, &status.Status{Code: codes.Code(w.Status), Message: w.Message, Details: w.Details}
			}
			return nil, false, status.Errorf(codes.Internal, "stream %s packet %d: the stream ends in a packet that is not final", s.prefix, seq)
		}
		return items, final, nil
	}
}

// atEndLocked reports whether the next item is the stream's final one.
func (s *Stream) atEndLocked() bool {
	return s.haveEnd && s.next == s.last && s.pos == len(s.items[s.next])-1
}

// takeLocked consumes the next item of packet s.next, which is fetched and
// holds it, moving to the next packet after its last item.
func (s *Stream) takeLocked(p []*wire.Response) *wire.Response {
	w := p[s.pos]
	s.pos++
	if s.pos == len(p) {
		delete(s.items, s.next)
		s.next++
		s.pos = 0
		s.cond.Broadcast()
	}
	return w
}

// RecvRaw returns the next item's payload. At the end of the stream it
// returns io.EOF; if the server's handler failed, its status error; if
// ctx ended or Close was called, a status error with the ctx's code. The
// end and the handler's error stay: later calls return them again.
func (s *Stream) RecvRaw() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if p, ok := s.items[s.next]; ok {
			if s.atEndLocked() {
				if w := p[s.pos]; w.Status != uint32(codes.OK) {
					return nil, &status.Status{Code: codes.Code(w.Status), Message: w.Message, Details: w.Details}
				}
				return nil, io.EOF
			}
			return s.takeLocked(p).Payload, nil
		}
		if s.haveEnd && s.next > s.last {
			return nil, io.EOF
		}
		if s.err != nil {
			return nil, s.err
		}
		if err := s.ctx.Err(); err != nil {
			return nil, status.FromContextError(err)
		}
		s.cond.Wait()
	}
}

// Recv decodes the next item into v with the call's codec. Errors as
// RecvRaw's, or InvalidArgument... for an item that does not decode.
func (s *Stream) Recv(v any) error {
	b, err := s.RecvRaw()
	if err != nil {
		return err
	}
	if err := s.cd.Unmarshal(b, v); err != nil {
		return status.Errorf(codes.Internal, "decode stream item: %v", err)
	}
	return nil
}

// Close stops the stream: it tells the server (best effort, so its
// handler's ctx ends at once rather than after StreamIdleTimeout), stops
// fetching and waits for the stream's goroutines. Idempotent.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ended := s.haveEnd && s.next > s.last
	s.mu.Unlock()
	if !ended {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 500*time.Millisecond)
		_, _ = s.node.Fetch(ctx, append(s.prefix.Clone(), enc.NewGenericComponent("_cancel")), false, true)
		cancel()
	}
	s.cancel()
	s.wg.Wait()
	return nil
}

// String names the stream.
func (s *Stream) String() string { return fmt.Sprintf("stream %s", s.prefix) }
