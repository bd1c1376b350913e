package groupsync

import (
	"math"
	"slices"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

// tracker is the Member's protocol core: the state vector of the group as
// the Member knows it, what to fetch next, the in-order settlement of what
// was fetched, SVS suppression, and the state to persist. It does no I/O
// and reads no clock (callers pass now), so it is tested step by step. It
// is not safe for concurrent use: Member guards it with its mutex.
//
// For each publisher instance (stream) it keeps, in sequence numbers:
//
//	delivered <= settled < next, settled <= latest
//
// Every publication up to settled is stored (or skipped, or absent from a
// compressed snapshot) and queued for delivery in order; up to delivered it
// was handed to OnPublication, and that is what is persisted as "known".
// Between settled and next, publications are in flight, awaiting a retry,
// or finished out of order (done). From next to latest, nothing started.
type tracker struct {
	cfg  trackerConfig
	rand func() float64 // uniform in [0, 1); for the suppression timeout

	streams  map[streamID]*stream
	order    []streamID // first-seen order, for round-robin fetching
	rr       int
	inflight int // publication fetches in flight
	snaps    int // snapshot tasks in flight

	// dirty: something to persist changed since the last save.
	dirty bool

	// SVS suppression state (passive: we answer with stored wires).
	suppressing bool
	suppressAt  time.Time
	merged      map[streamID]uint64
	// After a restart the stored wires are re-sent, so that publishers
	// tell us what we missed: resends times more, the next at resendAt,
	// until the group announces something new. More than once because the
	// forwarder drops a Sync Interest whose name (the digest of the Sync
	// Data) is still pending from when the publisher sent it, for its
	// lifetime (fw/fw/multicast.go:72-80 suppresses it; a PIT entry
	// aggregates it).
	resends   int
	resendAt  time.Time
	wireClock uint64

	// skipped counts publications given up after repeated verification
	// failures; recovered those settled from snapshots.
	skipped, recovered uint64
}

type trackerConfig struct {
	group       enc.Name      // for the names of publications from snapshots
	window      int           // publication fetches in flight, all streams
	retries     int           // see Config.Retries
	backoff     time.Duration // first retry delay
	maxBackoff  time.Duration
	snapshot    uint64 // history snapshot threshold; 0: none
	suppression time.Duration
	maxWires    int
}

// maxSnapTasks bounds snapshot tasks in flight over all streams.
const maxSnapTasks = 4

// maxSnapRange bounds the sequence numbers one snapshot may cover; a
// snapshot claiming more is treated as malformed.
const maxSnapRange = 1 << 20

type streamID struct {
	node string // nameKey of the publisher name
	boot uint64
}

type stream struct {
	node enc.Name
	boot uint64

	latest, settled, delivered, next uint64
	mtime                            time.Time // when latest last rose

	inflight map[uint64]bool
	done     map[uint64]fetched
	retry    map[uint64]*retryState

	snapKnown   uint64 // newest snapshot version stored
	snapChecked uint64 // latest when the index was last fetched
	prevChecked uint64 // snapChecked before the task in flight
	snapNeed    bool   // a publication is stuck: look in the snapshots
	snapBusy    bool
	snapFails   int
	snapAt      time.Time // no snapshot task before

	wire   []byte // newest Sync Data that announced latest
	wireAt uint64
}

type retryState struct {
	failures int // network or sink failures
	rejects  int // verification failures
	due      time.Time
	fresh    bool // fetch with MustBeFresh (after a bad packet)
}

// fetched is a publication finished out of order. name is nil when there
// is nothing to hand over (rejected, or absent from a snapshot).
type fetched struct {
	name    enc.Name
	content []byte
}

type taskKind int

const (
	taskPublication taskKind = iota
	taskSnapshots
)

// task is work for a fetch goroutine.
type task struct {
	kind  taskKind
	id    streamID
	node  enc.Name
	boot  uint64
	seq   uint64 // taskPublication
	fresh bool   // taskPublication: MustBeFresh
}

type outcome int

const (
	outcomeStored   outcome = iota // fetched, verified, stored
	outcomeRejected                // failed verification (or too large)
	outcomeFailed                  // network or sink failure: retry
	outcomeAborted                 // the member is closing
)

type pubResult struct {
	outcome outcome
	name    enc.Name
	content []byte
}

// delivery is one step of a stream's progress, in order: hand name and
// content to OnPublication (if name is set), then record upTo as delivered.
type delivery struct {
	id      streamID
	upTo    uint64
	name    enc.Name
	content []byte
}

func newTracker(cfg trackerConfig, rand func() float64) *tracker {
	return &tracker{cfg: cfg, rand: rand, streams: map[streamID]*stream{}}
}

func (t *tracker) stream(node enc.Name, boot uint64) (streamID, *stream) {
	id := streamID{node: nameKey(node), boot: boot}
	s := t.streams[id]
	if s == nil {
		s = &stream{
			node:     node.Clone(),
			boot:     boot,
			next:     1,
			inflight: map[uint64]bool{},
			done:     map[uint64]fetched{},
			retry:    map[uint64]*retryState{},
		}
		t.streams[id] = s
		t.order = append(t.order, id)
	}
	return id, s
}

// load restores saved progress; call it before anything else.
func (t *tracker) load(st *savedState) {
	for _, ss := range st.streams {
		_, s := t.stream(ss.node, ss.boot)
		s.settled, s.delivered = ss.known, ss.known
		s.next = ss.known + 1
		s.latest = max(ss.latest, ss.known)
		s.snapKnown, s.snapChecked = ss.snapKnown, ss.snapKnown
		if ss.wire >= 0 && ss.wire < len(st.wires) {
			s.wire = st.wires[ss.wire]
			// wires are saved newest first
			s.wireAt = uint64(len(st.wires) - ss.wire)
			t.wireClock = max(t.wireClock, s.wireAt)
		}
	}
	if len(st.wires) > 0 {
		t.resends = initialResends
	}
}

// initialResends and resendInterval: how often, and how far apart, the
// stored wires are re-sent after a restart (the interval exceeds the
// lifetime of a Sync Interest, syncLifetime).
const (
	initialResends = 4
	resendInterval = 1500 * time.Millisecond
)

// onVector merges a received state vector. wire is the Sync Data that
// carried it (kept for re-sending). It reports whether anything new was
// announced.
func (t *tracker) onVector(entries []svEntry, wire []byte, now time.Time) bool {
	news, outdated := false, false
	recv := make(map[streamID]uint64, len(entries))
	t.wireClock++
	for _, e := range entries {
		if !fetchable(e.node) {
			continue
		}
		id, s := t.stream(e.node, e.boot)
		recv[id] = max(recv[id], e.seq)
		switch {
		case e.seq > s.latest:
			s.latest, s.mtime = e.seq, now
			news, t.dirty = true, true
			t.resends = 0 // the group answered
		case e.seq < s.latest && now.Sub(s.mtime) > t.cfg.suppression:
			// [SVS] outdated, and not by a vector that was in flight
			// while we learnt the newer one
			outdated = true
		}
		if e.seq == s.latest && e.seq > 0 && wire != nil {
			s.wire, s.wireAt = wire, t.wireClock
		}
		if t.suppressing {
			t.merged[id] = max(t.merged[id], e.seq)
		}
	}
	for id, s := range t.streams {
		if _, ok := recv[id]; !ok && s.latest > 0 {
			outdated = true // it does not know a publisher we know
			break
		}
	}
	if outdated && !t.suppressing {
		t.suppressing = true
		t.merged = recv
		t.suppressAt = now.Add(t.suppressionTimeout())
	}
	return news
}

// suppressionTimeout is SVS v3's: c·(1 − e^((v−c)/(c/f))), v uniform in
// [0, c), f = 10.
func (t *tracker) suppressionTimeout() time.Duration {
	c := float64(t.cfg.suppression)
	v := t.rand() * c
	return time.Duration(c * (1 - math.Exp((v-c)/(c/10))))
}

// tick ends the suppression period when due, and returns the wires to
// re-send, if any: after a restart, or when the vectors heard during
// suppression were still behind ours.
func (t *tracker) tick(now time.Time) [][]byte {
	send := false
	if t.resends > 0 && !now.Before(t.resendAt) {
		send = true
		t.resends--
		t.resendAt = now.Add(resendInterval)
	}
	if t.suppressing && !now.Before(t.suppressAt) {
		t.suppressing = false
		for id, s := range t.streams {
			if s.latest > t.merged[id] {
				send = true
				break
			}
		}
		t.merged = nil
	}
	if !send {
		return nil
	}
	return t.wires()
}

// wires returns the distinct stored Sync Data wires, newest first, at most
// maxWires.
func (t *tracker) wires() [][]byte {
	type aged struct {
		w  []byte
		at uint64
	}
	var all []aged
	seen := map[string]bool{}
	for _, id := range t.order {
		s := t.streams[id]
		if s.wire == nil || seen[string(s.wire)] {
			continue
		}
		seen[string(s.wire)] = true
		all = append(all, aged{s.wire, s.wireAt})
	}
	slices.SortStableFunc(all, func(a, b aged) int {
		switch {
		case a.at > b.at:
			return -1
		case a.at < b.at:
			return 1
		}
		return 0
	})
	if len(all) > t.cfg.maxWires {
		all = all[:t.cfg.maxWires]
	}
	out := make([][]byte, len(all))
	for i, a := range all {
		out[i] = a.w
	}
	return out
}

// plan returns the tasks to start now and marks them started.
func (t *tracker) plan(now time.Time) []task {
	var out []task
	if t.cfg.snapshot > 0 {
		for _, id := range t.order {
			if t.snaps >= maxSnapTasks {
				break
			}
			s := t.streams[id]
			if t.wantSnap(s, now) {
				s.snapBusy, s.snapNeed = true, false
				s.prevChecked, s.snapChecked = s.snapChecked, s.latest
				t.snaps++
				out = append(out, task{kind: taskSnapshots, id: id, node: s.node, boot: s.boot})
			}
		}
	}
	n := len(t.order)
	for n > 0 && t.inflight < t.cfg.window {
		progress := false
		for i := 0; i < n && t.inflight < t.cfg.window; i++ {
			id := t.order[(t.rr+i)%n]
			if tk, ok := t.nextPub(id, t.streams[id], now); ok {
				out = append(out, tk)
				t.inflight++
				progress = true
			}
		}
		t.rr = (t.rr + 1) % n
		if !progress {
			break
		}
	}
	return out
}

// wantSnap reports whether the stream's history index should be fetched:
// at first sight, once per threshold of new publications (the publisher
// took a snapshot meanwhile), or when a publication is stuck.
func (t *tracker) wantSnap(s *stream, now time.Time) bool {
	if s.snapBusy || s.latest == 0 || now.Before(s.snapAt) {
		return false
	}
	return s.snapChecked == 0 || s.latest >= s.snapChecked+t.cfg.snapshot || s.snapNeed
}

// held reports whether individual fetches wait for the snapshot task in
// flight: with a backlog this long, the oldest publications are likely
// evicted by the publisher and will come from snapshots (ndnd fetches
// snapshots from a lag of twice the threshold: snapshot_node_history.go).
func (t *tracker) held(s *stream) bool {
	return s.snapBusy && s.latest-s.settled >= 2*t.cfg.snapshot
}

func (t *tracker) nextPub(id streamID, s *stream, now time.Time) (task, bool) {
	if t.held(s) {
		return task{}, false
	}
	var best uint64
	for seq, r := range s.retry {
		if !s.inflight[seq] && !now.Before(r.due) && (best == 0 || seq < best) {
			best = seq
		}
	}
	tk := task{kind: taskPublication, id: id, node: s.node, boot: s.boot}
	if best != 0 {
		tk.seq, tk.fresh = best, s.retry[best].fresh
		s.inflight[best] = true
		return tk, true
	}
	// A stream whose publications keep failing holds at most a window of
	// them (in flight or waiting to retry): a publisher that went away
	// costs a few Interests per backoff period, not one per announced
	// publication, and leaves room to the others.
	for s.next <= s.latest && len(s.inflight)+len(s.retry) < t.cfg.window {
		seq := s.next
		s.next++
		if _, ok := s.done[seq]; ok || s.inflight[seq] {
			continue
		}
		tk.seq = seq
		s.inflight[seq] = true
		return tk, true
	}
	return task{}, false
}

// nextWake is when plan or tick next has something to do by the clock
// alone (a retry or snapshot backoff ending, suppression ending); zero if
// nothing is scheduled. Work blocked by the window is started when a fetch
// finishes, not by the clock.
func (t *tracker) nextWake(now time.Time) time.Time {
	var wake time.Time
	consider := func(at time.Time) {
		if at.After(now) && (wake.IsZero() || at.Before(wake)) {
			wake = at
		}
	}
	if t.suppressing {
		consider(t.suppressAt)
	}
	if t.resends > 0 {
		consider(t.resendAt)
	}
	for _, s := range t.streams {
		for seq, r := range s.retry {
			if !s.inflight[seq] {
				consider(r.due)
			}
		}
		if t.cfg.snapshot > 0 && !s.snapBusy {
			consider(s.snapAt)
		}
	}
	return wake
}

func (t *tracker) backoffFor(n int) time.Duration {
	d := t.cfg.backoff
	for i := 1; i < n && d < t.cfg.maxBackoff; i++ {
		d *= 2
	}
	return min(d, t.cfg.maxBackoff)
}

func (s *stream) retryFor(seq uint64) *retryState {
	r := s.retry[seq]
	if r == nil {
		r = &retryState{}
		s.retry[seq] = r
	}
	return r
}

// stuck reports whether seq failed to fetch often enough to look for it in
// a snapshot.
func (t *tracker) stuck(s *stream, seq uint64) bool {
	r := s.retry[seq]
	return r != nil && r.failures >= t.cfg.retries
}

// onPublication records the result of a publication task and returns what
// became deliverable.
func (t *tracker) onPublication(tk task, res pubResult, now time.Time) []delivery {
	s := t.streams[tk.id]
	if s.inflight[tk.seq] {
		delete(s.inflight, tk.seq)
		t.inflight--
	}
	if tk.seq <= s.settled {
		delete(s.retry, tk.seq)
		return nil
	}
	if _, ok := s.done[tk.seq]; ok {
		delete(s.retry, tk.seq) // settled from a snapshot meanwhile
		return nil
	}
	switch res.outcome {
	case outcomeStored:
		delete(s.retry, tk.seq)
		s.done[tk.seq] = fetched{name: res.name, content: res.content}
	case outcomeRejected:
		r := s.retryFor(tk.seq)
		r.rejects++
		if r.rejects >= t.cfg.retries {
			delete(s.retry, tk.seq)
			s.done[tk.seq] = fetched{}
			t.skipped++
		} else {
			r.fresh = true
			r.due = now.Add(t.backoffFor(r.rejects))
		}
	case outcomeFailed:
		r := s.retryFor(tk.seq)
		r.failures++
		r.due = now.Add(t.backoffFor(r.failures))
		if t.cfg.snapshot > 0 && r.failures >= t.cfg.retries {
			s.snapNeed = true
		}
	case outcomeAborted:
		s.retryFor(tk.seq).due = now
	}
	return t.advance(tk.id, s)
}

// advance settles the publications finished in order.
func (t *tracker) advance(id streamID, s *stream) []delivery {
	var out []delivery
	from := s.settled
	for {
		f, ok := s.done[s.settled+1]
		if !ok {
			break
		}
		s.settled++
		delete(s.done, s.settled)
		delete(s.retry, s.settled)
		if f.name != nil {
			out = append(out, delivery{id: id, upTo: s.settled, name: f.name, content: f.content})
		}
	}
	if s.settled > from && (len(out) == 0 || out[len(out)-1].upTo < s.settled) {
		out = append(out, delivery{id: id, upTo: s.settled})
	}
	s.next = max(s.next, s.settled+1)
	return out
}

// snapWanted reports whether the snapshot taken at version (whose
// predecessor in the index is prev; evicted is the publisher's eviction
// boundary) should be fetched: it is new, or it holds publications we can
// no longer fetch one by one.
func (t *tracker) snapWanted(id streamID, version, prev, evicted uint64) bool {
	s := t.streams[id]
	if version > s.snapKnown {
		return true
	}
	if version <= s.settled {
		return false
	}
	start := max(prev, s.settled) + 1
	if start <= evicted {
		return true
	}
	for seq := range s.retry {
		if seq >= start && seq <= version && t.stuck(s, seq) {
			return true
		}
	}
	return false
}

// onSnapshot records a fetched and stored snapshot: the publications in
// its range that are evicted by the publisher (up to evicted) or stuck are
// settled from it. It returns what became deliverable, or false if the
// snapshot is malformed for its place in the index.
func (t *tracker) onSnapshot(id streamID, version, prev, evicted uint64, entries []snapEntry) ([]delivery, bool) {
	s := t.streams[id]
	if version <= prev || version-prev > maxSnapRange {
		return nil, false
	}
	for _, e := range entries {
		if e.seq <= prev || e.seq > version {
			return nil, false
		}
	}
	if len(entries) > 0 && entries[len(entries)-1].seq != version {
		return nil, false // ndnd's check: a snapshot ends at its version
	}
	s.snapKnown = max(s.snapKnown, version)
	s.latest = max(s.latest, version) // the publisher did publish it
	t.dirty = true
	start := max(prev, s.settled) + 1
	i := 0
	for seq := start; seq <= version; seq++ {
		for i < len(entries) && entries[i].seq < seq {
			i++
		}
		if _, ok := s.done[seq]; ok {
			continue
		}
		if seq > evicted && !t.stuck(s, seq) {
			continue
		}
		f := fetched{} // compressed out of the snapshot: nothing to hand over
		if i < len(entries) && entries[i].seq == seq {
			f = fetched{name: pubName(t.cfg.group, s.node, s.boot, seq), content: entries[i].content}
			t.recovered++
		}
		s.done[seq] = f
		delete(s.retry, seq)
	}
	return t.advance(id, s), true
}

// onSnapDone ends a snapshot task; failed tasks are retried after a
// backoff.
func (t *tracker) onSnapDone(id streamID, failed bool, now time.Time) {
	s := t.streams[id]
	s.snapBusy = false
	t.snaps--
	if failed {
		s.snapChecked = s.prevChecked
		s.snapFails++
		s.snapAt = now.Add(t.backoffFor(s.snapFails))
		return
	}
	s.snapFails = 0
}

// onDelivered records that a stream was delivered up to seq.
func (t *tracker) onDelivered(id streamID, upTo uint64) {
	if s := t.streams[id]; s != nil && upTo > s.delivered {
		s.delivered = upTo
		t.dirty = true
	}
}

// save returns the state to persist and clears dirty.
func (t *tracker) save() *savedState {
	t.dirty = false
	st := &savedState{wires: t.wires()}
	index := make(map[string]int, len(st.wires))
	for i, w := range st.wires {
		index[string(w)] = i
	}
	for _, id := range t.order {
		s := t.streams[id]
		ss := savedStream{node: s.node, boot: s.boot, known: s.delivered, latest: s.latest, snapKnown: s.snapKnown, wire: -1}
		if s.wire != nil {
			if i, ok := index[string(s.wire)]; ok {
				ss.wire = i
			}
		}
		st.streams = append(st.streams, ss)
	}
	return st
}
