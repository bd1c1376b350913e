package session

import (
	"container/list"
	"fmt"
	"sync"
	"time"
)

// TableConfig configures a Table. A zero field means "use the default" from
// DefaultTableConfig; negative values are invalid (see Validate).
type TableConfig struct {
	// MaxSessions bounds how many sessions the table holds. Default 10000.
	// When full, Put first drops idle and expired sessions, then the least
	// recently used one.
	MaxSessions int
	// MaxSessionsPerIdentity bounds how many sessions one identity may hold,
	// so one caller cannot push everyone else's sessions out. Default 64.
	// When reached, Put drops that identity's least recently used session.
	MaxSessionsPerIdentity int
	// IdleTimeout is how long a session may go without a Get before it is
	// dropped. Default 5m.
	IdleTimeout time.Duration
	// Lifetime is the session lifetime a service grants: pass it to
	// ServerAccept. The Table itself only reads each session's own expiry.
	// Default 1h (DefaultLifetime).
	Lifetime time.Duration
	// HandshakesPerMinute is the steady rate of handshakes AllowHandshake
	// lets one identity start. Default 60.
	HandshakesPerMinute int
	// HandshakeBurst is how many handshakes an identity may start at once
	// (the token bucket's size). Default 10.
	HandshakeBurst int
	// MaxIdentities bounds how many identities' rate-limit buckets are kept.
	// Default 4096. When full, the least recently used bucket is dropped;
	// that identity starts again with a full bucket, so a flood from one
	// identity (whose bucket stays in use) stays limited.
	MaxIdentities int
}

// DefaultTableConfig returns the values NewTable uses for zero fields.
func DefaultTableConfig() TableConfig {
	return TableConfig{
		MaxSessions:            10000,
		MaxSessionsPerIdentity: 64,
		IdleTimeout:            5 * time.Minute,
		Lifetime:               DefaultLifetime,
		HandshakesPerMinute:    60,
		HandshakeBurst:         10,
		MaxIdentities:          4096,
	}
}

// Validate returns an error naming the first negative field, or nil. Zero
// fields are valid (they mean the default).
func (c TableConfig) Validate() error {
	switch {
	case c.MaxSessions < 0:
		return fmt.Errorf("session: TableConfig.MaxSessions %d is negative", c.MaxSessions)
	case c.MaxSessionsPerIdentity < 0:
		return fmt.Errorf("session: TableConfig.MaxSessionsPerIdentity %d is negative", c.MaxSessionsPerIdentity)
	case c.IdleTimeout < 0:
		return fmt.Errorf("session: TableConfig.IdleTimeout %v is negative", c.IdleTimeout)
	case c.Lifetime < 0:
		return fmt.Errorf("session: TableConfig.Lifetime %v is negative", c.Lifetime)
	case c.HandshakesPerMinute < 0:
		return fmt.Errorf("session: TableConfig.HandshakesPerMinute %d is negative", c.HandshakesPerMinute)
	case c.HandshakeBurst < 0:
		return fmt.Errorf("session: TableConfig.HandshakeBurst %d is negative", c.HandshakeBurst)
	case c.MaxIdentities < 0:
		return fmt.Errorf("session: TableConfig.MaxIdentities %d is negative", c.MaxIdentities)
	}
	return nil
}

func (c TableConfig) withDefaults() TableConfig {
	d := DefaultTableConfig()
	def := func(v *int, dv int) {
		if *v == 0 {
			*v = dv
		}
	}
	def(&c.MaxSessions, d.MaxSessions)
	def(&c.MaxSessionsPerIdentity, d.MaxSessionsPerIdentity)
	def(&c.HandshakesPerMinute, d.HandshakesPerMinute)
	def(&c.HandshakeBurst, d.HandshakeBurst)
	def(&c.MaxIdentities, d.MaxIdentities)
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.Lifetime == 0 {
		c.Lifetime = d.Lifetime
	}
	return c
}

// Table holds the sessions of one end, keyed by K: the session id
// ([16]byte) on a service, the service name (string) on a client. It
// bounds their number, drops expired and idle ones, and rate-limits
// handshakes per identity. Every session it drops is closed, which erases
// its keys.
//
// Table is a pure state machine: the caller passes the current time, and it
// starts no goroutine and sets no timer; call Sweep now and then (say every
// IdleTimeout/2) to drop sessions nobody asks for. Safe for concurrent use.
// It never holds its lock while calling into a Session except Expired,
// which takes no lock.
type Table[K comparable] struct {
	cfg TableConfig

	// mu guards the fields below.
	mu          sync.Mutex
	sessions    map[K]*list.Element // of *tableEntry[K]
	lru         list.List           // front = most recently used
	perIdentity map[string]int
	buckets     map[string]*list.Element // of *bucket
	bucketLRU   list.List                // front = most recently used
}

type tableEntry[K comparable] struct {
	key      K
	s        *Session
	identity string
	lastUsed time.Time
}

// bucket is one identity's handshake token bucket, kept as the generic
// cell rate algorithm (GCRA) does: tat is the time at which the bucket will
// be full again. Integer time, so no rounding drift.
type bucket struct {
	identity string
	tat      time.Time
}

// NewTable returns an empty Table configured by cfg (zero fields take
// DefaultTableConfig's values), or cfg.Validate's error. No I/O.
func NewTable[K comparable](cfg TableConfig) (*Table[K], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Table[K]{
		cfg:         cfg.withDefaults(),
		sessions:    make(map[K]*list.Element),
		perIdentity: make(map[string]int),
		buckets:     make(map[string]*list.Element),
	}, nil
}

// Config returns the table's configuration with defaults filled in.
func (t *Table[K]) Config() TableConfig { return t.cfg }

// Put stores s under key for identity (the authenticated name of the peer
// that made the handshake, which MaxSessionsPerIdentity counts), as used
// at now. A session already under key is replaced and closed, unless it is
// s. To make room it drops idle and expired sessions from the least
// recently used end, then the identity's least recently used session if it
// is at MaxSessionsPerIdentity, then the table's least recently used if it
// is at MaxSessions; all dropped sessions are closed (after the table lock
// is released). The Table owns s from now on; s must not be in the table
// under another key. A nil s is ignored.
func (t *Table[K]) Put(key K, s *Session, identity string, now time.Time) {
	if s == nil {
		return
	}
	var dropped []*Session
	t.mu.Lock()
	if el, ok := t.sessions[key]; ok {
		e := el.Value.(*tableEntry[K])
		if e.s != s {
			dropped = append(dropped, e.s)
		}
		t.unlink(el)
	}
	dropped = t.dropStale(now, dropped)
	if t.perIdentity[identity] >= t.cfg.MaxSessionsPerIdentity {
		for el := t.lru.Back(); el != nil; el = el.Prev() {
			if e := el.Value.(*tableEntry[K]); e.identity == identity {
				dropped = append(dropped, e.s)
				t.unlink(el)
				break
			}
		}
	}
	if len(t.sessions) >= t.cfg.MaxSessions {
		dropped = t.sweep(now, dropped)
		for len(t.sessions) >= t.cfg.MaxSessions {
			el := t.lru.Back()
			dropped = append(dropped, el.Value.(*tableEntry[K]).s)
			t.unlink(el)
		}
	}
	t.sessions[key] = t.lru.PushFront(&tableEntry[K]{key: key, s: s, identity: identity, lastUsed: now})
	t.perIdentity[identity]++
	t.mu.Unlock()
	closeAll(dropped)
}

// Get returns the session under key and marks it used at now. If it has
// expired or been idle for IdleTimeout, Get drops and closes it and returns
// nil, false. The Session stays owned by the table: the caller must not
// Close it (use Remove).
func (t *Table[K]) Get(key K, now time.Time) (*Session, bool) {
	t.mu.Lock()
	el, ok := t.sessions[key]
	if !ok {
		t.mu.Unlock()
		return nil, false
	}
	e := el.Value.(*tableEntry[K])
	if t.stale(e, now) {
		t.unlink(el)
		t.mu.Unlock()
		e.s.Close()
		return nil, false
	}
	if now.After(e.lastUsed) {
		e.lastUsed = now
	}
	t.lru.MoveToFront(el)
	t.mu.Unlock()
	return e.s, true
}

// Remove drops and closes the session under key, reporting whether there
// was one.
func (t *Table[K]) Remove(key K) bool {
	t.mu.Lock()
	el, ok := t.sessions[key]
	if !ok {
		t.mu.Unlock()
		return false
	}
	s := el.Value.(*tableEntry[K]).s
	t.unlink(el)
	t.mu.Unlock()
	s.Close()
	return true
}

// AllowHandshake reports whether identity may start a handshake at now,
// taking a token from its bucket if so: HandshakeBurst at once, then
// HandshakesPerMinute. Call it after authenticating the handshake Interest
// and before ServerAccept, so a flood costs one Ed25519 verification per
// Interest and no key agreement. A clock that steps back adds no tokens.
func (t *Table[K]) AllowHandshake(identity string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.buckets[identity]
	if !ok {
		for len(t.buckets) >= t.cfg.MaxIdentities {
			old := t.bucketLRU.Back()
			delete(t.buckets, old.Value.(*bucket).identity)
			t.bucketLRU.Remove(old)
		}
		el = t.bucketLRU.PushFront(&bucket{identity: identity, tat: now})
		t.buckets[identity] = el
	} else {
		t.bucketLRU.MoveToFront(el)
	}
	b := el.Value.(*bucket)
	interval := time.Minute / time.Duration(t.cfg.HandshakesPerMinute)
	tau := time.Duration(t.cfg.HandshakeBurst-1) * interval
	tat := b.tat
	if tat.Before(now) {
		tat = now
	}
	if tat.Sub(now) > tau { // also when now stepped back: no tokens earned
		return false
	}
	b.tat = tat.Add(interval)
	return true
}

// Len returns how many sessions the table holds, including any that have
// expired or gone idle since the last Put, Get or Sweep.
func (t *Table[K]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sessions)
}

// Sweep drops and closes every session that has expired or been idle for
// IdleTimeout at now, and forgets rate-limit buckets that have refilled
// (they hold no information). It returns how many sessions it dropped.
// O(sessions + identities).
func (t *Table[K]) Sweep(now time.Time) int {
	t.mu.Lock()
	dropped := t.sweep(now, nil)
	for el := t.bucketLRU.Back(); el != nil; {
		prev := el.Prev()
		if b := el.Value.(*bucket); !b.tat.After(now) { // full again
			delete(t.buckets, b.identity)
			t.bucketLRU.Remove(el)
		}
		el = prev
	}
	t.mu.Unlock()
	closeAll(dropped)
	return len(dropped)
}

// Close drops and closes every session, erasing their keys, and forgets
// all buckets; the table stays usable. Call it when the service or client
// shuts down, for forward secrecy.
func (t *Table[K]) Close() {
	t.mu.Lock()
	var dropped []*Session
	for el := t.lru.Front(); el != nil; el = el.Next() {
		dropped = append(dropped, el.Value.(*tableEntry[K]).s)
	}
	t.sessions = make(map[K]*list.Element)
	t.lru.Init()
	t.perIdentity = make(map[string]int)
	t.buckets = make(map[string]*list.Element)
	t.bucketLRU.Init()
	t.mu.Unlock()
	closeAll(dropped)
}

// stale reports whether e should be dropped at now. t.mu must be held.
func (t *Table[K]) stale(e *tableEntry[K], now time.Time) bool {
	return e.s.Expired(now) || now.Sub(e.lastUsed) >= t.cfg.IdleTimeout
}

// dropStale unlinks stale sessions from the least recently used end, which
// is where idle ones collect, stopping at the first fresh one. t.mu must be
// held.
func (t *Table[K]) dropStale(now time.Time, dropped []*Session) []*Session {
	for el := t.lru.Back(); el != nil; el = t.lru.Back() {
		e := el.Value.(*tableEntry[K])
		if !t.stale(e, now) {
			break
		}
		dropped = append(dropped, e.s)
		t.unlink(el)
	}
	return dropped
}

// sweep unlinks every stale session. t.mu must be held.
func (t *Table[K]) sweep(now time.Time, dropped []*Session) []*Session {
	for el := t.lru.Back(); el != nil; {
		prev := el.Prev()
		if e := el.Value.(*tableEntry[K]); t.stale(e, now) {
			dropped = append(dropped, e.s)
			t.unlink(el)
		}
		el = prev
	}
	return dropped
}

// unlink removes el from the table without closing its session. t.mu must
// be held.
func (t *Table[K]) unlink(el *list.Element) {
	e := el.Value.(*tableEntry[K])
	delete(t.sessions, e.key)
	t.lru.Remove(el)
	if n := t.perIdentity[e.identity] - 1; n > 0 {
		t.perIdentity[e.identity] = n
	} else {
		delete(t.perIdentity, e.identity)
	}
}

func closeAll(ss []*Session) {
	for _, s := range ss {
		s.Close()
	}
}
