package pubsub

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/named-data/ndnd/std/utils"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// SaveTimeout bounds the Archiver's final ArchiveSink.SaveState at Close.
const SaveTimeout = 5 * time.Second

// ArchiveSink is where an Archiver keeps what it archives; a repo
// implements it (repo.ArchiveSink has the same methods). The Archiver
// calls it from its fetcher goroutines, concurrently, never with a lock
// held; a call may block (the fetcher waits).
type ArchiveSink interface {
	// Put stores the packets (signed Data wires, as received) durably and
	// then serves them, and from then on every packet stored under each
	// of prefixes, at a route cost above a live publisher's (0): while the
	// publisher runs, it answers first. It is called with no packets at
	// Start, to serve again what a previous run archived. An error makes
	// the Archiver try again later.
	Put(ctx context.Context, pkts [][]byte, prefixes []enc.Name) error
	// LoadState returns the state last given to SaveState, nil if none.
	LoadState() ([]byte, error)
	// SaveState durably replaces the state.
	SaveState(ctx context.Context, state []byte) error
}

// ArchiveStats are an Archiver's counters.
type ArchiveStats struct {
	// Publications counts publications archived (stored through the sink),
	// Packets the packets stored with them (segments and certificates
	// included), Announced the Sync Interests it sent for streams its SVS
	// instance did not know (after a restart).
	Publications, Packets, Announced uint64
	// Streams is the number of (publisher, topic, incarnation) archived.
	Streams int
}

// ArchivedStream is how far an Archiver archived one stream.
type ArchivedStream struct {
	// Publisher and Topic name the stream, Boot is the publisher's
	// incarnation and Seq the last publication archived.
	Publisher, Topic enc.Name
	Boot, Seq        uint64
}

// Archiver is a passive member of a pub-sub group that keeps every
// publication of every topic, so that subscribers that arrive late or
// were offline catch up (persistent topics). It fetches each (publisher,
// topic, incarnation) in order from its first publication (the
// publisher answers Gone for what it no longer keeps), verifies it as a
// subscriber does, and hands the signed packets — the publication, the
// segments of its large messages and, once per run, the publisher's
// certificate — to an ArchiveSink that stores and serves them. It takes
// part in SVS, so the state vector entries of publishers that left stay
// in the group's state; after a restart it announces the entries it
// archived (from the sink's state) to members that lack them.
//
// A subscriber catches up with SubscribeConfig.Replay (or ExactlyOnce).
// Its methods are safe for concurrent use.
type Archiver struct {
	p    *PubSub
	sink ArchiveSink
	kick chan struct{} // archive → saveLoop

	// mu guards the fields below. Lock order: p.mu, then mu (resume is
	// called with p.mu held); p.mu is never taken with mu held.
	mu       sync.Mutex
	known    map[string]svsync.Entry // by streamKey: last archived seq
	certs    map[string]bool         // publishers (NameKey) whose certificate is stored this run
	lastSent time.Time               // last announcement
	unsaved  bool                    // archived since the last save
	stats    ArchiveStats
	closed   bool
}

// NewArchiver returns an Archiver of cfg's group that stores through sink.
// cfg is a member's Config (Identity signs its Sync Data; Policy also
// limits what it archives); publishing settings are unused. It does no
// I/O. Errors: ErrBadConfig.
func NewArchiver(cfg Config, sink ArchiveSink) (*Archiver, error) {
	if sink == nil {
		return nil, fmt.Errorf("%w: ArchiveSink is required", ErrBadConfig)
	}
	p, err := New(cfg)
	if err != nil {
		return nil, err
	}
	a := &Archiver{p: p, sink: sink, kick: make(chan struct{}, 1), known: map[string]svsync.Entry{}, certs: map[string]bool{}}
	p.onSync = a.onSync
	return a, nil
}

// Start loads the sink's state, serves again what was archived, joins the
// group and starts archiving. ctx bounds Start only. On error the
// Archiver is closed. Errors: ErrMalformed (a bad saved state), the
// sink's, and PubSub.Start's.
func (a *Archiver) Start(ctx context.Context) error {
	err := a.start(ctx)
	if err != nil {
		a.Close()
	}
	return err
}

func (a *Archiver) start(ctx context.Context) error {
	b, err := a.sink.LoadState()
	if err != nil {
		return fmt.Errorf("pubsub: archive state: %w", err)
	}
	var prefixes []enc.Name
	if len(b) > 0 {
		entries, err := decodeArchiveState(b)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		a.mu.Lock()
		for _, e := range entries {
			a.known[streamKey(e.Name, e.Boot)] = e
			pub, _, _ := parseEntry(e.Name)
			if k := svsync.NameKey(pub); !seen[k] {
				seen[k] = true
				prefixes = append(prefixes, a.prefixes(pub)...)
			}
		}
		a.stats.Streams = len(a.known)
		a.mu.Unlock()
	}
	if len(prefixes) > 0 {
		if err := a.sink.Put(ctx, nil, prefixes); err != nil {
			return fmt.Errorf("pubsub: serve archive: %w", err)
		}
	}
	// Every topic; PubSub.Close closes the subscription.
	if _, err := a.p.subscribe(SubscribeConfig{Handler: func(context.Context, *Message) error { return nil }}, enc.Name{}, a); err != nil {
		return err
	}
	a.p.goOwned(a.saveLoop)
	if err := a.p.Start(ctx); err != nil {
		return err
	}
	a.announce(true)
	return nil
}

// Close stops archiving, saves the state and leaves the group.
// Idempotent.
func (a *Archiver) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	// Close stops the fetchers, then saveLoop, which saves a last time.
	return a.p.Close()
}

// Name is the archiver's member name (its identity's).
func (a *Archiver) Name() enc.Name { return a.p.Name() }

// Stats returns the counters.
func (a *Archiver) Stats() ArchiveStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// Streams returns how far each stream is archived, sorted by entry name
// and incarnation.
func (a *Archiver) Streams() []ArchivedStream {
	entries := a.entries()
	out := make([]ArchivedStream, len(entries))
	for i, e := range entries {
		pub, topic, _ := parseEntry(e.Name)
		out[i] = ArchivedStream{Publisher: pub.Clone(), Topic: topic.Clone(), Boot: e.Boot, Seq: e.Seq}
	}
	return out
}

// entries returns the known entries sorted by name and boot (so that each
// name's entries are adjacent, as EncodeStateVector needs).
func (a *Archiver) entries() []svsync.Entry {
	a.mu.Lock()
	out := make([]svsync.Entry, 0, len(a.known))
	for _, e := range a.known {
		out = append(out, e)
	}
	a.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if c := bytes.Compare([]byte(svsync.NameKey(out[i].Name)), []byte(svsync.NameKey(out[j].Name))); c != 0 {
			return c < 0
		}
		return out[i].Boot < out[j].Boot
	})
	return out
}

// prefixes are where pub's archived packets are served: its publications
// of this group and its certificates (<pub>/KEY, so that a subscriber
// can verify them after pub left).
func (a *Archiver) prefixes(pub enc.Name) []enc.Name {
	return []enc.Name{servePrefix(pub, a.p.cfg.Group), svsync.Join(pub, nil, enc.NewGenericComponent("KEY"))}
}

// resume is where the archiver's subscription starts a stream: after what
// was archived. Called with p.mu held.
func (a *Archiver) resume(key string) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.known[key]; ok {
		return e.Seq + 1
	}
	return 1
}

// archive stores publication seq of st (pkts: its wires, publication
// first) through the sink, with the publisher's certificate the first
// time this run, then records it. It runs on st's fetcher goroutine.
func (a *Archiver) archive(ctx context.Context, st *stream, seq uint64, key enc.Name, pkts [][]byte) error {
	pubKey := svsync.NameKey(st.pub)
	a.mu.Lock()
	haveCert := a.certs[pubKey]
	a.mu.Unlock()
	if !haveCert {
		cert, err := a.p.node.FetchCert(ctx, key)
		if err != nil {
			return fmt.Errorf("certificate %s: %w", key, err)
		}
		// Only a certificate of pub's is served under <pub>/KEY.
		if d, _, err := security.ReadData(cert); err != nil || !a.prefixes(st.pub)[1].IsPrefix(d.Name()) {
			return fmt.Errorf("%w: certificate for %s", ErrMalformed, key)
		}
		pkts = append(slices.Clip(pkts), cert)
	}
	if err := a.sink.Put(ctx, pkts, a.prefixes(st.pub)); err != nil {
		return err
	}
	k := streamKey(st.entry, st.boot)
	a.mu.Lock()
	a.certs[pubKey] = true
	if e := a.known[k]; e.Seq < seq {
		a.known[k] = svsync.Entry{Name: st.entry, Boot: st.boot, Seq: seq}
	}
	a.stats.Streams = len(a.known)
	a.stats.Publications++
	a.stats.Packets += uint64(len(pkts))
	a.unsaved = true
	a.mu.Unlock()
	signal(a.kick)
	return nil
}

// saveLoop saves the state when archive signals, and once more when the
// PubSub closes (after its fetchers stopped). Saves are serialized here,
// so an older state never overwrites a newer.
func (a *Archiver) saveLoop() {
	for {
		select {
		case <-a.kick:
			a.save(a.p.base)
		case <-a.p.base.Done():
			ctx, cancel := context.WithTimeout(context.Background(), SaveTimeout)
			a.save(ctx)
			cancel()
			return
		}
	}
}

// save saves the state if something was archived since the last save.
func (a *Archiver) save(ctx context.Context) {
	a.mu.Lock()
	if !a.unsaved {
		a.mu.Unlock()
		return
	}
	a.unsaved = false
	a.mu.Unlock()
	if err := a.sink.SaveState(ctx, encodeArchiveState(a.entries())); err != nil {
		a.mu.Lock()
		a.unsaved = true
		a.mu.Unlock()
		a.p.log.Warn("archive state", "err", err)
	}
}

// onSync sees every valid state vector the group's members send (on a
// validator goroutine). A member that lacks an entry this archiver holds
// learns it from an announcement: after a restart the archiver's SVS
// instance starts empty (svsync gives SvSync no initial state), and a
// late subscriber could not otherwise learn of publishers that left.
func (a *Archiver) onSync(sv []svsync.Entry) {
	have := make(map[string]uint64, len(sv))
	for _, e := range sv {
		have[streamKey(e.Name, e.Boot)] = e.Seq
	}
	a.mu.Lock()
	behind := false
	for k, e := range a.known {
		if have[k] < e.Seq {
			behind = true
			break
		}
	}
	a.mu.Unlock()
	if behind {
		a.announce(false)
	}
}

// announce sends a Sync Interest carrying the archived entries, signed as
// the archiver's Sync Data. Answers to members that are behind go out at
// most once per SuppressionPeriod (one reaches every member: the sync
// prefix is multicast); the forced one at Start does not count, as a
// member that joins right after it would go unanswered. Receivers merge
// it into their state like any member's.
func (a *Archiver) announce(force bool) {
	p := a.p
	entries := a.entries()
	now := time.Now()
	a.mu.Lock()
	if len(entries) == 0 || a.closed || (!force && now.Sub(a.lastSent) < p.cfg.SuppressionPeriod) {
		a.mu.Unlock()
		return
	}
	if !force {
		a.lastSent = now
	}
	a.stats.Announced++
	a.mu.Unlock()
	name := svsync.Join(svsync.SyncDataName(p.name, p.cfg.Group), nil, enc.NewVersionComponent(uint64(now.UnixMicro())))
	d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{ContentType: optional.Some(ndn.ContentTypeBlob)},
		enc.Wire{svsync.EncodeStateVector(entries)}, p.id.Signer())
	if err != nil {
		p.log.Warn("archive announce", "err", err)
		return
	}
	eng := p.node.Engine()
	i, err := spec.Spec{}.MakeInterest(svsync.SyncPrefix(p.cfg.Group), &ndn.InterestConfig{
		Lifetime: optional.Some(time.Second),
		Nonce:    utils.ConvertNonce(eng.Timer().Nonce()),
	}, d.Wire, nil)
	if err != nil {
		p.log.Warn("archive announce", "err", err)
		return
	}
	// Sync Interests are not answered (SVS v3): no callback.
	if err := eng.Express(i, nil); err != nil {
		p.log.Debug("archive announce", "err", err)
	}
}

// encodeArchiveState encodes entries (each name's adjacent) as an SVS v3
// state vector.
func encodeArchiveState(entries []svsync.Entry) []byte { return svsync.EncodeStateVector(entries) }

// decodeArchiveState decodes a saved state: a state vector whose names
// are all stream entries (<pub>/32=topic/<topic>). Errors wrap
// ErrMalformed.
func decodeArchiveState(b []byte) ([]svsync.Entry, error) {
	entries, err := svsync.DecodeStateVector(b)
	if err != nil {
		return nil, fmt.Errorf("%w: archive state: %w", ErrMalformed, err)
	}
	for _, e := range entries {
		if _, _, ok := parseEntry(e.Name); !ok || e.Seq == 0 {
			return nil, fmt.Errorf("%w: archive state: entry %s", ErrMalformed, e.Name)
		}
	}
	return entries, nil
}
