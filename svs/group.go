package svs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Retry backoff of failed fetches, and the failures in a row after which a
// name's fetching waits for news of it (an announcement, or a Sync
// Interest it signed).
const (
	retryMin    = 100 * time.Millisecond
	retryMax    = 2 * time.Second
	maxFailures = 5
)

// Queue sizes: Sync Data waiting for validation, queries waiting for a
// worker, status changes waiting for OnMemberChange.
const (
	validateQueue = 64
	queryQueue    = 64
	validators    = 2
	maxChanges    = 4096
)

// Group is this process's membership in one group. Create it with Join;
// Leave or Close ends it. Its methods are safe for concurrent use.
type Group struct {
	cfg    Config
	node   *ndnx.Node
	id     *security.Identity
	signer *security.InterestSigner
	log    *slog.Logger
	name   enc.Name // this member's name: the identity's
	boot   uint64
	data   enc.Name // <name>/<group>: publications and answers
	sync   enc.Name // <group>/32=svs/v=3: Sync Interests
	svs    *svsync.Sync

	// base is cancelled by Close; every goroutine and callback of the
	// group runs under it.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	kick       chan struct{} // wake the planner
	pubKick    chan struct{} // wake the publisher
	notifyKick chan struct{} // wake the notifier
	faceUp     chan struct{} // the face came back: publish a heartbeat
	queryQ     chan queryJob

	closeOnce  sync.Once
	attached   *svsync.Attachment // Join's handlers and routes
	faceCancel func()

	mu          sync.Mutex
	closed      bool
	leaving     bool
	core        *core
	ltime       uint64
	pending     []*pendingRecord // waiting for the publisher
	alivePend   bool             // a heartbeat is pending
	lastPublish time.Time
	seq         uint64            // highest sequence number published
	retained    map[uint64][]byte // publications served, by sequence number
	events      *eventQueue
	changes     []MemberEvent
	queries     map[queryID]*queryState
	rejected    map[string]time.Time // keys whose Sync Data failed, until when
	stats       Stats
}

// Stats are a Group's counters since Join.
type Stats struct {
	// Published counts publications made (heartbeats included); Fetched
	// those of others fetched and verified.
	Published, Fetched uint64
	// FetchErrors counts fetches that failed on the network; Rejected
	// publications that failed verification, the policy or decoding.
	FetchErrors, Rejected uint64
	// Missed counts publications skipped because their member no longer
	// kept them (it was further ahead than its Retain).
	Missed uint64
	// Ignored counts names ignored because MaxMembers was reached.
	Ignored uint64
	// SyncAccepted counts Sync Data validated and handed to SVS;
	// SyncRejected those refused (malformed, bad signature, outside the
	// policy); SyncDropped those dropped because validation was behind.
	SyncAccepted, SyncRejected, SyncDropped uint64
	// EventsSent counts SendEvent calls accepted; EventsReceived events
	// received from others; EventsDelivered events handed to OnEvent (or
	// that would have been, without one; own events included); EventsCoalesced events superseded by a newer one with the
	// same name; EventsDropped events dropped from a full queue.
	EventsSent, EventsReceived, EventsDelivered, EventsCoalesced, EventsDropped uint64
	// QueriesReceived counts queries from others that this member was
	// asked to answer; QueriesDropped those dropped because every worker
	// was busy and the queue full; AnswersSent answers sent (own queries
	// included).
	QueriesReceived, QueriesDropped, AnswersSent uint64
	// AnswersAccepted counts answers to this member's queries accepted;
	// AnswersRejected those refused (bad signature, policy, filter,
	// malformed, late or over MaxAnswers).
	AnswersAccepted, AnswersRejected uint64
}

// pendingRecord is a record waiting to be published; done receives the
// outcome (nil when published or superseded).
type pendingRecord struct {
	rec  record
	done chan error // 1-buffered, or nil
}

// queryJob is a query for a worker to answer.
type queryJob struct {
	q     *Query
	id    queryID
	local bool // this member's own query: answer without the network
}

// Join joins cfg.Group: it serves this member's publications under
// <identity>/<group> and registers that prefix, registers the group's sync
// prefix with the multicast strategy, starts SVS, and publishes the
// member's first heartbeat, which announces it. It returns once the
// heartbeat is published; the other members learn of it, and it of them,
// within a Sync Interest exchange (about SuppressionPeriod). ctx bounds
// Join only; the group runs until Leave or Close.
//
// Errors: ErrBadConfig, ErrNoVerifier, ErrNoIdentity, an error wrapping
// ndnd's ErrMultipleHandlers if the node already handles the group,
// ndn.ErrRegister, or ctx's error.
func Join(ctx context.Context, cfg Config) (*Group, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	node := cfg.Node
	if node.Verifier() == nil {
		return nil, ErrNoVerifier
	}
	id := cfg.Identity
	if id == nil {
		id = node.Identity()
	}
	if id == nil {
		return nil, ErrNoIdentity
	}
	if !usableName(id.Name()) {
		return nil, fmt.Errorf("%w: identity name %s cannot be used in names", ErrBadConfig, id.Name())
	}
	now := time.Now()
	g := &Group{
		cfg:        cfg,
		node:       node,
		id:         id,
		signer:     security.NewInterestSigner(id),
		name:       id.Name().Clone(),
		boot:       uint64(now.Unix()),
		kick:       make(chan struct{}, 1),
		pubKick:    make(chan struct{}, 1),
		notifyKick: make(chan struct{}, 1),
		faceUp:     make(chan struct{}, 1),
		queryQ:     make(chan queryJob, queryQueue),
		retained:   map[uint64][]byte{},
		events:     newEventQueue(!cfg.DisableCoalescing, cfg.MaxPendingEvents),
		queries:    map[queryID]*queryState{},
		rejected:   map[string]time.Time{},
	}
	g.log = cfg.Logger.With("component", "svs", "group", cfg.Group.String(), "member", g.name.String())
	g.data = dataPrefix(g.name, cfg.Group)
	g.sync = syncPrefix(cfg.Group)
	g.core = newCore(coreConfig{
		self:        g.name,
		boot:        g.boot,
		suspect:     cfg.SuspectAfter,
		failed:      cfg.FailedAfter,
		reap:        cfg.ReapAfter,
		maxMembers:  cfg.MaxMembers,
		window:      cfg.FetchWindow,
		retryMin:    retryMin,
		retryMax:    retryMax,
		maxFailures: maxFailures,
	}, now)
	g.base, g.cancel = context.WithCancel(context.Background())
	if err := g.start(ctx); err != nil {
		g.Close()
		return nil, fmt.Errorf("svs: join %s: %w", cfg.Group, err)
	}
	g.log.Debug("joined", "boot", g.boot)
	return g, nil
}

// start does Join's work; on error, Close undoes what was done.
func (g *Group) start(ctx context.Context) error {
	node := g.node
	var err error
	g.attached, err = svsync.Serve(ctx, node, g.data, g.serve, g.id, g.log)
	if err != nil {
		return err
	}

	s, err := g.newSync()
	if err != nil {
		return err
	}
	g.svs = s
	for range g.cfg.QueryWorkers {
		g.goOwned(g.queryLoop)
	}
	g.goOwned(g.planLoop)
	g.goOwned(g.publishLoop)
	g.goOwned(g.notifyLoop)
	g.faceCancel = node.Engine().Face().OnUp(func() { g.signal(g.faceUp) })
	// Start attaches SvSync's handler first: if this node already is in
	// the group, that fails before we touch the group's route.
	if err := s.Start(); err != nil {
		return err
	}
	if err := node.SetStrategy(ctx, g.sync, ndnx.MulticastStrategy); err != nil {
		return err
	}
	if err := g.attached.Register(ctx, g.sync); err != nil {
		return err
	}
	return g.publishAndWait(ctx, record{kind: recAlive}, true)
}

// goOwned starts f on a goroutine that Close waits for (STYLE C1).
func (g *Group) goOwned(f func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f()
	}()
}

// signal wakes a goroutine waiting on ch without blocking.
func (g *Group) signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// count updates the counters.
func (g *Group) count(f func(*Stats)) {
	g.mu.Lock()
	f(&g.stats)
	g.mu.Unlock()
}

// Name is this member's name in the group (its identity's name). The
// caller must not modify it.
func (g *Group) Name() enc.Name { return g.name }

// Prefix is the group's name prefix. The caller must not modify it.
func (g *Group) Prefix() enc.Name { return g.cfg.Group }

// Members returns every member this one knows, itself included, sorted by
// name (as URIs), with their status and when they were last heard from. It works
// after Close too (the last view).
func (g *Group) Members() []Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.core.list(time.Now())
}

// Stats returns the group's counters.
func (g *Group) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.stats
	st.Missed, st.Ignored = g.core.missed, g.core.ignored
	st.EventsCoalesced, st.EventsDropped = g.events.coalesced, g.events.dropped
	if g.svs != nil {
		ss := g.svs.Stats()
		st.SyncAccepted, st.SyncRejected, st.SyncDropped = ss.Accepted, ss.Rejected, ss.Dropped
	}
	return st
}

// Leave announces that this member leaves, keeps serving the announcement
// for Config.LeaveLinger (or until ctx ends; not at all if no member is
// alive or suspect) so that the members fetch it and see it as left, then
// closes the group. Events sent before Leave are
// published before the announcement. Errors: ErrClosed if the group was
// already closed or leaving, ErrPublish, or ctx's error (the group is
// closed in every case).
func (g *Group) Leave(ctx context.Context) error {
	g.mu.Lock()
	if g.closed || g.leaving {
		g.mu.Unlock()
		return ErrClosed
	}
	g.leaving = true
	g.mu.Unlock()
	defer g.Close()
	if err := g.publishAndWait(ctx, record{kind: recLeave}, true); err != nil {
		return err
	}
	g.mu.Lock()
	g.core.leave(time.Now())
	g.takeChangesLocked()
	others := g.core.reachable()
	g.mu.Unlock()
	g.signal(g.notifyKick)
	if others == 0 {
		return nil // nobody to tell
	}
	t := time.NewTimer(g.cfg.LeaveLinger)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close leaves the group without announcing it (the members will see this
// member fail), stops every goroutine the group started, waits for
// callbacks in progress to return, stops SVS and removes the routes. It is
// idempotent and safe for concurrent use, but must not be called from a
// callback (it would wait for itself). It returns nil.
func (g *Group) Close() error {
	g.closeOnce.Do(g.close)
	return nil
}

func (g *Group) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cancel()
	g.wg.Wait()
	// After the publisher stopped: every SetSeqNo starts a goroutine in
	// SvSync, which Stop waits for.
	if g.svs != nil {
		g.svs.Stop()
	}
	if g.faceCancel != nil {
		g.faceCancel()
	}
	if g.attached != nil {
		g.attached.Undo()
	}
	g.mu.Lock()
	for _, p := range g.pending {
		if p.done != nil {
			p.done <- ErrClosed
		}
	}
	g.pending = nil
	g.mu.Unlock()
	g.log.Debug("closed")
}
