package groupsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// closeSaveTimeout bounds the final save in Close; unregisterTimeout the
// route removal.
const (
	closeSaveTimeout  = 5 * time.Second
	unregisterTimeout = 2 * time.Second
)

// Member is a passive member of one SVS v3 group that stores every
// publication. Create it with Join; Close leaves the group. Its methods are
// safe for concurrent use.
type Member struct {
	cfg  Config
	node *ndnx.Node
	log  *slog.Logger
	sync enc.Name // sync prefix: [multicast]/group/32=svs/v=3

	// base is cancelled by Close; every goroutine, fetch, Sink call and
	// callback of the member runs under it.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	kick        chan struct{} // wake the planning loop
	deliverKick chan struct{} // wake the delivery goroutine
	saveKick    chan struct{} // wake the saver

	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	closed bool
	tr     *tracker
	queue  []delivery // settled, waiting for the delivery goroutine
	stats  Stats      // counters; Publishers is filled by Stats()
}

// Stats are a Member's counters since Join.
type Stats struct {
	// Publications counts publications fetched and stored one by one.
	Publications uint64
	// FromSnapshots counts publications recovered from history snapshots
	// because the publisher no longer served them one by one.
	FromSnapshots uint64
	// Snapshots counts history snapshots stored.
	Snapshots uint64
	// Packets and Bytes count the Data packets (every segment, snapshot
	// and index packet) and wire bytes put into the Sink.
	Packets, Bytes uint64
	// Delivered counts OnPublication calls (or publications that would
	// have been handed over, without a callback).
	Delivered uint64
	// FetchErrors counts fetches that failed on the network (each retry
	// counts).
	FetchErrors uint64
	// Rejected counts fetched packets that failed verification or came
	// under another name, and objects that are malformed or have more
	// than MaxSegments segments; each attempt counts.
	Rejected uint64
	// Skipped counts publications given up after Config.Retries rejected
	// attempts: they are not stored.
	Skipped uint64
	// SinkErrors counts failed PutData and SaveState calls.
	SinkErrors uint64
	// SyncInterests counts Sync Interests accepted; BadSync those dropped
	// (malformed, outside the group, or failing verification).
	SyncInterests, BadSync uint64
	// Publishers is the progress of each publisher instance.
	Publishers []PublisherStats
}

// PublisherStats is the progress of one publisher instance (name and boot
// time) in a group.
type PublisherStats struct {
	// Name is the publisher's name in the group; Boot its bootstrap time
	// (seconds since the epoch), which changes when it restarts.
	Name enc.Name
	Boot uint64
	// Latest is the highest sequence number the group announced for it.
	Latest uint64
	// Stored: every publication up to it is stored (or skipped).
	Stored uint64
	// Delivered: every publication up to it was handed to OnPublication;
	// this is what the saved state records.
	Delivered uint64
}

// Join joins cfg.Group as a passive member on node: it loads the state
// saved for the group from cfg.Sink, attaches a handler for the group's
// Sync Interests, sets the multicast strategy on the sync prefix and
// registers it on the forwarder, then starts fetching. ctx bounds the
// registration only; the member runs until Close.
//
// A member that saved its state before resumes where it left off: it
// fetches what the saved state vector says is missing and re-sends the
// publishers' last Sync Data it kept, so that publishers answer with what
// it missed while it was down.
//
// Errors: ErrBadConfig, ErrNoVerifier, ErrBadState (saved state corrupt),
// ErrSink (LoadState failed), an error wrapping ndnd's ErrMultipleHandlers
// if node already handles the sync prefix, ndn.ErrRegister, or ctx's error.
func Join(ctx context.Context, node *ndnx.Node, cfg Config) (*Member, error) {
	if node == nil {
		return nil, fmt.Errorf("%w: nil node", ErrBadConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.Verify && node.Verifier() == nil {
		return nil, ErrNoVerifier
	}
	raw, err := cfg.Sink.LoadState(cfg.Group)
	if err != nil {
		return nil, fmt.Errorf("%w: load state of %s: %w", ErrSink, cfg.Group, err)
	}
	var saved *savedState
	if raw != nil {
		if saved, err = decodeState(raw); err != nil {
			return nil, err
		}
	}

	m := &Member{
		cfg:         cfg,
		node:        node,
		log:         cfg.Logger,
		sync:        syncPrefix(cfg.MulticastPrefix, cfg.Group),
		kick:        make(chan struct{}, 1),
		deliverKick: make(chan struct{}, 1),
		saveKick:    make(chan struct{}, 1),
		tr: newTracker(trackerConfig{
			group:       cfg.Group,
			window:      cfg.Window,
			retries:     cfg.Retries,
			backoff:     cfg.RetryBackoff,
			maxBackoff:  cfg.MaxRetryBackoff,
			snapshot:    cfg.HistorySnapshot,
			suppression: cfg.SuppressionPeriod,
			maxWires:    cfg.MaxSyncWires,
		}, rand.Float64),
	}
	if saved != nil {
		m.tr.load(saved)
	}
	m.base, m.cancel = context.WithCancel(context.Background())

	if err := node.Handle(m.sync, m.onSync); err != nil {
		m.cancel()
		return nil, fmt.Errorf("groupsync: join %s: %w", cfg.Group, err)
	}
	if err := node.SetStrategy(ctx, m.sync, ndnx.MulticastStrategy); err != nil {
		_ = node.Unhandle(m.sync)
		m.cancel()
		return nil, fmt.Errorf("groupsync: join %s: %w", cfg.Group, err)
	}
	if err := node.Register(ctx, m.sync, nil); err != nil {
		_ = node.Unhandle(m.sync)
		m.cancel()
		return nil, fmt.Errorf("groupsync: join %s: %w", cfg.Group, err)
	}
	m.goOwned(m.loop)
	m.goOwned(m.deliverLoop)
	m.goOwned(m.saveLoop)
	m.log.Debug("joined", "sync", m.sync.String(), "resumed", saved != nil)
	return m, nil
}

// Close leaves the group: it stops receiving Sync Interests, cancels the
// fetches in flight, waits for every goroutine the member started, saves
// the state (what was stored and delivered so far) and unregisters the
// sync prefix. It is idempotent and safe for concurrent use; every call
// returns the first call's result: nil, or an ErrSink error if the final
// save failed.
func (m *Member) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

func (m *Member) close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	_ = m.node.Unhandle(m.sync)
	m.cancel()
	m.wg.Wait()

	var err error
	m.mu.Lock()
	var state []byte
	if m.tr.dirty {
		state = encodeState(m.tr.save())
	}
	m.mu.Unlock()
	if state != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeSaveTimeout)
		if serr := m.cfg.Sink.SaveState(ctx, m.cfg.Group, state); serr != nil {
			err = fmt.Errorf("%w: save state of %s: %w", ErrSink, m.cfg.Group, serr)
		}
		cancel()
	}

	ctx, cancel := context.WithTimeout(context.Background(), unregisterTimeout)
	defer cancel()
	if uerr := m.node.Unregister(ctx, m.sync); uerr != nil && !errors.Is(uerr, ndnx.ErrClosed) {
		m.log.Debug("unregister sync prefix", "err", uerr)
	}
	m.log.Debug("left")
	return err
}

// Group is the group's prefix. The caller must not modify it.
func (m *Member) Group() enc.Name { return m.cfg.Group }

// SyncPrefix is where the group's Sync Interests go ([multicast]/<group>/
// 32=svs/v=3); Join registered it. The caller must not modify it.
func (m *Member) SyncPrefix() enc.Name { return m.sync }

// Stats returns a snapshot of the member's counters and per-publisher
// progress (in the order publishers were first seen).
func (m *Member) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.stats
	st.Skipped, st.FromSnapshots = m.tr.skipped, m.tr.recovered
	st.Publishers = make([]PublisherStats, 0, len(m.tr.order))
	for _, id := range m.tr.order {
		s := m.tr.streams[id]
		st.Publishers = append(st.Publishers, PublisherStats{
			Name: s.node.Clone(), Boot: s.boot, Latest: s.latest, Stored: s.settled, Delivered: s.delivered,
		})
	}
	return st
}

// goOwned starts f on a goroutine that Close waits for (STYLE C1).
func (m *Member) goOwned(f func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
}

// signal wakes a goroutine waiting on ch without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// loop starts fetch tasks when there is room and work, and sends Sync
// Interests when SVS suppression says so. It sleeps until kicked or until
// the next retry or suppression deadline.
func (m *Member) loop() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		now := time.Now()
		m.mu.Lock()
		tasks := m.tr.plan(now)
		wires := m.tr.tick(now)
		wake := m.tr.nextWake(now)
		m.mu.Unlock()
		for _, tk := range tasks {
			m.goOwned(func() { m.run(tk) })
		}
		for _, w := range wires {
			m.sendSync(w)
		}
		if !wake.IsZero() {
			timer.Reset(wake.Sub(now))
		}
		select {
		case <-m.base.Done():
			return
		case <-m.kick:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// run performs one task and reports its result to the tracker.
func (m *Member) run(tk task) {
	switch tk.kind {
	case taskPublication:
		res := m.fetchPublication(tk)
		m.mu.Lock()
		ds := m.tr.onPublication(tk, res, time.Now())
		m.queue = append(m.queue, ds...)
		m.mu.Unlock()
		if len(ds) > 0 {
			signal(m.deliverKick)
		}
	case taskSnapshots:
		failed := !m.fetchSnapshots(tk)
		m.mu.Lock()
		m.tr.onSnapDone(tk.id, failed, time.Now())
		m.mu.Unlock()
	}
	signal(m.kick)
}

// deliverLoop hands settled publications to OnPublication in order and
// records them as delivered, which is what the saved state covers.
func (m *Member) deliverLoop() {
	for {
		select {
		case <-m.base.Done():
			return
		case <-m.deliverKick:
		}
		for {
			m.mu.Lock()
			batch := m.queue
			m.queue = nil
			m.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, d := range batch {
				if m.base.Err() != nil {
					return // not delivered: the saved state does not cover it
				}
				if d.name != nil && m.cfg.OnPublication != nil {
					m.cfg.OnPublication(m.base, m.cfg.Group.Clone(), d.name, d.content)
				}
				m.mu.Lock()
				if d.name != nil {
					m.stats.Delivered++
				}
				m.tr.onDelivered(d.id, d.upTo)
				m.mu.Unlock()
				signal(m.saveKick)
			}
		}
	}
}

// saveLoop persists the state when it changed, at most once per
// SaveInterval. A failed save is retried after SaveInterval.
func (m *Member) saveLoop() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-m.base.Done():
			return
		case <-m.saveKick:
		}
		if wait := m.cfg.SaveInterval - time.Since(last); wait > 0 {
			timer.Reset(wait)
			select {
			case <-m.base.Done():
				return
			case <-timer.C:
			}
		}
		m.mu.Lock()
		if !m.tr.dirty {
			m.mu.Unlock()
			continue
		}
		state := encodeState(m.tr.save())
		m.mu.Unlock()
		last = time.Now()
		if err := m.cfg.Sink.SaveState(m.base, m.cfg.Group, state); err != nil {
			m.mu.Lock()
			m.tr.dirty = true // saved again by Close or the next round
			if m.base.Err() == nil {
				m.stats.SinkErrors++
			}
			m.mu.Unlock()
			if m.base.Err() != nil {
				return
			}
			m.log.Warn("save state failed; will retry", "err", err)
			signal(m.saveKick)
		}
	}
}
