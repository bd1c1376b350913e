package pubsub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// Mode is a subscription's delivery guarantee.
type Mode int

const (
	// AtLeastOnce fetches every publication of each (publisher, topic) in
	// order, retrying failed fetches while the publisher keeps them; a
	// message is delivered once while the subscription runs. It starts at
	// the latest publication of a publisher that booted before the
	// subscription, at the first of one that booted after.
	AtLeastOnce Mode = iota
	// LatestOnly delivers only the newest message of each (publisher,
	// topic) known when a fetch starts; older ones are skipped, and a
	// failed fetch is not retried once a newer one is known (at most once).
	LatestOnly
	// ExactlyOnce is AtLeastOnce plus a durable checkpoint: after the
	// handler returns, the position is committed to
	// SubscribeConfig.Checkpoint under SubscribeConfig.Durable, and a new
	// subscription with the same Durable name resumes after it (from the
	// first kept publication of a stream it never saw).
	ExactlyOnce
)

// Message is a message delivered to a subscriber. The subscriber owns it.
type Message struct {
	// Topic and Publisher name the message's topic and publisher.
	Topic, Publisher enc.Name
	// Boot is the publisher's incarnation, Seq the publication and Index
	// the message's place in it: (Publisher, Topic, Boot, Seq, Index)
	// identifies the message.
	Boot, Seq uint64
	Index     int
	// Payload is the message.
	Payload []byte
	// Published is when Publish was called (the publisher's clock).
	Published time.Time
}

// HandlerFunc receives messages. It runs on the subscription's delivery
// goroutine, one call at a time, in each (publisher, topic)'s order; it
// may block (fetching pauses when 256 messages wait) and may Publish, but
// must not Close the subscription or the PubSub. ctx ends at Close.
//
// An error refuses the message (AtLeastOnce and ExactlyOnce): it is
// handed over again after a backoff (100ms doubling to 5s), up to
// SubscribeConfig.MaxRedeliveries times, holding back the messages after
// it; then it is given up (Stats.Abandoned) and, with ExactlyOnce, the
// checkpoint moves past it. With LatestOnly the error is ignored.
type HandlerFunc func(ctx context.Context, m *Message) error

// SubscribeConfig configures a Subscription.
type SubscribeConfig struct {
	// Topic is the topic or topic prefix. Required.
	Topic enc.Name
	// Mode is the delivery guarantee. Default AtLeastOnce.
	Mode Mode
	// Handler receives messages; or, when nil, they are sent on Chan
	// (blocking as Handler would). One of them is required.
	Handler HandlerFunc
	Chan    chan<- *Message
	// Checkpoint and Durable are required with ExactlyOnce.
	Checkpoint *Checkpoint
	Durable    string
	// MaxRedeliveries bounds how often a message the Handler refused is
	// handed over again (see HandlerFunc). Default 5; negative: never.
	MaxRedeliveries int
	// Replay starts every stream at its first publication still kept (by
	// its publisher or by an Archiver serving it), also for publishers
	// that booted before the subscription: a subscriber that arrives late
	// catches up on the history. Ignored with ExactlyOnce, which resumes
	// from its Checkpoint.
	Replay bool
}

// Subscription receives the messages of a topic prefix. Close ends it.
type Subscription struct {
	p      *PubSub
	cfg    SubscribeConfig
	prefix enc.Name
	start  time.Time
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	q      chan delivery
	once   sync.Once

	// arch, when set, makes this the Archiver's subscription: every
	// stream from its first publication (or after what was archived),
	// every packet handed to arch before delivery.
	arch *Archiver

	// Guarded by p.mu.
	streams map[string]*stream
}

// stream is one (publisher, topic, boot) a subscription follows.
type stream struct {
	key        string
	entry      enc.Name
	pub, topic enc.Name
	boot       uint64
	next, high uint64
	skip       int // messages of publication next already processed
	running    bool
}

type delivery struct {
	m   *Message
	key string
}

// Subscribe starts a subscription. Only streams whose topic is under
// cfg.Topic are fetched: this member sends no Interest for other topics.
// Errors: ErrBadConfig, ErrBadTopic, ErrClosed.
func (p *PubSub) Subscribe(cfg SubscribeConfig) (*Subscription, error) {
	switch {
	case len(cfg.Topic) == 0 || !svsync.UsableName(cfg.Topic):
		return nil, fmt.Errorf("%w: %s", ErrBadTopic, cfg.Topic)
	case cfg.Handler == nil && cfg.Chan == nil:
		return nil, fmt.Errorf("%w: Handler or Chan is required", ErrBadConfig)
	case cfg.Mode == ExactlyOnce && (cfg.Checkpoint == nil || cfg.Durable == ""):
		return nil, fmt.Errorf("%w: ExactlyOnce needs Checkpoint and Durable", ErrBadConfig)
	case cfg.Mode < AtLeastOnce || cfg.Mode > ExactlyOnce:
		return nil, fmt.Errorf("%w: mode %d", ErrBadConfig, cfg.Mode)
	}
	return p.subscribe(cfg, cfg.Topic.Clone(), nil)
}

// subscribe starts a subscription to prefix (empty: every topic); arch
// is set for an Archiver's.
func (p *PubSub) subscribe(cfg SubscribeConfig, prefix enc.Name, arch *Archiver) (*Subscription, error) {
	s := &Subscription{p: p, cfg: cfg, prefix: prefix, arch: arch, start: time.Now(), q: make(chan delivery, 256),
		streams: map[string]*stream{}}
	s.ctx, s.cancel = context.WithCancel(p.base)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		s.cancel()
		return nil, ErrClosed
	}
	p.subs[s] = struct{}{}
	s.goOwned(s.deliverLoop)
	for _, e := range p.entries {
		if _, topic, _ := parseEntry(e.name); s.prefix.IsPrefix(topic) {
			s.note(e)
		}
	}
	return s, nil
}

// Close ends the subscription and waits for its handler to return.
// Idempotent; must not be called from the handler.
func (s *Subscription) Close() error {
	s.once.Do(func() {
		s.p.mu.Lock() // note starts fetchers under p.mu after checking ctx
		s.cancel()
		s.p.mu.Unlock()
		s.wg.Wait()
		s.p.mu.Lock()
		delete(s.p.subs, s)
		s.p.mu.Unlock()
	})
	return nil
}

func (s *Subscription) goOwned(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// note learns of an entry's state; it starts a fetcher for the stream if
// none runs. Called with p.mu held.
func (s *Subscription) note(e entryState) {
	if s.ctx.Err() != nil {
		return
	}
	key := streamKey(e.name, e.boot)
	st := s.streams[key]
	if st == nil {
		pub, topic, _ := parseEntry(e.name)
		st = &stream{key: key, entry: e.name, pub: pub, topic: topic, boot: e.boot}
		switch {
		case s.cfg.Mode == ExactlyOnce:
			st.next = 1
			if seq, idx, ok := s.cfg.Checkpoint.get(s.cfg.Durable, key); ok {
				st.next, st.skip = seq, int(idx)+1
			}
		case s.arch != nil:
			st.next = s.arch.resume(key)
		case s.cfg.Replay, e.boot+1 >= uint64(s.start.Unix()):
			st.next = 1 // booted after we subscribed: all of it
		default:
			st.next = e.high
		}
		s.streams[key] = st
	}
	st.high = max(st.high, e.high)
	if !st.running && st.next <= st.high {
		st.running = true
		s.goOwned(func() { s.fetchLoop(st) })
	}
}

// fetchLoop fetches the stream's publications in order and queues their
// messages for delivery, until it has caught up.
func (s *Subscription) fetchLoop(st *stream) {
	p := s.p
	backoff := 50 * time.Millisecond
	for {
		p.mu.Lock()
		if st.next > st.high || s.ctx.Err() != nil {
			st.running = false
			p.mu.Unlock()
			return
		}
		if s.cfg.Mode == LatestOnly {
			st.next = st.high
		}
		seq, skip := st.next, st.skip
		p.mu.Unlock()

		msgs, err := s.fetch(st, seq)
		switch {
		case s.ctx.Err() != nil:
			continue
		case errors.Is(err, errGone), errors.Is(err, ErrMalformed), err != nil && !isNetworkError(err) && !errors.Is(err, errRetry):
			p.count(func(x *Stats) { x.Missed++ })
			p.log.Debug("publication skipped", "stream", st.entry.String(), "seq", seq, "err", err)
		case err != nil:
			p.count(func(x *Stats) { x.FetchErrors++ })
			if s.cfg.Mode != LatestOnly || s.highOf(st) == seq {
				t := time.NewTimer(backoff)
				select {
				case <-s.ctx.Done():
				case <-t.C:
				}
				t.Stop()
				backoff = min(2*backoff, time.Second)
				continue
			}
		default:
			backoff = 50 * time.Millisecond
			if s.cfg.Mode == LatestOnly && len(msgs) > 1 {
				msgs = msgs[len(msgs)-1:]
			}
			for _, m := range msgs {
				if m.Index < skip {
					continue
				}
				select {
				case s.q <- delivery{m: m, key: st.key}:
				case <-s.ctx.Done():
				}
			}
		}
		p.mu.Lock()
		if st.next == seq {
			st.next, st.skip = seq+1, 0
		}
		p.mu.Unlock()
	}
}

func (s *Subscription) highOf(st *stream) uint64 {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return st.high
}

// errGone reports a publication its publisher no longer keeps; errRetry
// a failure worth retrying that is not the network's (an Archiver's sink).
var (
	errGone  = errors.New("pubsub: publication gone")
	errRetry = errors.New("pubsub: retry")
)

// fetch fetches and checks publication seq of the stream, and the large
// messages it refers to.
func (s *Subscription) fetch(st *stream, seq uint64) ([]*Message, error) {
	p := s.p
	name := pubName(st.pub, p.cfg.Group, st.topic, st.boot, seq)
	d, err := s.fetchVerified(name, st)
	if err != nil {
		return nil, err
	}
	var raw [][]byte
	if s.arch != nil {
		raw = append(raw, d.Raw.Join())
	}
	b, err := decodeBatch(d.Data.Content().Join())
	if err != nil {
		p.count(func(x *Stats) { x.Rejected++ })
		return nil, err
	}
	if b.gone {
		return nil, errGone
	}
	p.count(func(x *Stats) { x.Fetched++ })
	out := make([]*Message, len(b.msgs))
	for i, m := range b.msgs {
		payload := m.payload
		if m.large > 0 {
			if m.large > uint64(p.cfg.MaxMessage) {
				return nil, fmt.Errorf("%w: large message of %d bytes", ErrTooLarge, m.large)
			}
			var segs [][]byte
			if payload, segs, err = s.fetchLarge(largeName(name, i), st.pub, m.large); err != nil {
				return nil, err
			}
			raw = append(raw, segs...)
		}
		out[i] = &Message{Topic: st.topic, Publisher: st.pub, Boot: st.boot, Seq: seq, Index: i, Payload: payload,
			Published: time.UnixMicro(int64(min(m.micros, 1<<62)))}
	}
	if s.arch != nil {
		if err := s.arch.archive(s.ctx, st, seq, d.Data.Signature().KeyName(), raw); err != nil {
			return nil, fmt.Errorf("%w: %w", errRetry, err)
		}
	}
	return out, nil
}

// fetchVerified fetches name and checks it: the exact name, signed by a
// key of pub's chained to the anchors, admitted for the topic.
func (s *Subscription) fetchVerified(name enc.Name, st *stream) (*ndnx.Data, error) {
	p := s.p
	ctx, cancel := context.WithTimeout(s.ctx, p.cfg.FetchTimeout)
	defer cancel()
	d, err := p.node.Fetch(ctx, name, false, false)
	if err != nil {
		return nil, err
	}
	if !d.Data.Name().Equal(name) {
		p.count(func(x *Stats) { x.Rejected++ })
		return nil, fmt.Errorf("%w: asked for %s, got %s", ErrMalformed, name, d.Data.Name())
	}
	if err := s.checkSigner(d, st.pub, st.topic); err != nil {
		p.count(func(x *Stats) { x.Rejected++ })
		return nil, err
	}
	return d, nil
}

func (s *Subscription) checkSigner(d *ndnx.Data, pub, topic enc.Name) error {
	p := s.p
	sg := d.Data.Signature()
	if sg == nil || !svsync.IdentityOf(sg.KeyName()).Equal(pub) || p.authorize(sg.KeyName(), topic) != nil {
		return fmt.Errorf("%w: %s not signed by %s for %s", ErrMalformed, d.Data.Name(), pub, topic)
	}
	key, err := p.node.VerifyData(s.ctx, d)
	if err != nil {
		return err
	}
	if !svsync.IdentityOf(key).Equal(pub) {
		return fmt.Errorf("%w: %s signed by %s", ErrMalformed, d.Data.Name(), key)
	}
	return nil
}

// fetchLarge fetches a segmented message of size bytes; for an Archiver
// it also returns the segments' wires, in order.
func (s *Subscription) fetchLarge(name, pub enc.Name, size uint64) ([]byte, [][]byte, error) {
	nseg := (size + segmentSize - 1) / segmentSize
	last := nseg - 1
	segs := make([][]byte, nseg)
	var raws [][]byte
	if s.arch != nil {
		raws = make([][]byte, nseg)
	}
	var mu sync.Mutex
	ctx, cancel := context.WithTimeout(s.ctx, 4*s.p.cfg.FetchTimeout+time.Duration(nseg)*10*time.Millisecond)
	defer cancel()
	_, err := s.p.node.FetchSegments(ctx, name, &ndnx.FetchOptions{Last: &last, OnSegment: func(_ context.Context, k uint64, d *ndnx.Data) error {
		if sg := d.Data.Signature(); sg == nil || !svsync.IdentityOf(sg.KeyName()).Equal(pub) || k >= nseg {
			return fmt.Errorf("%w: segment %d of %s", ErrMalformed, k, name)
		}
		mu.Lock()
		segs[k] = append([]byte{}, d.Data.Content().Join()...)
		if raws != nil {
			raws[k] = d.Raw.Join()
		}
		mu.Unlock()
		return nil
	}})
	if err != nil {
		return nil, nil, err
	}
	out := bytes.Join(segs, nil)
	if uint64(len(out)) != size {
		return nil, nil, fmt.Errorf("%w: %s has %d bytes, announced %d", ErrMalformed, name, len(out), size)
	}
	return out, raws, nil
}

// deliverLoop hands queued messages to the handler (or channel), in
// order, and commits ExactlyOnce checkpoints.
func (s *Subscription) deliverLoop() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case d := <-s.q:
			if s.cfg.Handler != nil {
				if !s.handle(d.m) {
					return // closed while redelivering
				}
			} else {
				select {
				case s.cfg.Chan <- d.m:
				case <-s.ctx.Done():
					return
				}
			}
			if s.cfg.Mode == ExactlyOnce {
				if err := s.cfg.Checkpoint.put(s.cfg.Durable, d.key, d.m.Seq, uint64(d.m.Index)); err != nil {
					s.p.log.Warn("checkpoint", "err", err)
				}
			}
			s.p.count(func(x *Stats) { x.Delivered++ })
		}
	}
}

// handle calls the Handler with m, again after a backoff while it refuses
// m (within MaxRedeliveries). It returns false when the subscription
// closed meanwhile (m must not be committed).
func (s *Subscription) handle(m *Message) bool {
	limit := s.cfg.MaxRedeliveries
	if limit == 0 {
		limit = defaultMaxRedeliveries
	}
	delay := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := s.cfg.Handler(s.ctx, m)
		if err == nil || s.cfg.Mode == LatestOnly {
			return true
		}
		if s.ctx.Err() != nil {
			return false
		}
		if attempt >= limit {
			s.p.log.Warn("handler refused a message: given up", "topic", m.Topic.String(), "publisher", m.Publisher.String(),
				"seq", m.Seq, "index", m.Index, "attempts", attempt+1, "err", err)
			s.p.count(func(x *Stats) { x.Abandoned++ })
			return true
		}
		s.p.count(func(x *Stats) { x.Redelivered++ })
		t := time.NewTimer(delay)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// defaultMaxRedeliveries is SubscribeConfig.MaxRedeliveries's default.
const defaultMaxRedeliveries = 5

// isNetworkError reports whether err comes from the network rather than
// the packet.
func isNetworkError(err error) bool {
	return errors.Is(err, ndnx.ErrTimeout) || errors.Is(err, ndnx.ErrFaceDown) || errors.Is(err, ndnx.ErrNack) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
