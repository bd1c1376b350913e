package svs

import (
	"context"
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// goneFreshness is the FreshnessPeriod of a Gone reply: it stays true.
const goneFreshness = time.Hour

// SendEvent sends an event to the group: every member, this one included,
// receives it through its OnEvent (a member that joins later does not).
// It returns once the event is published (signed and announced); members
// then fetch it. Unless coalescing is disabled, an event not yet published
// or delivered is superseded by a newer one with the same name: SendEvent
// of the older one returns nil all the same.
//
// Errors: ErrBadName, ErrPayloadTooLarge (over Config.MaxPayload),
// ErrClosed, ErrPublish, or ctx's error (the event may still be sent).
// The group copies payload.
func (g *Group) SendEvent(ctx context.Context, name string, payload []byte) error {
	if !validLabel([]byte(name)) {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	if len(payload) > g.cfg.MaxPayload {
		return fmt.Errorf("%w: %d bytes, MaxPayload is %d", ErrPayloadTooLarge, len(payload), g.cfg.MaxPayload)
	}
	g.mu.Lock()
	if g.closed || g.leaving {
		g.mu.Unlock()
		return ErrClosed
	}
	g.ltime++
	rec := record{kind: recEvent, ltime: g.ltime, label: name, payload: append([]byte{}, payload...)}
	g.stats.EventsSent++
	g.events.push(&Event{Name: name, Payload: rec.payload, From: g.name, LTime: rec.ltime})
	g.mu.Unlock()
	g.signal(g.notifyKick)
	return g.publishAndWait(ctx, rec, false)
}

// publishAndWait queues rec for the publisher and waits until it is
// published. internal records (heartbeats, Leave) pass while leaving.
func (g *Group) publishAndWait(ctx context.Context, rec record, internal bool) error {
	p := &pendingRecord{rec: rec, done: make(chan error, 1)}
	g.mu.Lock()
	if g.closed || (g.leaving && !internal) {
		g.mu.Unlock()
		return ErrClosed
	}
	g.enqueue(p)
	g.mu.Unlock()
	g.signal(g.pubKick)
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// enqueue adds p to the pending records, superseding a pending event with
// the same name (coalescing). Called with mu held.
func (g *Group) enqueue(p *pendingRecord) {
	if p.rec.kind == recEvent && !g.cfg.DisableCoalescing {
		for i, old := range g.pending {
			if old.rec.kind == recEvent && old.rec.label == p.rec.label {
				if old.done != nil {
					old.done <- nil // superseded
				}
				g.pending[i] = p
				return
			}
		}
	}
	if p.rec.kind == recAlive {
		g.alivePend = true
	}
	g.pending = append(g.pending, p)
}

// publishLoop publishes pending records: everything that is pending when
// it wakes goes into one publication (as much as fits), so publications
// batch under load and add no delay otherwise.
func (g *Group) publishLoop() {
	for {
		select {
		case <-g.base.Done():
			return
		case <-g.pubKick:
		}
		for g.base.Err() == nil {
			batch := g.takeBatch()
			if len(batch) == 0 {
				break
			}
			recs := make([]record, len(batch))
			for i, p := range batch {
				recs[i] = p.rec
			}
			err := g.publish(recs)
			for _, p := range batch {
				if p.done != nil {
					p.done <- err
				}
			}
		}
	}
}

// takeBatch removes from the pending records as many as fit in one
// publication.
func (g *Group) takeBatch() []*pendingRecord {
	g.mu.Lock()
	defer g.mu.Unlock()
	size, n := 32, 0
	for n < len(g.pending) {
		size += recordSize(g.pending[n].rec)
		if n > 0 && size > maxContent {
			break
		}
		n++
	}
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	for _, p := range batch {
		if p.rec.kind == recAlive {
			g.alivePend = false
		}
	}
	return batch
}

// publish signs recs as the next publication, keeps it for serving, then
// announces it through SVS (in that order, so a member that hears of it
// can fetch it at once).
func (g *Group) publish(recs []record) error {
	now := time.Now()
	content := encodePublication(&publication{time: uint64(now.UnixMilli()), records: recs})
	for range 3 {
		seq := g.svs.SeqNo(g.name) + 1
		wire, err := g.signData(pubName(g.name, g.cfg.Group, g.boot, seq), content, g.cfg.HeartbeatPeriod)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrPublish, err)
		}
		g.mu.Lock()
		g.retained[seq] = wire.Join()
		g.mu.Unlock()
		if err := g.svs.SetSeqNo(g.name, seq); err != nil {
			// SVS raised our own sequence number meanwhile (a state vector
			// from an earlier incarnation that booted in the same second).
			g.mu.Lock()
			delete(g.retained, seq)
			g.mu.Unlock()
			continue
		}
		g.mu.Lock()
		g.seq = max(g.seq, seq)
		if old := seq - min(seq, uint64(g.cfg.Retain)); old > 0 {
			delete(g.retained, old)
		}
		g.lastPublish = now
		g.stats.Published++
		g.mu.Unlock()
		g.signal(g.kick) // the next heartbeat is due later now
		return nil
	}
	return fmt.Errorf("%w: SVS kept moving the sequence number", ErrPublish)
}

// signData encodes a Data packet signed by the member's identity.
func (g *Group) signData(name enc.Name, content []byte, freshness time.Duration) (enc.Wire, error) {
	cfg := &ndn.DataConfig{ContentType: optional.Some(ndn.ContentTypeBlob)}
	if freshness > 0 {
		cfg.Freshness = optional.Some(freshness)
	}
	d, err := spec.Spec{}.MakeData(name, cfg, enc.Wire{content}, g.id.Signer())
	if err != nil {
		return nil, fmt.Errorf("encode Data %s: %w", name, err)
	}
	return d.Wire, nil
}

// serve answers Interests under the member's data prefix: publications
// (or Gone for those no longer kept) and answers to its queries. It runs
// on the node's handler goroutines.
func (g *Group) serve(ctx context.Context, in *ndnx.Incoming) {
	name := in.Interest.Name()
	if len(name) <= len(g.data) {
		return
	}
	kind, boot, seq, id := parseServed(name[len(g.data):])
	switch kind {
	case servedPublication:
		g.servePublication(in, boot, seq)
	case servedAnswer:
		g.takeAnswer(ctx, in, id)
	}
}

func (g *Group) servePublication(in *ndnx.Incoming, boot, seq uint64) {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	wire := g.retained[seq]
	known := seq >= 1 && seq <= g.seq
	g.mu.Unlock()
	switch {
	case boot == g.boot && wire != nil:
		_ = in.Reply(enc.Wire{wire})
	case boot == g.boot && known, boot < g.boot && boot > 0:
		// Gone: an evicted publication, or one of an earlier incarnation.
		content := encodePublication(&publication{time: uint64(time.Now().UnixMilli()), records: []record{{kind: recGone}}})
		if w, err := g.signData(in.Interest.Name(), content, goneFreshness); err == nil {
			_ = in.Reply(w)
		}
	}
}
