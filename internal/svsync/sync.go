package svsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	ndnsync "github.com/named-data/ndnd/std/sync"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// This file wraps ndnd's SvSync (std/sync/svs.go), which runs the SVS v3
// protocol for us, so that its owner owns what SvSync leaves loose. SvSync
// talks to the world only through the ndn.Client and ndn.Engine it is
// given; we give it ours (syncClient, guardEngine), which:
//
//   - check every Sync Interest's Sync Data (size, TLV structure) before
//     SvSync hands it to ndnd's parser, and recover a panic there: the
//     handler runs on ndnd's engine goroutine, where a panic kills the
//     process and ndnd's parser can allocate gigabytes on 9 bytes;
//   - validate Sync Data on our own goroutines (state vector structure,
//     then Config.Check: signature chain, policy, name binding) instead of
//     ndnd's trust config, and call SvSync back only while it runs: its
//     callback blocks on a channel nobody reads once it stopped;
//   - sign Sync Data with Config.Signer;
//   - tell us when SvSync's loop has exited (it detaches its handler as its
//     last act), because SvSync.Stop does not wait for it and must not be
//     called twice (svs.go:207-212);
//   - count the Sync Interests its untracked goroutines are sending
//     (svs.go:243, 265, 421), so Stop waits for them too;
//   - drop SvSync's face-up hook, a time.AfterFunc nobody can cancel
//     (svs.go:180-182): the owner announces itself on face up instead;
//   - give ndnd's encoder a copy of the sync prefix: SvSync's goroutines
//     encode concurrently into its spare capacity (a data race, svs.go:136
//     and spec_2022/zz_generated.go:1716).

// Bounds on Stop's steps, so that it returns even if ndnd misbehaves.
const (
	// StopTimeout bounds the wait for SvSync's loop to exit.
	StopTimeout      = 5 * time.Second
	sendDrainTimeout = time.Second
)

// Defaults of Config.
const (
	defaultValidators = 2
	defaultQueue      = 64
)

// ErrBadConfig reports a Config that New cannot use.
var ErrBadConfig = errors.New("svsync: bad config")

// CheckFunc validates a Sync Data whose state vector (sv) is well formed:
// signature, certificate chain, policy, name binding. A nil error hands
// the state vector to SvSync. It runs on a validator goroutine and may
// block until ctx ends (at Stop).
type CheckFunc func(ctx context.Context, d ndn.Data, sigCov enc.Wire, sv []Entry) error

// Config configures a Sync. Node, Signer, GroupPrefix, SyncDataName,
// OnUpdate and Check are required.
type Config struct {
	// Node is the node whose engine and client SvSync uses.
	Node *ndnx.Node
	// Signer signs the Sync Data of the Sync Interests sent.
	Signer ndn.Signer
	// GroupPrefix is SvSync's group prefix, e.g. <group>/32=svs (SvSync
	// appends v=3).
	GroupPrefix enc.Name
	// SyncDataName names the Sync Data (SvSync appends a version). It
	// should have no spare capacity.
	SyncDataName enc.Name
	// BootTime is this incarnation's bootstrap time in seconds.
	BootTime uint64
	// PeriodicTimeout and SuppressionPeriod are SvSync's; zero means
	// SvSync's defaults (30s, 200ms).
	PeriodicTimeout, SuppressionPeriod time.Duration
	// OnUpdate receives SvSync's updates on SvSync's loop goroutine; it
	// must not block.
	OnUpdate func(ndnsync.SvSyncUpdate)
	// Check validates Sync Data (see CheckFunc).
	Check CheckFunc
	// Validators is the number of validator goroutines (default 2) and
	// Queue the Sync Data waiting for them (default 64). Past it, only
	// each sender's latest Sync Data is kept (it carries that sender's
	// whole state vector, so older ones add nothing), for at most
	// MaxEntries senders; the ones replaced or beyond are dropped, counted
	// in Stats.Dropped.
	Validators, Queue int
	// Logger receives warnings. Default slog.Default().
	Logger *slog.Logger
}

// Stats counts Sync Data: Accepted (handed to SvSync), Rejected
// (malformed, oversized, failed Check, or panicked ndnd's parser), Dropped
// (validation was behind).
type Stats struct {
	Accepted, Rejected, Dropped uint64
}

// Sync is one running SvSync instance. Its methods are safe for concurrent
// use.
type Sync struct {
	cfg Config
	log *slog.Logger
	svs *ndnsync.SvSync

	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	queue  chan validateJob

	// overflow holds, when queue is full, each sender's latest Sync Data
	// (by its name without the version); kick wakes a validator for it.
	overflowMu sync.Mutex
	overflow   map[string]validateJob
	kick       chan struct{}

	// gate keeps SvSync callbacks out once stopped is set (see validate).
	gate    sync.RWMutex
	stopped bool

	loopDone     chan struct{} // closed when SvSync's loop exited
	loopDoneOnce sync.Once
	sending      atomic.Int64 // Sync Interests SvSync's goroutines are sending

	accepted, rejected, dropped atomic.Uint64

	mu       sync.Mutex
	started  bool
	stopOnce sync.Once
}

// New creates SvSync with cfg; it does no I/O. Errors: ErrBadConfig (also
// when ndnd's NewSvSync panics on the options, std/sync/svs.go:91-99).
func New(cfg Config) (s *Sync, err error) {
	if cfg.Node == nil || cfg.Signer == nil || len(cfg.GroupPrefix) == 0 || len(cfg.SyncDataName) == 0 ||
		cfg.OnUpdate == nil || cfg.Check == nil {
		return nil, fmt.Errorf("%w: Node, Signer, GroupPrefix, SyncDataName, OnUpdate and Check are required", ErrBadConfig)
	}
	if cfg.Validators <= 0 {
		cfg.Validators = defaultValidators
	}
	if cfg.Queue <= 0 {
		cfg.Queue = defaultQueue
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s = &Sync{cfg: cfg, log: cfg.Logger, queue: make(chan validateJob, cfg.Queue), loopDone: make(chan struct{}),
		overflow: map[string]validateJob{}, kick: make(chan struct{}, 1)}
	s.base, s.cancel = context.WithCancel(context.Background())
	defer func() {
		if r := recover(); r != nil {
			s.cancel()
			s, err = nil, fmt.Errorf("%w: ndnd NewSvSync: %v", ErrBadConfig, r)
		}
	}()
	client := &syncClient{Client: cfg.Node.Client(), s: s, engine: &guardEngine{Engine: cfg.Node.Engine(), s: s}}
	s.svs = ndnsync.NewSvSync(ndnsync.SvSyncOpts{
		Client:            client,
		GroupPrefix:       cfg.GroupPrefix,
		OnUpdate:          cfg.OnUpdate,
		SyncDataName:      cfg.SyncDataName,
		BootTime:          cfg.BootTime,
		PeriodicTimeout:   cfg.PeriodicTimeout,
		SuppressionPeriod: cfg.SuppressionPeriod,
	})
	return s, nil
}

// Start starts the validators and SvSync, which attaches its Sync
// Interest handler (an error wrapping ndnd's ErrMultipleHandlers if this
// node already handles the group). It does not register a route or set
// the multicast strategy (ndn.Node.SetStrategy). Call it once.
func (s *Sync) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base.Err() != nil {
		return fmt.Errorf("svsync: start after stop")
	}
	for range s.cfg.Validators {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.validateLoop()
		}()
	}
	if err := s.svs.Start(); err != nil {
		return fmt.Errorf("start SVS: %w", err)
	}
	s.started = true
	return nil
}

// Stop stops the validators and SvSync, then waits (up to StopTimeout)
// for SvSync's loop to exit and for the Sync Interests its goroutines are
// sending. Idempotent; call it after the last SetSeqNo (each one starts a
// goroutine in SvSync).
func (s *Sync) Stop() {
	s.stopOnce.Do(func() {
		s.cancel()
		s.gate.Lock()
		s.stopped = true
		s.gate.Unlock()
		s.wg.Wait()
		s.mu.Lock()
		started := s.started
		s.mu.Unlock()
		if started {
			s.stopSvSync()
		}
	})
}

func (s *Sync) stopSvSync() {
	_ = s.svs.Stop()
	t := time.NewTimer(StopTimeout)
	defer t.Stop()
	select {
	case <-s.loopDone:
	case <-t.C:
		s.log.Warn("SVS loop did not stop in time")
		return
	}
	t.Reset(sendDrainTimeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for s.sending.Load() > 0 {
		select {
		case <-tick.C:
		case <-t.C:
			s.log.Debug("SVS still sending a Sync Interest at stop")
			return
		}
	}
}

// LoopDone is closed once SvSync's loop has exited.
func (s *Sync) LoopDone() <-chan struct{} { return s.loopDone }

// Sending is the number of Sync Interests SvSync's goroutines are sending
// right now.
func (s *Sync) Sending() int64 { return s.sending.Load() }

// SeqNo returns the sequence number of name in this incarnation.
func (s *Sync) SeqNo(name enc.Name) uint64 { return s.svs.GetSeqNo(name) }

// SetSeqNo announces seq for name (owned by this member): SvSync sends a
// Sync Interest at once. It fails if seq is not above the current one.
func (s *Sync) SetSeqNo(name enc.Name, seq uint64) error { return s.svs.SetSeqNo(name, seq) }

// Stats returns the counters.
func (s *Sync) Stats() Stats {
	return Stats{Accepted: s.accepted.Load(), Rejected: s.rejected.Load(), Dropped: s.dropped.Load()}
}

// syncClient is the ndn.Client SvSync sees.
type syncClient struct {
	ndn.Client
	s      *Sync
	engine *guardEngine
}

func (c *syncClient) Engine() ndn.Engine { return c.engine }

// SuggestSigner is called once per Sync Data SvSync encodes, just before
// it expresses the Sync Interest: counted in sending until Express.
func (c *syncClient) SuggestSigner(enc.Name) ndn.Signer {
	c.s.sending.Add(1)
	return c.s.cfg.Signer
}

func (c *syncClient) Validate(d ndn.Data, sigCov enc.Wire, cb func(bool, error)) {
	c.ValidateExt(ndn.ValidateExtArgs{Data: d, SigCovered: sigCov, Callback: cb})
}

// ValidateExt queues the Sync Data for a validator. It runs on ndnd's
// engine goroutine (inside SvSync's Interest handler) and never blocks.
// When the queue is full it keeps the sender's latest Sync Data aside
// instead of dropping it: dropping the last ones of a burst would leave
// the state they announce unknown until SVS's next periodic Sync
// Interest (SyncPeriod, 30 s by default).
func (c *syncClient) ValidateExt(a ndn.ValidateExtArgs) {
	j := validateJob{data: a.Data, sigCov: a.SigCovered, callback: a.Callback}
	select {
	case c.s.queue <- j:
		return
	default:
	}
	c.s.setAside(j)
}

// setAside keeps j as its sender's latest Sync Data and wakes a validator.
func (s *Sync) setAside(j validateJob) {
	name := j.data.Name()
	if len(name) == 0 {
		s.dropped.Add(1)
		return
	}
	key := name[:len(name)-1].TlvStr() // <member>/<group>/32=svs without v=<µs>
	s.overflowMu.Lock()
	_, replaced := s.overflow[key]
	kept := replaced || len(s.overflow) < MaxEntries
	if kept {
		s.overflow[key] = j
	}
	s.overflowMu.Unlock()
	if replaced || !kept {
		s.dropped.Add(1)
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// takeAside returns a Sync Data set aside, if any.
func (s *Sync) takeAside() (validateJob, bool) {
	s.overflowMu.Lock()
	defer s.overflowMu.Unlock()
	for k, j := range s.overflow {
		delete(s.overflow, k)
		return j, true
	}
	return validateJob{}, false
}

// guardEngine is the ndn.Engine SvSync sees.
type guardEngine struct {
	ndn.Engine
	s *Sync
}

// Spec hands ndnd's encoder a copy of the name (see the file comment).
func (e *guardEngine) Spec() ndn.Spec { return cloningSpec{} }

type cloningSpec struct{ spec.Spec }

func (s cloningSpec) MakeInterest(name enc.Name, cfg *ndn.InterestConfig, ap enc.Wire, sg ndn.Signer) (*ndn.EncodedInterest, error) {
	return s.Spec.MakeInterest(name.Clone(), cfg, ap, sg)
}

func (e *guardEngine) Face() ndn.Face { return guardFace{e.Engine.Face()} }

// AttachHandler wraps SvSync's Sync Interest handler with the checks ndnd's
// parser needs.
func (e *guardEngine) AttachHandler(prefix enc.Name, h ndn.InterestHandler) error {
	return e.Engine.AttachHandler(prefix, func(a ndn.InterestHandlerArgs) {
		if !e.s.acceptSyncInterest(a.Interest) {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				e.s.rejected.Add(1)
				e.s.log.Warn("SvSync panicked on a Sync Interest", "panic", fmt.Sprint(r))
			}
		}()
		h(a)
	})
}

// DetachHandler is SvSync's last act when its loop exits.
func (e *guardEngine) DetachHandler(prefix enc.Name) error {
	err := e.Engine.DetachHandler(prefix)
	e.s.loopDoneOnce.Do(func() { close(e.s.loopDone) })
	return err
}

// Express ends the count SuggestSigner started.
func (e *guardEngine) Express(i *ndn.EncodedInterest, cb ndn.ExpressCallbackFunc) error {
	defer e.s.sending.Add(-1)
	return e.Engine.Express(i, cb)
}

// guardFace drops SvSync's face-up hook (see the file comment).
type guardFace struct{ ndn.Face }

func (guardFace) OnUp(func()) (cancel func()) { return func() {} }

// acceptSyncInterest checks what SvSync is about to parse: a Sync Data of
// at most one packet whose TLV structure is whole.
func (s *Sync) acceptSyncInterest(i ndn.Interest) bool {
	ap := i.AppParam()
	if ap == nil {
		return false
	}
	n := 0
	for _, b := range ap {
		n += len(b)
	}
	if n > MaxPacket || !security.WellFormed(ap.Join()) {
		s.rejected.Add(1)
		return false
	}
	return true
}

// validateJob is a Sync Data waiting for a validator.
type validateJob struct {
	data     ndn.Data
	sigCov   enc.Wire
	callback func(bool, error)
}

func (s *Sync) validateLoop() {
	for {
		select {
		case <-s.base.Done():
			return
		case j := <-s.queue:
			s.validate(j)
		case <-s.kick:
		}
		// Then what was set aside while the queue was full, after the
		// queue (set-aside Sync Data are the newer ones).
		for len(s.queue) == 0 && s.base.Err() == nil {
			j, ok := s.takeAside()
			if !ok {
				break
			}
			s.validate(j)
		}
	}
}

// validate checks one Sync Data and hands it back to SvSync if it passes.
// Failures are counted and logged, not reported to SvSync (which would
// only log them through ndnd's global logger).
func (s *Sync) validate(j validateJob) {
	sv, err := DecodeStateVector(j.data.Content().Join())
	if err == nil {
		err = s.cfg.Check(s.base, j.data, j.sigCov, sv)
	}
	if err != nil {
		s.rejected.Add(1)
		s.log.Debug("rejected Sync Data", "err", err)
		return
	}
	s.accepted.Add(1)
	// SvSync's callback sends on a channel its loop reads (svs.go:544):
	// call it only while the loop runs. Stop takes the write lock before
	// it stops SvSync, so no callback is in flight then.
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.stopped {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Warn("SvSync panicked on a validated Sync Data", "panic", fmt.Sprint(r))
		}
	}()
	j.callback(true, nil)
}
