package pubsub

import (
	"context"
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
)

// segmentSize is the content of one segment of a large message.
const segmentSize = maxInline

// Topic is a topic this member publishes on; get it from Advertise. Its
// methods are safe for concurrent use.
type Topic struct {
	p     *PubSub
	name  enc.Name
	entry enc.Name

	// Guarded by p.mu.
	queue      []queued
	queueBytes int
	first      time.Time // when the oldest queued message was queued
	seq        uint64    // last publication announced
	low        uint64    // lowest publication still kept
	kept       map[uint64][]string
	fetched    uint64 // highest publication fetched by someone
	interests  uint64
	published  uint64
	changed    chan struct{} // closed and replaced when seq or fetched move
}

type queued struct {
	payload []byte
	micros  uint64
}

// TopicStats are a Topic's counters.
type TopicStats struct {
	// Published counts messages published; Seq is the last publication
	// announced and Fetched the highest one fetched by a subscriber.
	Published, Seq, Fetched uint64
	// Interests counts Interests received for this topic's packets.
	Interests uint64
}

// Advertise returns the Topic for name, creating it on first use. The
// topic is announced in the group with its first publication. Errors:
// ErrBadTopic, ErrClosed.
func (p *PubSub) Advertise(name enc.Name) (*Topic, error) {
	if len(name) == 0 || !svsync.UsableName(entryName(p.name, name)) {
		return nil, fmt.Errorf("%w: %s", ErrBadTopic, name)
	}
	key := svsync.NameKey(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if t := p.topics[key]; t != nil {
		return t, nil
	}
	t := &Topic{p: p, name: name.Clone(), entry: entryName(p.name, name), low: 1, kept: map[uint64][]string{},
		changed: make(chan struct{})}
	p.topics[key] = t
	return t, nil
}

// Name is the topic's name. Do not modify it.
func (t *Topic) Name() enc.Name { return t.name }

// Stats returns the topic's counters.
func (t *Topic) Stats() TopicStats {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	return TopicStats{Published: t.published, Seq: t.seq, Fetched: t.fetched, Interests: t.interests}
}

// notifyLocked wakes Flush waiters. Called with p.mu held.
func (t *Topic) notifyLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// Publish queues msg for the topic and returns: messages that arrive
// within Config.BatchWindow of the first (or until Config.BatchBytes) go
// out in one signed publication, announced through SVS. A message over
// BatchBytes is segmented. Publish blocks only while Config.MaxPending
// messages are queued. It copies msg. Errors: ErrTooLarge, ErrClosed,
// ErrNotStarted, or ctx's.
func (t *Topic) Publish(ctx context.Context, msg []byte) error {
	p := t.p
	if len(msg) > p.cfg.MaxMessage {
		return fmt.Errorf("%w: %d bytes, MaxMessage is %d", ErrTooLarge, len(msg), p.cfg.MaxMessage)
	}
	q := queued{payload: append([]byte{}, msg...), micros: uint64(time.Now().UnixMicro())}
	for {
		p.mu.Lock()
		switch {
		case p.closed:
			p.mu.Unlock()
			return ErrClosed
		case !p.started:
			p.mu.Unlock()
			return ErrNotStarted
		case p.pending < p.cfg.MaxPending:
			if len(t.queue) == 0 {
				t.first = time.Now()
			}
			t.queue = append(t.queue, q)
			t.queueBytes += len(q.payload) + 16
			p.pending++
			p.mu.Unlock()
			signal(p.pubKick)
			return nil
		}
		p.mu.Unlock()
		select {
		case <-p.space:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.base.Done():
			return ErrClosed
		}
	}
}

// Flush lingers until every message queued on the topic before the call
// is published and a subscriber fetched it (the publication, and every
// segment of its large messages up to the last), so that a process may
// exit without losing its messages. NDN has no push: with nobody fetching
// Flush waits until ctx ends. Errors: ErrClosed, or ctx's (the messages
// may still be fetched later, as long as the PubSub runs).
func (t *Topic) Flush(ctx context.Context) error {
	p := t.p
	p.mu.Lock()
	pendingAtCall := len(t.queue)
	target := t.seq
	p.mu.Unlock()
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return ErrClosed
		}
		if pendingAtCall > 0 && len(t.queue) == 0 {
			// Everything queued at the call is now announced.
			target, pendingAtCall = t.seq, 0
		}
		done := pendingAtCall == 0 && t.fetched >= target
		ch := t.changed
		p.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.base.Done():
			return ErrClosed
		}
	}
}

// publishLoop publishes what is due: a topic's queue is published when it
// reached BatchBytes or its oldest message waited BatchWindow.
func (p *PubSub) publishLoop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		var due []*Topic
		var wake time.Time
		p.mu.Lock()
		for _, t := range p.topics {
			if len(t.queue) == 0 {
				continue
			}
			at := t.first.Add(p.cfg.BatchWindow)
			if t.queueBytes >= p.cfg.BatchBytes || !now.Before(at) {
				due = append(due, t)
			} else if wake.IsZero() || at.Before(wake) {
				wake = at
			}
		}
		p.mu.Unlock()
		for _, t := range due {
			t.publishDue()
		}
		if len(due) > 0 {
			continue // more may be due
		}
		if !wake.IsZero() {
			timer.Reset(max(wake.Sub(now), 50*time.Microsecond))
		}
		select {
		case <-p.base.Done():
			return
		case <-p.pubKick:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// publishDue publishes the topic's queue, one publication per BatchBytes
// (a large message gets a publication of its own).
func (t *Topic) publishDue() {
	p := t.p
	for p.base.Err() == nil {
		p.mu.Lock()
		n, size := 0, 0
		for n < len(t.queue) {
			l := len(t.queue[n].payload)
			if l > p.cfg.BatchBytes {
				if n == 0 {
					n = 1
				}
				break
			}
			if n > 0 && size+l+16 > p.cfg.BatchBytes {
				break
			}
			size += l + 16
			n++
		}
		msgs := t.queue[:n:n]
		t.queue = t.queue[n:]
		t.queueBytes -= size
		if len(t.queue) == 0 {
			t.queueBytes = 0
		} else {
			t.first = time.Now()
		}
		p.mu.Unlock()
		if n == 0 {
			return
		}
		if err := t.publish(msgs); err != nil {
			p.log.Warn("publish", "topic", t.name.String(), "err", err)
		}
		p.mu.Lock()
		p.pending -= n
		p.mu.Unlock()
		signal(p.space)
	}
}

// publish signs msgs as the topic's next publication (and the segments of
// a large one), keeps them to serve, then announces the publication.
func (t *Topic) publish(msgs []queued) error {
	p := t.p
	seq := p.sync.SeqNo(t.entry) + 1
	name := pubName(p.name, p.cfg.Group, t.name, p.boot, seq)
	b := &batch{msgs: make([]wireMsg, len(msgs))}
	pkts := map[string]servedPkt{}
	var lastKey string
	for i, m := range msgs {
		b.msgs[i] = wireMsg{micros: m.micros, payload: m.payload}
		if len(m.payload) <= p.cfg.BatchBytes {
			continue
		}
		b.msgs[i] = wireMsg{micros: m.micros, large: uint64(len(m.payload))}
		obj := largeName(name, i)
		nseg := (len(m.payload) + segmentSize - 1) / segmentSize
		final := enc.NewSegmentComponent(uint64(nseg - 1))
		for k := range nseg {
			segName := svsync.Join(obj, nil, enc.NewSegmentComponent(uint64(k)))
			w, err := p.signData(segName, m.payload[k*segmentSize:min(len(m.payload), (k+1)*segmentSize)], 0, &final)
			if err != nil {
				return err
			}
			lastKey = svsync.NameKey(segName)
			pkts[lastKey] = servedPkt{wire: w.Join(), t: t, seq: seq}
		}
	}
	w, err := p.signData(name, encodeBatch(b), 0, nil)
	if err != nil {
		return err
	}
	pubKey := svsync.NameKey(name)
	if lastKey == "" {
		lastKey = pubKey
	}
	pkts[pubKey] = servedPkt{wire: w.Join(), t: t, seq: seq}
	mark := pkts[lastKey]
	mark.marks = true
	pkts[lastKey] = mark
	keys := make([]string, 0, len(pkts))
	p.mu.Lock()
	for k, v := range pkts {
		p.served[k] = v
		keys = append(keys, k)
	}
	t.kept[seq] = keys
	p.mu.Unlock()
	if err := p.sync.SetSeqNo(t.entry, seq); err != nil {
		p.mu.Lock()
		for _, k := range keys {
			delete(p.served, k)
		}
		delete(t.kept, seq)
		p.mu.Unlock()
		return err
	}
	p.mu.Lock()
	t.seq = seq
	t.published += uint64(len(msgs))
	p.stats.Published += uint64(len(msgs))
	p.stats.Publications++
	for t.low+uint64(p.cfg.Retain) <= seq {
		for _, k := range t.kept[t.low] {
			delete(p.served, k)
		}
		delete(t.kept, t.low)
		t.low++
	}
	t.notifyLocked()
	p.mu.Unlock()
	return nil
}
