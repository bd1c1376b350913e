package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
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

// streamMarker is the name component under which a service serves its
// streams: <svc>/_stream/<id>/seq=N.
const streamMarker = "_stream"

// Stream serving limits.
const (
	// StreamWindow is how many packets of items a client keeps requested
	// ahead. A packet carries every item queued when it is produced, up
	// to about 7800 bytes of content, so under load it carries many small
	// items while a lone item still leaves at once.
	StreamWindow = 16
	// StreamBufferBytes bounds what a producer holds: the items sent and
	// not yet acknowledged by the consumer, each queued item counted as
	// its encoded size plus 64 bytes, each packet as its size at most.
	// Send blocks while the next item would exceed it and items wait to be
	// packed (the consumer is behind). Packets the consumer has not yet
	// acknowledged are about 2×StreamWindow at most, so memory stays bounded.
	StreamBufferBytes = 256 << 10
	// StreamIdleTimeout ends a stream no client has asked anything of for
	// this long (its handler's ctx is cancelled).
	StreamIdleTimeout = 30 * time.Second
	// maxStreams bounds the streams a server keeps at once.
	maxStreams = 1024
	// streamPacketBudget is the most item bytes (encoded Response TLVs)
	// packed into one packet, so that with its name and signature it
	// fits an 8800-byte NDN packet. A larger item travels alone.
	streamPacketBudget = 7800
	// streamItemOverhead is what an item costs in StreamBufferBytes beyond
	// its encoding (its bookkeeping), so that empty items are bounded too.
	streamItemOverhead = 64
)

// ErrStreamClosed is returned by StreamWriter.Send once the stream ended:
// the client cancelled it or went away, or the server is shutting down.
var ErrStreamClosed = errors.New("rpc: stream closed")

// StreamHandler serves a server-streaming method: it sends items with w
// and returns nil to end the stream or an error to end it with that status.
// It runs on its own goroutine; ctx ends when the client cancels, goes
// idle for StreamIdleTimeout, MethodOptions.Timeout passes, or the server
// shuts down.
type StreamHandler interface {
	ServeStream(ctx context.Context, req *Request, w *StreamWriter) error
}

// StreamHandlerFunc adapts a function to StreamHandler.
type StreamHandlerFunc func(ctx context.Context, req *Request, w *StreamWriter) error

// ServeStream calls f.
func (f StreamHandlerFunc) ServeStream(ctx context.Context, req *Request, w *StreamWriter) error {
	return f(ctx, req, w)
}

// HandleStream registers a server-streaming method. The call is answered
// at once with the stream's name; the client then pulls the items, in
// order, packed into packets, with a window (StreamWindow packets), and
// the handler's Send blocks while the client is StreamBufferBytes behind.
// Errors as Handle's.
func (m *Mux) HandleStream(name string, h StreamHandler, opts MethodOptions) error {
	if h == nil {
		return fmt.Errorf("%w: %q has a nil handler", ErrBadMethod, name)
	}
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
	m.methods[name].stream = h
	m.mu.Unlock()
	return nil
}

// ServerStream registers a typed server-streaming method: Req is decoded
// with the caller's codec, and each Item sent is encoded with it.
func ServerStream[Req, Item any](m *Mux, name string, f func(ctx context.Context, req Req, send func(Item) error) error, opts MethodOptions) error {
	var zr Req
	var zi Item
	if opts.RequestType == nil {
		opts.RequestType = zr
	}
	if opts.ResponseType == nil {
		opts.ResponseType = zi
	}
	return m.HandleStream(name, StreamHandlerFunc(func(ctx context.Context, r *Request, w *StreamWriter) error {
		var req Req
		if err := r.Decode(&req); err != nil {
			return err
		}
		c, err := codecFor(r.ContentType)
		if err != nil {
			return status.New(codes.InvalidArgument, err.Error())
		}
		return f(ctx, req, func(it Item) error {
			b, err := c.Marshal(it)
			if err != nil {
				return status.Errorf(codes.Internal, "encode %s item: %v", c.Name(), err)
			}
			return w.Send(b)
		})
	}), opts)
}

// StreamWriter sends the items of one stream. Send is not safe for
// concurrent use (items are ordered).
type StreamWriter struct {
	st *serverStream
	ct string
}

// Send queues one item (encoded payload) and returns once it is buffered:
// it blocks while the producer holds StreamBufferBytes not yet
// acknowledged by the client, until ctx of the handler ends. The item
// leaves at once if the client is waiting for one; otherwise it is packed
// with the items queued after it. Errors: ErrStreamClosed.
func (w *StreamWriter) Send(payload []byte) error {
	return w.st.push(streamItem{payload: payload, ct: w.ct})
}

// streamItem is one item to produce, or the final marker (last) with the
// stream's end status.
type streamItem struct {
	payload []byte
	ct      string
	last    bool
	st      *status.Status // last: nil for OK
	content []byte         // if set, the whole Response TLV (a client stream's result)
}

// encode returns the item's Response TLV.
func (it *streamItem) encode() []byte {
	if it.content != nil {
		return it.content
	}
	if it.st != nil {
		return (&wire.Response{Status: uint32(it.st.Code), Message: it.st.Message, Details: it.st.Details}).Encode()
	}
	return (&wire.Response{Payload: it.payload, ContentType: it.ct}).Encode()
}

// queuedItem is an item sent and not yet packed.
type queuedItem struct {
	resp []byte // its Response TLV
	last bool
}

// streamPacket is a produced packet: the signed Data and what its items
// cost in StreamBufferBytes.
type streamPacket struct {
	wire  []byte
	cost  int
	items int
}

// serverStream is the producing side of one stream: a server's stream, or
// a client's upstream (stream_upload.go). Items are queued by push and
// packed into a packet when the consumer asks for the next sequence number
// (at once if it already waits). mu guards the fields below it.
type serverStream struct {
	node     *ndnx.Node                  // signs the packets
	drop     func(seq uint64) bool       // test hook: ignore these Interests
	onPacket func(seq uint64, items int) // test hook: a packet was produced
	prefix   enc.Name
	cancel   context.CancelFunc

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []queuedItem             // sent, not yet packed, in order
	packets  map[uint64]*streamPacket // produced, not yet released
	held     int                      // cost of queue and packets
	next     uint64                   // seq of the next packet produced
	low      uint64                   // packets below are released
	pending  map[uint64][]*ndnx.Incoming
	ended    bool // the final item is queued (nothing more is taken)
	done     bool // the final item is packed (next is past the end)
	closed   bool // the stream is over for the producer
	lastSeen time.Time
}

// newServerStream returns an empty producer for the stream at prefix.
func newServerStream(node *ndnx.Node, prefix enc.Name, cancel context.CancelFunc) *serverStream {
	st := &serverStream{node: node, prefix: prefix, cancel: cancel, packets: map[uint64]*streamPacket{},
		pending: map[uint64][]*ndnx.Incoming{}, lastSeen: time.Now()}
	st.cond = sync.NewCond(&st.mu)
	return st
}

// itemCost is what an item of encoded size n counts in StreamBufferBytes.
func itemCost(n int) int { return n + streamItemOverhead }

// push queues the next item, waiting while the producer holds
// StreamBufferBytes and has items not yet packed (the consumer is behind);
// the final item (last) never waits. It returns ErrStreamClosed once the
// stream is closed or its final item queued.
func (st *serverStream) push(it streamItem) error {
	resp := it.encode()
	cost := itemCost(len(resp))
	st.mu.Lock()
	// Wait only while items are queued: with none, the consumer may be
	// waiting for the next packet, and the acknowledgements it could send
	// would not free the packets it holds.
	for !st.closed && !st.ended && !it.last && len(st.queue) > 0 && st.held+cost > StreamBufferBytes {
		st.cond.Wait()
	}
	if st.closed || st.ended {
		st.mu.Unlock()
		return ErrStreamClosed
	}
	return st.queueLocked(resp, it.last)
}

// queueLocked queues an item, packs what a waiting consumer can take, and
// unlocks st.mu. Its error is a signing failure.
func (st *serverStream) queueLocked(resp []byte, last bool) error {
	st.queue = append(st.queue, queuedItem{resp: resp, last: last})
	st.held += itemCost(len(resp))
	if last {
		st.ended = true
	}
	return st.packLocked()
}

// waiting reports whether a live Interest waits for packet seq.
func (st *serverStream) waiting(seq uint64, now time.Time) bool {
	for _, in := range st.pending[seq] {
		if in.Deadline.After(now) {
			return true
		}
	}
	return false
}

// packLocked produces packets from the queue while a consumer waits for
// the next one, answers those Interests, and unlocks st.mu. Each packet
// takes every queued item up to streamPacketBudget bytes (at least one),
// and is final if it takes the final item. Its error is a signing failure.
func (st *serverStream) packLocked() error {
	type answer struct {
		in   *ndnx.Incoming
		wire []byte
	}
	var answers []answer
	var made [][2]uint64
	var err error
	now := time.Now()
	for len(st.queue) > 0 && st.waiting(st.next, now) {
		seq := st.next
		n, size, cost := 0, 0, 0
		for n < len(st.queue) && (n == 0 || size+len(st.queue[n].resp) <= streamPacketBudget) {
			size += len(st.queue[n].resp)
			cost += itemCost(len(st.queue[n].resp))
			n++
		}
		content := make([]byte, 0, size)
		final := false
		for _, q := range st.queue[:n] {
			content = append(content, q.resp...)
			final = final || q.last
		}
		name := append(st.prefix.Clone(), enc.NewSequenceNumComponent(seq))
		cfg := &ndn.DataConfig{Freshness: optional.Some(time.Second)}
		if final {
			cfg.FinalBlockID = optional.Some(enc.NewSequenceNumComponent(seq))
		}
		w, serr := st.node.SignData(name, cfg, enc.Wire{content})
		if serr != nil {
			err = fmt.Errorf("rpc: sign stream packet: %w", serr)
			break
		}
		clear(st.queue[:n])
		st.queue = st.queue[n:]
		if len(st.queue) == 0 {
			st.queue = nil // let the backing array go
		}
		// A packet costs its wire size, or its items' cost if less, so that
		// packing never grows what the producer holds.
		p := &streamPacket{wire: w.Join(), items: n}
		p.cost = min(cost, len(p.wire))
		if p.cost < cost {
			st.held -= cost - p.cost
			st.cond.Broadcast()
		}
		st.packets[seq] = p
		st.next++
		if final {
			st.done = true
		}
		for _, in := range st.pending[seq] {
			answers = append(answers, answer{in, p.wire})
		}
		delete(st.pending, seq)
		made = append(made, [2]uint64{seq, uint64(n)})
	}
	hook := st.onPacket
	st.mu.Unlock()
	for _, a := range answers {
		_ = a.in.Reply(enc.Wire{a.wire})
	}
	if hook != nil {
		for _, m := range made {
			hook(m[0], int(m[1]))
		}
	}
	return err
}

// serveItem answers an Interest for packet seq: at once if produced, else
// when it is (the Interest waits in the forwarder's PIT); if seq is the
// next packet and items are queued, it is produced now. Asking for seq
// acknowledges every packet below seq-StreamWindow.
func (st *serverStream) serveItem(in *ndnx.Incoming, seq uint64) {
	if drop := st.drop; drop != nil && drop(seq) {
		return // test hook: a lost Interest
	}
	st.mu.Lock()
	st.lastSeen = time.Now()
	if seq >= StreamWindow && seq-StreamWindow > st.low {
		for i := st.low; i < seq-StreamWindow; i++ {
			if p, ok := st.packets[i]; ok {
				st.held -= p.cost
				delete(st.packets, i)
			}
		}
		st.low = seq - StreamWindow
		st.cond.Broadcast()
	}
	p, ok := st.packets[seq]
	switch {
	case ok:
		st.mu.Unlock()
		_ = in.Reply(enc.Wire{p.wire})
		return
	case seq < st.low, st.done && seq >= st.next, seq >= st.low+4*StreamWindow:
		st.mu.Unlock()
		return // released, past the end, or too far ahead: no answer
	}
	// Keep the live Interests only: a consumer asks again each lifetime,
	// and with expired ones kept the cap would leave the live one out, so
	// a slow packet would wait a lifetime more after it was produced.
	now := time.Now()
	ws := st.pending[seq][:0]
	for _, w := range st.pending[seq] {
		if w.Deadline.After(now) {
			ws = append(ws, w)
		}
	}
	if len(ws) < 4 {
		ws = append(ws, in)
	}
	st.pending[seq] = ws
	if seq == st.next && len(st.queue) > 0 {
		_ = st.packLocked() // unlocks; a signing failure leaves the Interest waiting
		return
	}
	st.mu.Unlock()
}

// close ends the stream for its producer. The ctx is cancelled first, so
// a handler whose Send fails with ErrStreamClosed finds its ctx done.
func (st *serverStream) close() {
	st.cancel()
	st.mu.Lock()
	st.closed = true
	st.cond.Broadcast()
	st.mu.Unlock()
}

// serverStreams is a Server's table of streams; mu guards m.
type serverStreams struct {
	mu sync.Mutex
	m  map[string]*serverStream
}

// startStream answers a stream call with the stream's name and runs the
// handler on an owned goroutine.
func (s *Server) startStream(in *ndnx.Incoming, req *Request, m *method, key string, send func(*ndnx.Incoming, []byte, time.Duration)) {
	idb := make([]byte, 16)
	_, _ = rand.Read(idb)
	id := hex.EncodeToString(idb)
	s.mu.Lock()
	if s.closed || s.draining {
		s.mu.Unlock()
		s.replyStatus(in, status.New(codes.Unavailable, "server shutting down"), 0)
		return
	}
	s.streams.mu.Lock()
	if len(s.streams.m) >= maxStreams {
		s.streams.mu.Unlock()
		s.mu.Unlock()
		s.replyStatus(in, status.New(codes.ResourceExhausted, "too many open streams"), 0)
		return
	}
	ctx, cancel := context.WithCancel(s.base)
	st := newServerStream(s.node, append(s.cfg.Service.Clone(), enc.NewGenericComponent(streamMarker), enc.NewGenericComponent(id)), cancel)
	st.drop = s.dropItem
	s.streams.m[id] = st
	s.streams.mu.Unlock()
	s.async.Add(1)
	s.mu.Unlock()

	ack := (&wire.Response{Kind: wire.KindStream, Continuation: st.prefix}).Encode()
	s.answerAll(in, key, ack, send)

	go func() { // owned: s.async, awaited by Shutdown and Close
		defer s.async.Done()
		defer cancel()
		hctx := ctx
		if m.opts.Timeout > 0 {
			var c context.CancelFunc
			hctx, c = context.WithTimeout(hctx, m.opts.Timeout)
			defer c()
		}
		if req.TraceParent != "" {
			hctx = WithTraceParent(hctx, req.TraceParent)
		}
		if m.stream == nil { // a client or bidirectional stream
			s.serveUpstream(hctx, m, req, st)
			return
		}
		err := runStream(hctx, m.stream, req, &StreamWriter{st: st, ct: req.ContentType})
		final := streamItem{last: true}
		if err != nil {
			if errors.Is(err, ErrStreamClosed) {
				return // nobody is listening
			}
			final.st = errorStatus(err)
		}
		if perr := st.push(final); perr != nil && !errors.Is(perr, ErrStreamClosed) {
			s.log.Warn("stream end failed", "method", m.name, "err", perr)
		}
	}()
}

// runStream calls h, turning a panic into Internal.
func runStream(ctx context.Context, h StreamHandler, req *Request, w *StreamWriter) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = status.Errorf(codes.Internal, "handler panicked: %v", r)
		}
	}()
	return h.ServeStream(ctx, req, w)
}

// serveStream handles <svc>/_stream/<id>/seq=N and <svc>/_stream/<id>/_cancel.
func (s *Server) serveStream(in *ndnx.Incoming, rel enc.Name) {
	if len(rel) != 3 || rel[1].Typ != enc.TypeGenericNameComponent {
		return
	}
	id := string(rel[1].Val)
	s.streams.mu.Lock()
	st := s.streams.m[id]
	s.streams.mu.Unlock()
	if st == nil {
		// Say so, rather than let the client wait forever: a restarted
		// server (or an expired stream) no longer has it. Not final, so
		// the client tells this from the handler's own error.
		if rel[2].IsSequenceNum() {
			s.replyStatus(in, status.New(codes.NotFound, "stream "+id+" is gone (the service restarted, or the stream was idle too long)"), 0)
		}
		return
	}
	switch c := rel[2]; {
	case c.IsSequenceNum():
		st.serveItem(in, c.NumberVal())
	case c.Typ == enc.TypeGenericNameComponent && string(c.Val) == "_cancel":
		s.dropStream(id, st)
		s.reply(in, (&wire.Response{}).Encode(), 0)
	}
}

// dropStream forgets a stream and stops its producer.
func (s *Server) dropStream(id string, st *serverStream) {
	s.streams.mu.Lock()
	if s.streams.m[id] == st {
		delete(s.streams.m, id)
	}
	s.streams.mu.Unlock()
	st.close()
}

// sweepStreams ends streams idle for StreamIdleTimeout (run by the
// server's janitor goroutine).
func (s *Server) sweepStreams(now time.Time) {
	s.streams.mu.Lock()
	var idle []string
	for id, st := range s.streams.m {
		st.mu.Lock()
		if now.Sub(st.lastSeen) > StreamIdleTimeout {
			idle = append(idle, id)
		}
		st.mu.Unlock()
	}
	s.streams.mu.Unlock()
	for _, id := range idle {
		s.streams.mu.Lock()
		st := s.streams.m[id]
		s.streams.mu.Unlock()
		if st != nil {
			s.dropStream(id, st)
		}
	}
}

// closeStreams ends every stream (Shutdown).
func (s *Server) closeStreams() {
	s.streams.mu.Lock()
	all := s.streams.m
	s.streams.m = map[string]*serverStream{}
	s.streams.mu.Unlock()
	for _, st := range all {
		st.close()
	}
}
