package ndn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	ndnio "github.com/named-data/ndnd/std/utils/io"

	"github.com/ndn-invoke/ndn-invoke/security"
)

// streamFace is an ndn.Face over a unix or TCP stream that survives the
// forwarder going away.
//
// We do not use ndnd's face.NewStreamFace: it installs os.Exit(106) as its
// OnDown callback (std/engine/face/stream_face.go:30) and discards the cancel
// func, so a forwarder restart kills every client process. This face instead
// reports down, redials with exponential backoff, and reports up again; the
// Node re-registers its prefixes on up. The engine never sees an error, so it
// keeps running across reconnects.
//
// Goroutines: one reader goroutine owned by the face (wg), which also redials.
// Close stops it and waits.
type streamFace struct {
	network, addr string
	local         bool
	dialTimeout   time.Duration
	minBackoff    time.Duration
	maxBackoff    time.Duration
	log           *slog.Logger

	running atomic.Bool // connected and usable
	onPkt   func(frame []byte)
	onError func(err error)

	sendMu  sync.Mutex // guards pending, spare, writing (never held while writing)
	pending [][]byte   // frames waiting for the current writer
	spare   [][]byte   // the last batch's slice, reused
	writing bool       // a Send is writing the queue

	mu      sync.Mutex
	conn    net.Conn
	closed  bool
	nextCb  int
	upCbs   map[int]func()
	downCbs map[int]func()

	stop chan struct{}
	wg   sync.WaitGroup
}

func newStreamFace(network, addr string, cfg Config) *streamFace {
	return &streamFace{
		network:     network,
		addr:        addr,
		local:       network == "unix",
		dialTimeout: cfg.DialTimeout,
		minBackoff:  cfg.ReconnectMin,
		maxBackoff:  cfg.ReconnectMax,
		log:         cfg.Logger,
		upCbs:       map[int]func(){},
		downCbs:     map[int]func(){},
		stop:        make(chan struct{}),
	}
}

func (f *streamFace) String() string { return fmt.Sprintf("stream-face (%s://%s)", f.network, f.addr) }

func (f *streamFace) IsRunning() bool { return f.running.Load() }

func (f *streamFace) IsLocal() bool { return f.local }

func (f *streamFace) OnPacket(onPkt func(frame []byte)) { f.onPkt = onPkt }

func (f *streamFace) OnError(onError func(err error)) { f.onError = onError }

func (f *streamFace) OnUp(cb func()) (cancel func()) { return f.addCb(f.upCbs, cb) }

func (f *streamFace) OnDown(cb func()) (cancel func()) { return f.addCb(f.downCbs, cb) }

func (f *streamFace) addCb(m map[int]func(), cb func()) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.nextCb
	f.nextCb++
	m[id] = cb
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(m, id)
	}
}

func (f *streamFace) fire(m map[int]func()) {
	f.mu.Lock()
	cbs := make([]func(), 0, len(m))
	for _, cb := range m {
		cbs = append(cbs, cb)
	}
	f.mu.Unlock()
	for _, cb := range cbs { // never under the lock (STYLE A9)
		cb()
	}
}

func (f *streamFace) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: f.dialTimeout}
	return d.DialContext(ctx, f.network, f.addr)
}

// Open dials once; it does not retry, so Connect can report a missing
// forwarder at once.
func (f *streamFace) Open() error {
	if f.onPkt == nil || f.onError == nil {
		return errors.New("ndn: face callbacks are not set")
	}
	f.mu.Lock()
	if f.closed || f.conn != nil {
		f.mu.Unlock()
		return errors.New("ndn: face already opened")
	}
	f.mu.Unlock()

	c, err := f.dial(context.Background())
	if err != nil {
		return err
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		c.Close()
		return ErrClosed
	}
	f.conn = c
	f.mu.Unlock()
	f.running.Store(true)
	f.wg.Add(1)
	go f.readLoop(c)
	return nil
}

// Close stops the reader and waits for it. Idempotent.
func (f *streamFace) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	close(f.stop)
	c := f.conn
	f.mu.Unlock()
	f.running.Store(false)
	if c != nil {
		c.Close()
	}
	f.wg.Wait()
	return nil
}

// maxPending bounds frames queued behind a write in progress.
const maxPending = 4096

// Send queues pkt and, unless another Send is already writing, writes every
// queued frame in one writev until the queue is empty (flat combining: under
// concurrency one syscall carries many packets, with no extra goroutine and
// no added delay). The frame is copied, so the caller may reuse pkt. A Send
// that only queued returns nil; a write error is returned to the Send that
// was writing, and the reader notices the broken connection.
func (f *streamFace) Send(pkt enc.Wire) error {
	if !f.running.Load() {
		return ErrFaceDown
	}
	n := 0
	for _, b := range pkt {
		n += len(b)
	}
	frame := make([]byte, 0, n)
	for _, b := range pkt {
		frame = append(frame, b...)
	}
	f.sendMu.Lock()
	if len(f.pending) >= maxPending {
		f.sendMu.Unlock()
		return fmt.Errorf("%w: send queue full", ErrFaceDown)
	}
	f.pending = append(f.pending, frame)
	if f.writing {
		f.sendMu.Unlock()
		return nil
	}
	f.writing = true
	var werr error
	for len(f.pending) > 0 {
		batch := f.pending
		f.pending = f.spare[:0]
		f.sendMu.Unlock()

		f.mu.Lock()
		c := f.conn
		f.mu.Unlock()
		if c == nil {
			werr = ErrFaceDown
		} else {
			bufs := net.Buffers(batch)
			if _, err := bufs.WriteTo(c); err != nil && werr == nil {
				werr = fmt.Errorf("%w: %w", ErrFaceDown, err)
			}
		}
		clear(batch)

		f.sendMu.Lock()
		f.spare = batch[:0]
	}
	f.writing = false
	f.sendMu.Unlock()
	return werr
}

func (f *streamFace) isClosed() bool {
	select {
	case <-f.stop:
		return true
	default:
		return false
	}
}

// readLoop reads frames from c until it fails, then redials until Close.
func (f *streamFace) readLoop(c net.Conn) {
	defer f.wg.Done()
	for {
		err := ndnio.ReadTlvStream(c, func(b []byte) bool {
			if parsesSafely(b) {
				f.onPkt(b)
			} else {
				f.log.Warn("dropped a packet that crashes ndnd's parser", "len", len(b))
			}
			return !f.isClosed()
		}, nil)
		c.Close()
		if f.isClosed() {
			return
		}
		if err == nil {
			err = io.EOF // ReadTlvStream reports EOF as nil
		}
		f.running.Store(false)
		f.log.Warn("lost connection to forwarder; reconnecting", "transport", f.network+"://"+f.addr, "err", err)
		f.fire(f.downCbs)

		c = f.redial()
		if c == nil {
			return // closed while redialing
		}
		f.log.Info("reconnected to forwarder", "transport", f.network+"://"+f.addr)
		f.fire(f.upCbs)
	}
}

// redial retries with exponential backoff until it connects (returns the
// connection, already installed) or the face is closed (returns nil).
func (f *streamFace) redial() net.Conn {
	backoff := f.minBackoff
	t := time.NewTimer(backoff)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return nil
		case <-t.C:
		}
		// A dial takes at most dialTimeout, which bounds how long Close waits.
		c, err := f.dial(context.Background())
		if err == nil {
			f.mu.Lock()
			if f.closed {
				f.mu.Unlock()
				c.Close()
				return nil
			}
			f.conn = c
			f.mu.Unlock()
			f.running.Store(true)
			return c
		}
		backoff = min(backoff*2, f.maxBackoff)
		t.Reset(backoff)
	}
}

// parsesSafely reports whether ndnd's packet parser can read frame without
// panicking or exhausting memory. ndnd v1.5.3's generated parsers trust
// lengths and fields they have not checked, and the engine parses on its
// own goroutine, where a panic kills our process:
//   - a zero-length or truncated HopLimit indexes an empty buffer
//     (std/ndn/spec_2022/zz_generated.go:2186; 05 07 07 03 08 01 61 22 00);
//   - a nested length larger than the packet overflows ReadBuf
//     (std/encoding/wire_view.go:193);
//   - a Name claiming 800 MB inside a 9-byte packet makes the parser
//     allocate about 12 GiB (05 07 07 fe 31 30 30 30 30).
//
// So first, without allocating, we check that every TLV length inside the
// packet's structured elements fits its parent (security.WellFormed), then we parse
// once under recover for whatever else may panic; ordinary parse errors are
// left to the engine, which drops them itself. FuzzParsesSafely drives this.
func parsesSafely(frame []byte) (ok bool) {
	if !security.WellFormed(frame) {
		return false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	pkt, _, err := spec.ReadPacket(enc.NewBufferView(frame))
	if err != nil || pkt.LpPacket == nil || len(pkt.LpPacket.Fragment) == 0 {
		return true
	}
	_, _, _ = spec.ReadPacket(enc.NewWireView(pkt.LpPacket.Fragment))
	return true
}
