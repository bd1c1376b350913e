package security

import (
	"container/heap"
	"container/list"
	"fmt"
	"sync"
	"time"
)

// replayMaxNonceLen is the longest SignatureNonce Accept takes. ndn-cxx signs
// with 8 random bytes; 64 leaves room for any sane client and bounds the
// memory one remembered nonce costs.
const replayMaxNonceLen = 64

// ReplayConfig configures a ReplayGuard. A zero field means "use the default"
// from DefaultReplayConfig; negative values are invalid (see Validate).
type ReplayConfig struct {
	// GracePeriod is how far a signed Interest's SignatureTime may be from the
	// verifier's clock, in either direction, and therefore also how long a
	// nonce is remembered. Default 60s. A longer period tolerates worse clock
	// skew but holds each nonce longer, so MaxNoncesPerKey fills sooner.
	GracePeriod time.Duration
	// MaxKeys bounds how many signing keys the guard keeps a record for.
	// Default 4096. When full, the least recently accepted key's record is
	// evicted; see ReplayGuard for what that costs.
	MaxKeys int
	// MaxNoncesPerKey bounds how many nonces are remembered per key. Default
	// 1024 (a key may make 1024 calls per grace period before reordered late
	// arrivals risk rejection). When full, the oldest nonces are forgotten and the key's time
	// floor is raised past them; see ReplayGuard. Worst-case memory is about
	// MaxKeys * MaxNoncesPerKey * (nonce length + ~80 bytes): about 400 MB at
	// the defaults, reachable only by 4096 certified keys each making 1024
	// calls within one grace period.
	MaxNoncesPerKey int
	// RequireSeqNum makes SignatureSeqNum mandatory. Default false: a
	// sequence number is checked only when the Interest carries one.
	RequireSeqNum bool
}

// DefaultReplayConfig returns the configuration NewReplayGuard uses for zero
// fields: a 60s grace period, 4096 keys and 1024 nonces per key, sequence
// numbers optional.
func DefaultReplayConfig() ReplayConfig {
	return ReplayConfig{
		GracePeriod:     60 * time.Second,
		MaxKeys:         4096,
		MaxNoncesPerKey: 1024,
	}
}

// Validate reports whether c is usable: it returns a non-nil error naming the
// first negative field. Zero fields are valid (they mean the default).
func (c ReplayConfig) Validate() error {
	switch {
	case c.GracePeriod < 0:
		return fmt.Errorf("security: ReplayConfig.GracePeriod %v is negative", c.GracePeriod)
	case c.MaxKeys < 0:
		return fmt.Errorf("security: ReplayConfig.MaxKeys %d is negative", c.MaxKeys)
	case c.MaxNoncesPerKey < 0:
		return fmt.Errorf("security: ReplayConfig.MaxNoncesPerKey %d is negative", c.MaxNoncesPerKey)
	}
	return nil
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c ReplayConfig) withDefaults() ReplayConfig {
	d := DefaultReplayConfig()
	if c.GracePeriod == 0 {
		c.GracePeriod = d.GracePeriod
	}
	if c.MaxKeys == 0 {
		c.MaxKeys = d.MaxKeys
	}
	if c.MaxNoncesPerKey == 0 {
		c.MaxNoncesPerKey = d.MaxNoncesPerKey
	}
	return c
}

// ReplayInput is what Accept needs from a signed Interest whose signature has
// already been verified. Accept does not retain Nonce or SeqNum: it copies
// what it keeps, so the caller may reuse the buffers once Accept returns.
type ReplayInput struct {
	// Key identifies the signing key, normally its KeyLocator name in URI
	// form. Every rule below is applied per Key.
	Key string
	// SigTime is the InterestSignatureInfo's SignatureTime. The zero Time
	// means the field was absent.
	SigTime time.Time
	// Nonce is the SignatureNonce, 1 to 64 bytes. Nil or empty means absent.
	Nonce []byte
	// SeqNum is the SignatureSeqNum, or nil when absent.
	SeqNum *uint64
}

// ReplayGuard rejects replayed signed Interests (NDN packet format v0.3,
// InterestSignatureInfo). It is a pure state machine: the caller passes the
// current time to every call and nothing happens between calls.
//
// # Rule
//
// Accept takes an Interest signed by key K iff all of these hold:
//
//	|SignatureTime - now| <= GracePeriod
//	SignatureTime > floor(K)
//	SignatureNonce has not been seen for K
//	SignatureSeqNum > lastSeq(K)   (when present; required if RequireSeqNum)
//
// This deliberately differs from ndn-cxx's ValidationPolicySignedInterest,
// which demands strictly increasing SignatureTime per key. That rule rejects
// a client's concurrent calls whenever a multi-threaded forwarder reorders
// them; here any order inside the grace window is accepted and the nonce
// alone catches a replay. floor(K) only rises when the guard has to forget
// something about K (below), so in normal operation it is not a constraint.
//
// # Memory and forgetting
//
// Nonces are remembered per key together with their SignatureTime for as long
// as they could still pass the time check. A replay inside the window fails on
// the nonce; a replay outside it fails on time. Whenever the guard forgets a
// nonce it first raises floor(K) to that nonce's SignatureTime, so it fails
// closed: forgetting never lets a replay through. This covers
//
//   - expiry: a nonce older than now-GracePeriod is dropped. The floor raise
//     costs nothing when now only moves forward, and keeps the guard safe if
//     a caller's now moves backwards.
//   - the per-key bound: when MaxNoncesPerKey nonces are held, the oldest (by
//     SignatureTime) are forgotten. Then a legitimate Interest from K that is
//     older than the forgotten one, e.g. a reordered concurrent call, is
//     rejected too.
//   - the key bound: when MaxKeys records are held, the least recently used
//     key's record is evicted and a guard-wide unknownFloor is raised to the
//     record's newest accepted SignatureTime (or its floor, if larger). Keys
//     without a record must have SignatureTime > unknownFloor, and a new
//     record starts with floor = unknownFloor. Under a flood of distinct
//     valid keys, legitimate clients whose clocks lag behind the flood's
//     newest timestamps are therefore rejected until their time passes it:
//     the guard fails closed rather than open. Records idle for longer than
//     GracePeriod are also dropped this way, which costs nothing then.
//
// Memory is O(MaxKeys * MaxNoncesPerKey) and each Accept is O(log
// MaxNoncesPerKey) amortized.
//
// SignatureSeqNum monotonicity is kept while K has a record; an evicted or
// idle-dropped record restarts it. Replay protection never depends on it.
//
// # Use
//
// Call Accept only after the Interest's signature has been verified:
// otherwise anyone could forge Interests under K's name, fill K's nonce set
// and raise floor(K) or unknownFloor, locking K out. Accept is atomic (the
// checks and the recording happen under one lock), so of two concurrent
// deliveries of the same Interest exactly one is accepted.
//
// A client that retransmits a call must re-sign it with a fresh nonce and
// SignatureTime; the rpc layer de-duplicates retransmissions by request id. A
// byte-identical resend is a replay here and is rejected.
//
// A ReplayGuard is safe for concurrent use.
type ReplayGuard struct {
	cfg ReplayConfig // immutable after NewReplayGuard

	mu sync.Mutex
	// records maps a key to its element in lru, whose Value is *replayRecord.
	records map[string]*list.Element
	// lru orders records from most (front) to least (back) recently accepted.
	lru *list.List
	// unknownFloor is the floor for keys without a record: the newest time
	// any evicted record had accepted.
	unknownFloor time.Time
	// nonces counts the nonces held over all records.
	nonces int
}

// replayRecord is what the guard remembers about one key.
type replayRecord struct {
	key string
	// floor: a SignatureTime at or before it is rejected.
	floor time.Time
	// newest is the largest SignatureTime accepted for the key.
	newest time.Time
	// seen holds the remembered nonces; byTime orders the same nonces by
	// SignatureTime, oldest first, for expiry and the per-key bound.
	seen   map[string]struct{}
	byTime replayNonceHeap
	// lastSeq is the largest SignatureSeqNum accepted, if hasSeq.
	lastSeq uint64
	hasSeq  bool
}

// NewReplayGuard returns an empty guard using cfg, with zero fields set to
// their defaults. It returns cfg.Validate's error if cfg is invalid.
func NewReplayGuard(cfg ReplayConfig) (*ReplayGuard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &ReplayGuard{
		cfg:     cfg.withDefaults(),
		records: make(map[string]*list.Element),
		lru:     list.New(),
	}, nil
}

// Accept decides whether the verified signed Interest described by in is
// fresh at time now (the verifier's wall clock), and if so records it so that
// it is rejected from then on. It returns nil when the Interest is accepted,
// or an error wrapping (errors.Is)
//
//   - ErrTimeSkew: SignatureTime is absent or further than GracePeriod from
//     now.
//   - ErrReplay: SignatureNonce is absent or longer than 64 bytes, the nonce
//     was already seen for the key, SignatureTime is not after the key's
//     floor, SignatureSeqNum is absent while RequireSeqNum is set, or it is
//     not greater than the key's last one.
//
// Both also match ErrUnauthenticated. A rejected Interest is not recorded.
// Accept does not block beyond the guard's mutex and does not retain in's
// slices.
func (g *ReplayGuard) Accept(now time.Time, in ReplayInput) error {
	// Compare wall clocks only: SignatureTime has no monotonic reading.
	now = now.Round(0)
	sigTime := in.SigTime.Round(0)
	if sigTime.IsZero() {
		return fmt.Errorf("%w: signature time missing", ErrTimeSkew)
	}
	if d := sigTime.Sub(now); d > g.cfg.GracePeriod || d < -g.cfg.GracePeriod {
		return fmt.Errorf("%w: signature time is %v from now, grace period %v", ErrTimeSkew, d, g.cfg.GracePeriod)
	}
	switch n := len(in.Nonce); {
	case n == 0:
		return fmt.Errorf("%w: signature nonce missing", ErrReplay)
	case n > replayMaxNonceLen:
		return fmt.Errorf("%w: signature nonce is %d bytes, max %d", ErrReplay, n, replayMaxNonceLen)
	}
	if in.SeqNum == nil && g.cfg.RequireSeqNum {
		return fmt.Errorf("%w: signature sequence number missing", ErrReplay)
	}

	g.mu.Lock()
	defer g.mu.Unlock()

	g.dropIdle(now)

	var rec *replayRecord
	floor := g.unknownFloor
	if e, ok := g.records[in.Key]; ok {
		rec = e.Value.(*replayRecord)
		g.expire(rec, now)
		floor = rec.floor
	}
	if !sigTime.After(floor) {
		return fmt.Errorf("%w: signature time not after the key's floor", ErrReplay)
	}
	if rec != nil {
		if _, seen := rec.seen[string(in.Nonce)]; seen {
			return fmt.Errorf("%w: signature nonce already seen", ErrReplay)
		}
		if in.SeqNum != nil && rec.hasSeq && *in.SeqNum <= rec.lastSeq {
			return fmt.Errorf("%w: signature sequence number %d not after %d", ErrReplay, *in.SeqNum, rec.lastSeq)
		}
	}

	// Accepted: record it.
	if rec == nil {
		if g.lru.Len() >= g.cfg.MaxKeys {
			g.evict(g.lru.Back())
		}
		// floor, not the possibly raised g.unknownFloor: the eviction just
		// done concerned another key.
		rec = &replayRecord{key: in.Key, floor: floor, seen: make(map[string]struct{})}
		g.records[in.Key] = g.lru.PushFront(rec)
	} else {
		g.lru.MoveToFront(g.records[in.Key])
	}
	nonce := string(in.Nonce) // copies: the caller may reuse in.Nonce
	rec.seen[nonce] = struct{}{}
	heap.Push(&rec.byTime, replayNonce{t: sigTime, nonce: nonce})
	g.nonces++
	if sigTime.After(rec.newest) {
		rec.newest = sigTime
	}
	if in.SeqNum != nil {
		rec.lastSeq, rec.hasSeq = *in.SeqNum, true
	}
	for rec.byTime.Len() > g.cfg.MaxNoncesPerKey {
		g.forgetOldest(rec)
	}
	g.forgetBelowFloor(rec)
	return nil
}

// Len returns how many keys have a record and how many nonces are held over
// all of them, for tests and metrics. It is safe for concurrent use.
func (g *ReplayGuard) Len() (keys, nonces int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lru.Len(), g.nonces
}

// expired reports whether a SignatureTime t can no longer pass the time check
// at now. Sub saturates, so extreme times cannot overflow.
func (g *ReplayGuard) expired(t, now time.Time) bool {
	return now.Sub(t) > g.cfg.GracePeriod
}

// dropIdle evicts up to two least recently used records whose every nonce
// has expired. Bounded work per Accept keeps it amortized O(1); evict raises
// unknownFloor only to a time that can no longer pass the time check.
// g.mu must be held.
func (g *ReplayGuard) dropIdle(now time.Time) {
	for range 2 {
		e := g.lru.Back()
		if e == nil || !g.expired(e.Value.(*replayRecord).newest, now) {
			return
		}
		g.evict(e)
	}
}

// evict removes the record in e and raises unknownFloor past everything it
// accepted. g.mu must be held.
func (g *ReplayGuard) evict(e *list.Element) {
	rec := g.lru.Remove(e).(*replayRecord)
	delete(g.records, rec.key)
	g.nonces -= rec.byTime.Len()
	g.unknownFloor = laterOf(g.unknownFloor, laterOf(rec.newest, rec.floor))
}

// expire forgets rec's nonces that can no longer pass the time check at now.
// g.mu must be held.
func (g *ReplayGuard) expire(rec *replayRecord, now time.Time) {
	for rec.byTime.Len() > 0 && g.expired(rec.byTime[0].t, now) {
		g.forgetOldest(rec)
	}
	g.forgetBelowFloor(rec)
}

// forgetOldest forgets rec's oldest nonce, raising rec.floor to its time so
// it stays rejected. g.mu must be held and rec must hold a nonce.
func (g *ReplayGuard) forgetOldest(rec *replayRecord) {
	n := heap.Pop(&rec.byTime).(replayNonce)
	delete(rec.seen, n.nonce)
	g.nonces--
	rec.floor = laterOf(rec.floor, n.t)
}

// forgetBelowFloor forgets nonces the floor already rejects. g.mu must be
// held.
func (g *ReplayGuard) forgetBelowFloor(rec *replayRecord) {
	for rec.byTime.Len() > 0 && !rec.byTime[0].t.After(rec.floor) {
		g.forgetOldest(rec)
	}
}

// laterOf returns the later of a and b.
func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// replayNonce is a remembered nonce and its SignatureTime.
type replayNonce struct {
	t     time.Time
	nonce string
}

// replayNonceHeap is a min-heap of nonces by SignatureTime, for
// container/heap.
type replayNonceHeap []replayNonce

func (h replayNonceHeap) Len() int           { return len(h) }
func (h replayNonceHeap) Less(i, j int) bool { return h[i].t.Before(h[j].t) }
func (h replayNonceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *replayNonceHeap) Push(x any)        { *h = append(*h, x.(replayNonce)) }

func (h *replayNonceHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	old[len(old)-1] = replayNonce{} // let the nonce string be collected
	*h = old[:len(old)-1]
	return n
}
