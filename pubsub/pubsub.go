package pubsub

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	ndnsync "github.com/named-data/ndnd/std/sync"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// PubSub is this process's member of a pub-sub group: it publishes on the
// topics it advertises and fetches those it subscribes to. Create it with
// New, then Start; Close ends it. Its methods are safe for concurrent use.
type PubSub struct {
	cfg   Config
	node  *ndnx.Node
	id    *security.Identity
	name  enc.Name // this member's identity name
	boot  uint64
	serve enc.Name // <name>/<group>/32=ps
	log   *slog.Logger
	sync  *svsync.Sync

	base    context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	pubKick chan struct{}

	closeOnce sync.Once
	attached  *svsync.Attachment // Start's handlers and routes
	// onSync, set before Start by an Archiver, sees every state vector
	// that passed checkSync, on a validator goroutine.
	onSync func(sv []svsync.Entry)

	mu      sync.Mutex
	started bool
	closed  bool
	topics  map[string]*Topic    // by topic NameKey
	served  map[string]servedPkt // packets served, by name NameKey
	subs    map[*Subscription]struct{}
	entries map[string]entryState // state vector entries seen, by NameKey+boot
	pending int                   // messages queued, all topics
	space   chan struct{}         // signalled when pending drops
	stats   Stats
}

// entryState is what SVS said of one (entry, boot).
type entryState struct {
	name enc.Name
	boot uint64
	high uint64
}

// Stats are a PubSub's counters.
type Stats struct {
	// Published counts messages published; Publications the Data packets
	// (batches) announced; Served the packets served to fetchers.
	Published, Publications, Served uint64
	// Fetched counts publications fetched and verified; FetchErrors
	// fetches that failed on the network; Rejected publications that
	// failed verification, the policy or decoding; Missed publications
	// skipped (Gone, or given up).
	Fetched, FetchErrors, Rejected, Missed uint64
	// Delivered counts messages handed to subscribers; Redelivered the
	// times a refused message was handed over again; Abandoned the
	// messages given up after MaxRedeliveries refusals.
	Delivered, Redelivered, Abandoned uint64
	// SyncAccepted, SyncRejected and SyncDropped count Sync Data.
	SyncAccepted, SyncRejected, SyncDropped uint64
}

// New checks cfg and returns a PubSub; it does no I/O (Start does).
// Errors: ErrBadConfig.
func New(cfg Config) (*PubSub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.Group = cfg.Group.Clone()
	id := cfg.Identity
	if id == nil {
		id = cfg.Node.Identity()
	}
	if id == nil {
		return nil, fmt.Errorf("%w: no identity", ErrBadConfig)
	}
	if cfg.Node.Verifier() == nil {
		return nil, fmt.Errorf("%w: node has no trust anchors", ErrBadConfig)
	}
	name := id.Name().Clone()
	if _, _, ok := parseEntry(entryName(name, enc.Name{psKeyword})); !ok || !svsync.UsableName(name) {
		return nil, fmt.Errorf("%w: identity %s cannot be used", ErrBadConfig, name)
	}
	for _, c := range name {
		if c.Equal(topicKeyword) {
			return nil, fmt.Errorf("%w: identity %s contains 32=topic", ErrBadConfig, name)
		}
	}
	p := &PubSub{
		cfg:     cfg,
		node:    cfg.Node,
		id:      id,
		name:    name,
		boot:    uint64(time.Now().Unix()),
		serve:   servePrefix(name, cfg.Group),
		pubKick: make(chan struct{}, 1),
		space:   make(chan struct{}, 1),
		topics:  map[string]*Topic{},
		served:  map[string]servedPkt{},
		subs:    map[*Subscription]struct{}{},
		entries: map[string]entryState{},
	}
	p.log = cfg.Logger.With("component", "pubsub", "group", cfg.Group.String(), "member", name.String())
	p.base, p.cancel = context.WithCancel(context.Background())
	s, err := svsync.New(svsync.Config{
		Node:              cfg.Node,
		Signer:            id.Signer(),
		GroupPrefix:       svsync.GroupPrefix(cfg.Group),
		SyncDataName:      svsync.SyncDataName(name, cfg.Group),
		BootTime:          p.boot,
		PeriodicTimeout:   cfg.SyncPeriod,
		SuppressionPeriod: cfg.SuppressionPeriod,
		OnUpdate:          p.onUpdate,
		Check:             p.checkSync,
		Logger:            p.log,
	})
	if err != nil {
		p.cancel()
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	p.sync = s
	return p, nil
}

// Start serves this member's publications, registers its prefixes, sets
// the multicast strategy on the sync prefix and starts SVS. ctx bounds
// Start only. On error the PubSub is closed. Errors: ErrClosed, an error
// wrapping ndnd's ErrMultipleHandlers if the node already is in the group,
// ndn.ErrRegister, or ctx's.
func (p *PubSub) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.closed || p.started {
		p.mu.Unlock()
		return ErrClosed
	}
	p.started = true
	p.mu.Unlock()
	if err := p.start(ctx); err != nil {
		p.Close()
		return fmt.Errorf("pubsub: start %s: %w", p.cfg.Group, err)
	}
	return nil
}

func (p *PubSub) start(ctx context.Context) error {
	node := p.node
	var err error
	p.attached, err = svsync.Serve(ctx, node, p.serve, p.onInterest, p.id, p.log)
	if err != nil {
		return err
	}
	p.goOwned(p.publishLoop)
	// Route first: SvSync sends its first Sync Interest at Start, and the
	// members' answers (their state vectors, an Archiver's announcement)
	// must find the route back.
	prefix := svsync.SyncPrefix(p.cfg.Group)
	if err := node.SetStrategy(ctx, prefix, ndnx.MulticastStrategy); err != nil {
		return err
	}
	if err := p.attached.Register(ctx, prefix); err != nil {
		return err
	}
	return p.sync.Start()
}

// Close stops publishing and fetching, closes every Subscription (waiting
// for handlers in progress), stops SVS and removes the routes. Messages
// not yet published are dropped: call Topic.Flush first to linger until
// they are fetched. Idempotent; must not be called from a handler.
func (p *PubSub) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		subs := make([]*Subscription, 0, len(p.subs))
		for s := range p.subs {
			subs = append(subs, s)
		}
		p.mu.Unlock()
		for _, s := range subs {
			s.Close()
		}
		p.cancel()
		p.wg.Wait()
		p.sync.Stop()
		if p.attached != nil {
			p.attached.Undo()
		}
	})
	return nil
}

// Name is this member's name (its identity's). Do not modify it.
func (p *PubSub) Name() enc.Name { return p.name }

// Stats returns the counters.
func (p *PubSub) Stats() Stats {
	p.mu.Lock()
	st := p.stats
	p.mu.Unlock()
	ss := p.sync.Stats()
	st.SyncAccepted, st.SyncRejected, st.SyncDropped = ss.Accepted, ss.Rejected, ss.Dropped
	return st
}

func (p *PubSub) count(f func(*Stats)) {
	p.mu.Lock()
	f(&p.stats)
	p.mu.Unlock()
}

// goOwned starts f on a goroutine Close waits for.
func (p *PubSub) goOwned(f func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// checkSync validates a Sync Data: named <member>/<group>/32=svs/v=<µs>,
// signed by a key of <member>'s chained to the trust anchors, admitted by
// the policy for the group. Claimed-key checks come first, so an outsider
// costs no verification.
func (p *PubSub) checkSync(ctx context.Context, d ndn.Data, sigCov enc.Wire, sv []svsync.Entry) error {
	member, _, ok := svsync.ParseSyncDataName(d.Name(), p.cfg.Group)
	if !ok {
		return fmt.Errorf("%w: Sync Data %s", ErrMalformed, d.Name())
	}
	s := d.Signature()
	if s == nil || !svsync.IdentityOf(s.KeyName()).Equal(member) {
		return fmt.Errorf("%w: Sync Data %s not signed by its member", security.ErrBadSignature, d.Name())
	}
	if err := p.authorize(s.KeyName(), p.cfg.Group); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.FetchTimeout+ndnx.CertFetchTimeout)
	defer cancel()
	key, err := p.node.Verifier().VerifyData(ctx, d, sigCov)
	if err != nil {
		return err
	}
	if !svsync.IdentityOf(key).Equal(member) {
		return fmt.Errorf("%w: %s signed for %s", security.ErrBadSignature, key, member)
	}
	if p.onSync != nil {
		p.onSync(sv)
	}
	return nil
}

func (p *PubSub) authorize(key, target enc.Name) error {
	if p.cfg.Policy == nil {
		return nil
	}
	return p.cfg.Policy.Authorize(key, target)
}

// onUpdate receives SVS updates on SvSync's loop goroutine: it records
// them and tells the matching subscriptions, without blocking.
func (p *PubSub) onUpdate(u ndnsync.SvSyncUpdate) {
	pub, topic, ok := parseEntry(u.Name)
	if !ok || pub.Equal(p.name) {
		return
	}
	e := entryState{name: u.Name.Clone(), boot: u.Boot, high: u.High}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.entries[streamKey(u.Name, u.Boot)] = e
	for s := range p.subs {
		if s.prefix.IsPrefix(topic) {
			s.note(e)
		}
	}
}

// servedPkt is a packet kept to serve; fetching it completes the fetch
// of publication seq of t when marks is set (the publication, or the last
// segment of its last large message).
type servedPkt struct {
	wire  []byte
	t     *Topic
	seq   uint64
	marks bool
}

// onInterest serves publications and large-message segments from memory,
// and Gone for publications no longer kept. It runs on the node's handler
// goroutines.
func (p *PubSub) onInterest(_ context.Context, in *ndnx.Incoming) {
	name := in.Interest.Name()
	rest := name[len(p.serve):]
	topic, boot, seq, ok := parsePubName(rest)
	if !ok && len(rest) > 3 {
		topic, boot, _, ok = parsePubName(rest[:len(rest)-3])
		seq = 0 // a segment: never Gone
	}
	p.mu.Lock()
	pkt, have := p.served[svsync.NameKey(name)]
	var t *Topic
	if ok {
		t = p.topics[svsync.NameKey(topic)]
	}
	if t != nil {
		t.interests++
	}
	gone := false
	switch {
	case have:
		p.stats.Served++
		if pkt.marks && pkt.seq > pkt.t.fetched {
			pkt.t.fetched = pkt.seq
			pkt.t.notifyLocked()
		}
	case ok && seq > 0 && boot == p.boot && t != nil && seq < t.low:
		gone = true
	case ok && seq > 0 && boot < p.boot && boot > 0:
		gone = true // an earlier incarnation's
	}
	p.mu.Unlock()
	switch {
	case have:
		_ = in.Reply(enc.Wire{pkt.wire})
	case gone:
		if w, err := p.signData(name, encodeBatch(&batch{gone: true}), time.Hour, nil); err == nil {
			_ = in.Reply(w)
		}
	}
}

// signData encodes a Data packet signed by the member's identity.
func (p *PubSub) signData(name enc.Name, content []byte, freshness time.Duration, final *enc.Component) (enc.Wire, error) {
	cfg := &ndn.DataConfig{ContentType: optional.Some(ndn.ContentTypeBlob)}
	if freshness > 0 {
		cfg.Freshness = optional.Some(freshness)
	}
	if final != nil {
		cfg.FinalBlockID = optional.Some(*final)
	}
	d, err := spec.Spec{}.MakeData(name, cfg, enc.Wire{content}, p.id.Signer())
	if err != nil {
		return nil, fmt.Errorf("encode Data %s: %w", name, err)
	}
	return d.Wire, nil
}

// streamKey identifies a stream: an entry name in one incarnation.
func streamKey(name enc.Name, boot uint64) string {
	return svsync.NameKey(name) + "@" + fmt.Sprint(boot)
}
