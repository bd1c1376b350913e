package svs

import (
	"slices"
	"strconv"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

// Status is what a member knows of another member.
type Status uint8

// Member statuses.
const (
	// StatusNone is the zero Status: not a member. A MemberEvent whose
	// Previous is StatusNone announces a new member; one whose
	// Member.Status is StatusNone, a member forgotten after ReapAfter.
	StatusNone Status = iota
	// StatusAlive: heard from within SuspectAfter.
	StatusAlive
	// StatusSuspect: silent for SuspectAfter, not yet for FailedAfter.
	StatusSuspect
	// StatusFailed: silent for FailedAfter. A failed member that is heard
	// again becomes alive.
	StatusFailed
	// StatusLeft: it announced that it left. Only a new incarnation (it
	// joins again) makes it alive again.
	StatusLeft
)

// String returns "none", "alive", "suspect", "failed" or "left".
func (s Status) String() string {
	switch s {
	case StatusNone:
		return "none"
	case StatusAlive:
		return "alive"
	case StatusSuspect:
		return "suspect"
	case StatusFailed:
		return "failed"
	case StatusLeft:
		return "left"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Member is one member of a group as this member sees it.
type Member struct {
	// Name is the member's identity name.
	Name enc.Name
	// Status is its status.
	Status Status
	// LastHeard is when it was last heard from: a verified publication or
	// Sync Interest of it, or an answer it sent. For this member itself,
	// the time Members was called.
	LastHeard time.Time
	// Since is when it entered Status.
	Since time.Time
	// Boot is its incarnation: the bootstrap time (Unix seconds) it
	// joined with, new each time it joins.
	Boot uint64
}

// MemberEvent is a change of a member's status.
type MemberEvent struct {
	// Member is the member after the change.
	Member Member
	// Previous is its status before (StatusNone for a new member).
	Previous Status
}

// coreConfig holds what the membership core needs from Config.
type coreConfig struct {
	self        enc.Name
	boot        uint64 // this member's boot (Unix seconds)
	suspect     time.Duration
	failed      time.Duration
	reap        time.Duration
	maxMembers  int
	window      int
	retryMin    time.Duration
	retryMax    time.Duration
	maxFailures int
}

// core is the group's protocol state machine: membership (statuses, last
// heard, failure detection by silence) and which publications to fetch.
// It does no I/O and reads no clock; the caller passes the time in and
// acts on what it returns. Not safe for concurrent use (Group.mu guards
// it).
type core struct {
	cfg      coreConfig
	selfKey  string
	self     *memberState
	members  map[string]*memberState
	streams  map[string]*stream
	inflight int
	changes  []MemberEvent // not yet taken by the caller
	missed   uint64        // publications skipped because they were gone
	ignored  uint64        // names ignored because MaxMembers was reached
}

type memberState struct {
	name      enc.Name
	boot      uint64
	status    Status
	lastHeard time.Time
	since     time.Time
}

func (m *memberState) export() Member {
	return Member{Name: m.name.Clone(), Status: m.status, LastHeard: m.lastHeard, Since: m.since, Boot: m.boot}
}

// stream is the fetching progress of one name's publications.
type stream struct {
	name     enc.Name
	boot     uint64
	next     uint64 // next sequence number to fetch
	high     uint64 // highest announced
	inflight bool
	failures int
	retryAt  time.Time
	parked   bool // stopped retrying until announced or heard again
}

// fetchTask is one publication to fetch.
type fetchTask struct {
	key  string
	name enc.Name
	boot uint64
	seq  uint64
}

// fetchOutcome is how a fetch ended.
type fetchOutcome uint8

const (
	fetchOK       fetchOutcome = iota // verified publication
	fetchGone                         // the member no longer keeps it
	fetchFailed                       // network: retry with backoff
	fetchRejected                     // verification, policy or decoding failed
	fetchAborted                      // the group is closing
)

func newCore(cfg coreConfig, now time.Time) *core {
	c := &core{
		cfg:     cfg,
		selfKey: nameKey(cfg.self),
		members: map[string]*memberState{},
		streams: map[string]*stream{},
	}
	c.self = &memberState{name: cfg.self.Clone(), boot: cfg.boot, status: StatusAlive, lastHeard: now, since: now}
	return c
}

func (c *core) change(m *memberState, to Status, now time.Time) {
	if m.status == to {
		return
	}
	prev := m.status
	m.status, m.since = to, now
	c.changes = append(c.changes, MemberEvent{Member: m.export(), Previous: prev})
}

// takeChanges returns the status changes since the last call.
func (c *core) takeChanges() []MemberEvent {
	ch := c.changes
	c.changes = nil
	return ch
}

// announce records that name's incarnation boot has published up to high
// (a state vector update). On first sight of a name, only its latest
// publication is fetched, unless it booted no earlier than a second
// before this member: publications made before this member joined are not
// its business.
func (c *core) announce(name enc.Name, boot, high uint64, now time.Time) {
	key := nameKey(name)
	if key == c.selfKey {
		return
	}
	s := c.streams[key]
	if s != nil && boot < s.boot {
		return // an older incarnation
	}
	if s != nil && boot == s.boot {
		s.high = max(s.high, high)
		s.unpark(now)
		return
	}
	if s == nil && len(c.streams) >= c.cfg.maxMembers {
		c.ignored++
		return
	}
	next := high
	if boot+1 >= c.cfg.boot {
		next = 1
	}
	if s != nil && s.inflight {
		c.inflight-- // its result will be dropped as stale
	}
	c.streams[key] = &stream{name: name.Clone(), boot: boot, next: next, high: high, retryAt: now}
}

func (s *stream) unpark(now time.Time) {
	if s.parked {
		s.parked, s.failures, s.retryAt = false, 0, now
	}
}

// heard records that name proved to be alive now (a verified Sync
// Interest or answer signed by it).
func (c *core) heard(name enc.Name, now time.Time) {
	key := nameKey(name)
	m := c.members[key]
	if m == nil || m.status == StatusLeft {
		return
	}
	m.lastHeard = now
	c.change(m, StatusAlive, now)
	if s := c.streams[key]; s != nil {
		s.unpark(now)
	}
}

// plan returns the fetches to start now, within the window. Each stream
// has at most one fetch in flight, so a member's publications are
// processed in order.
func (c *core) plan(now time.Time) []fetchTask {
	var tasks []fetchTask
	for key, s := range c.streams {
		if c.inflight >= c.cfg.window {
			break
		}
		if s.inflight || s.parked || s.next > s.high || now.Before(s.retryAt) {
			continue
		}
		s.inflight = true
		c.inflight++
		tasks = append(tasks, fetchTask{key: key, name: s.name, boot: s.boot, seq: s.next})
	}
	return tasks
}

// fetched records how fetching t ended. For a verified publication p, it
// updates the member and returns the records to act on (events, queries);
// a Leave record makes it left.
func (c *core) fetched(t fetchTask, out fetchOutcome, p *publication, now time.Time) []record {
	s := c.streams[t.key]
	if s == nil || s.boot != t.boot || !s.inflight {
		return nil // superseded by a newer incarnation, or reaped
	}
	s.inflight = false
	c.inflight--
	switch out {
	case fetchAborted:
		return nil
	case fetchFailed, fetchRejected:
		s.failures++
		if out == fetchRejected {
			s.failures = c.cfg.maxFailures
		}
		backoff := c.cfg.retryMin << min(s.failures-1, 16)
		s.retryAt = now.Add(min(backoff, c.cfg.retryMax))
		if s.failures >= c.cfg.maxFailures {
			s.parked = true
		}
		return nil
	case fetchGone:
		c.missed++
	}
	s.next = t.seq + 1
	s.failures = 0
	m := c.members[t.key]
	switch {
	case m == nil:
		if len(c.members) >= c.cfg.maxMembers {
			c.ignored++
			return nil
		}
		m = &memberState{name: s.name, boot: t.boot, lastHeard: now}
		c.members[t.key] = m
		c.change(m, StatusAlive, now)
	case t.boot > m.boot:
		m.boot, m.lastHeard = t.boot, now
		c.change(m, StatusAlive, now)
	case t.boot < m.boot, m.status == StatusLeft:
		return nil
	default:
		m.lastHeard = now
		c.change(m, StatusAlive, now)
	}
	if p == nil {
		return nil
	}
	var acts []record
	for _, r := range p.records {
		switch r.kind {
		case recLeave:
			c.change(m, StatusLeft, now)
			s.parked = true
			return acts // nothing after a Leave counts
		case recEvent, recQuery:
			acts = append(acts, r)
		}
	}
	return acts
}

// tick applies failure detection and reaping at now.
func (c *core) tick(now time.Time) {
	for key, m := range c.members {
		silent := now.Sub(m.lastHeard)
		switch m.status {
		case StatusAlive, StatusSuspect:
			if silent >= c.cfg.failed {
				c.change(m, StatusFailed, now)
			} else if silent >= c.cfg.suspect {
				c.change(m, StatusSuspect, now)
			}
		case StatusFailed, StatusLeft:
			if now.Sub(m.since) >= c.cfg.reap {
				prev := m.status
				m.status, m.since = StatusNone, now
				c.changes = append(c.changes, MemberEvent{Member: m.export(), Previous: prev})
				delete(c.members, key)
				if s := c.streams[key]; s != nil {
					if s.inflight {
						c.inflight--
					}
					delete(c.streams, key)
				}
			}
		}
	}
}

// nextWake is when tick or plan next has something to do, or the zero
// time if nothing is scheduled (an announcement or a finished fetch will
// wake the caller).
func (c *core) nextWake(now time.Time) time.Time {
	var wake time.Time
	at := func(t time.Time) {
		if wake.IsZero() || t.Before(wake) {
			wake = t
		}
	}
	for _, m := range c.members {
		switch m.status {
		case StatusAlive:
			at(m.lastHeard.Add(c.cfg.suspect))
		case StatusSuspect:
			at(m.lastHeard.Add(c.cfg.failed))
		case StatusFailed, StatusLeft:
			at(m.since.Add(c.cfg.reap))
		}
	}
	if c.inflight < c.cfg.window {
		for _, s := range c.streams {
			if !s.inflight && !s.parked && s.next <= s.high {
				at(s.retryAt)
			}
		}
	}
	return wake
}

// reachable counts the members alive or suspect.
func (c *core) reachable() int {
	n := 0
	for _, m := range c.members {
		if m.status == StatusAlive || m.status == StatusSuspect {
			n++
		}
	}
	return n
}

// leave marks this member itself as left.
func (c *core) leave(now time.Time) { c.change(c.self, StatusLeft, now) }

// list returns every member, this one included, sorted by name (URI).
func (c *core) list(now time.Time) []Member {
	out := make([]Member, 0, len(c.members)+1)
	self := c.self.export()
	if self.Status == StatusAlive {
		self.LastHeard = now
	}
	out = append(out, self)
	for _, m := range c.members {
		out = append(out, m.export())
	}
	// By URI: what people read (NDN's canonical order puts /b before /aa).
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name.String(), b.Name.String()) })
	return out
}
