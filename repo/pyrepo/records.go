package pyrepo

import (
	"container/list"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/repo"
)

// This file holds the Server's protocol state, free of I/O: the status
// records that check answers from (request number -> command progress)
// and the window of publications already handled (replay protection).
// Every method takes the current time; the Server calls them under its mu.

// objState is the progress of one object of an insert or delete command.
type objState struct {
	param  ObjectParam
	status Status // ROGER until executed; for insert then derived from the job
	jobID  string // insert: the Backend job, once started
	job    repo.Job
	hasJob bool
	count  uint64 // delete: packets deleted
}

// groupState is the progress of one sync group of a join or leave command.
type groupState struct {
	param  SyncParam
	status Status
}

// record is the status of one command, keyed by its request number.
type record struct {
	key     string // the request number, as a string
	verb    Verb
	caller  enc.Name
	created time.Time
	// fixed, when set, is the whole answer: the command was malformed
	// (MALFORMED) or not allowed (FAILED) and nothing runs.
	fixed    Status
	objs     []objState
	groups   []groupState
	executed bool      // the execution goroutine has finished
	doneAt   time.Time // when the command was first seen finished
	elem     *list.Element
}

// result computes the check answer from the record's current state.
func (r *record) result() *CommandRes {
	if r.fixed != 0 {
		return &CommandRes{Status: r.fixed}
	}
	res := &CommandRes{}
	final, ok := r.executed, true
	for i := range r.objs {
		o := &r.objs[i]
		st := o.status
		if r.verb == VerbInsert && o.hasJob {
			switch o.job.State {
			case repo.JobRunning:
				st = StatusInProgress
			case repo.JobDone:
				st = StatusCompleted
			default:
				st = StatusFailed
			}
		}
		os := ObjectStatus{Name: o.param.Name, Status: st}
		if r.verb == VerbInsert {
			n := o.job.Packets
			os.InsertNum = &n
		} else {
			n := o.count
			os.DeleteNum = &n
		}
		res.Objects = append(res.Objects, os)
		final = final && st.Final()
		ok = ok && st == StatusCompleted
	}
	for _, g := range r.groups {
		res.SyncGroups = append(res.SyncGroups, SyncStatus{Name: g.param.SyncPrefix, Status: g.status})
		final = final && g.status.Final()
		ok = ok && g.status == StatusCompleted
	}
	switch {
	case !final:
		res.Status = StatusInProgress
	case ok:
		res.Status = StatusCompleted
	default:
		res.Status = StatusFailed
	}
	return res
}

// recordTable is a bounded, expiring map from request number to record.
type recordTable struct {
	max    int
	ttl    time.Duration // after the command is seen finished
	maxAge time.Duration // after the command arrived
	m      map[string]*record
	order  *list.List // of *record, oldest first
}

func newRecordTable(max int, ttl, maxAge time.Duration) *recordTable {
	return &recordTable{max: max, ttl: ttl, maxAge: maxAge, m: map[string]*record{}, order: list.New()}
}

func (t *recordTable) expired(r *record, now time.Time) bool {
	return now.Sub(r.created) > t.maxAge || (!r.doneAt.IsZero() && now.Sub(r.doneAt) > t.ttl)
}

func (t *recordTable) remove(r *record) {
	t.order.Remove(r.elem)
	if t.m[r.key] == r {
		delete(t.m, r.key)
	}
}

// put stores r, replacing a record with the same request number (the same
// command content published again, as ndn-python-repo does), and makes
// room by dropping expired records, then the oldest.
func (t *recordTable) put(r *record, now time.Time) {
	if old := t.m[r.key]; old != nil {
		t.remove(old)
	}
	for e := t.order.Front(); e != nil; e = t.order.Front() {
		if old := e.Value.(*record); now.Sub(old.created) > t.maxAge {
			t.remove(old)
			continue
		}
		break
	}
	if t.order.Len() >= t.max {
		for e := t.order.Front(); e != nil; {
			next := e.Next()
			if old := e.Value.(*record); t.expired(old, now) {
				t.remove(old)
			}
			e = next
		}
	}
	for t.order.Len() >= t.max {
		t.remove(t.order.Front().Value.(*record))
	}
	r.elem = t.order.PushBack(r)
	t.m[r.key] = r
}

// get returns the live record for key, or nil.
func (t *recordTable) get(key string, now time.Time) *record {
	r := t.m[key]
	if r == nil {
		return nil
	}
	if t.expired(r, now) {
		t.remove(r)
		return nil
	}
	return r
}

func (t *recordTable) len() int { return len(t.m) }

// seenState is what the replay window knows about a publication.
type seenState int

const (
	seenNew     seenState = iota // not seen: the caller now owns it
	seenPending                  // being fetched or verified by another handler
	seenDone                     // handled (authentic message, executed or rejected)
)

type seenEntry struct {
	key     string
	expires time.Time
	done    bool
}

// seenTable remembers publications, by message name, for a window.
type seenTable struct {
	max    int
	window time.Duration
	m      map[string]*list.Element
	order  *list.List // of *seenEntry, oldest first (expiry order)
}

func newSeenTable(max int, window time.Duration) *seenTable {
	return &seenTable{max: max, window: window, m: map[string]*list.Element{}, order: list.New()}
}

// claim looks key up; if it is new, it is recorded as pending.
func (t *seenTable) claim(key string, now time.Time) seenState {
	for e := t.order.Front(); e != nil && now.After(e.Value.(*seenEntry).expires); e = t.order.Front() {
		t.order.Remove(e)
		delete(t.m, e.Value.(*seenEntry).key)
	}
	if e, ok := t.m[key]; ok {
		if e.Value.(*seenEntry).done {
			return seenDone
		}
		return seenPending
	}
	for t.order.Len() >= t.max {
		e := t.order.Front()
		t.order.Remove(e)
		delete(t.m, e.Value.(*seenEntry).key)
	}
	t.m[key] = t.order.PushBack(&seenEntry{key: key, expires: now.Add(t.window)})
	return seenNew
}

// done marks key handled: a replay within the window is not run again.
func (t *seenTable) done(key string) {
	if e, ok := t.m[key]; ok {
		e.Value.(*seenEntry).done = true
	}
}

// forget drops key, so that a retransmitted notification is handled anew
// (after the message could not be fetched or did not verify).
func (t *seenTable) forget(key string) {
	if e, ok := t.m[key]; ok {
		t.order.Remove(e)
		delete(t.m, key)
	}
}

func (t *seenTable) len() int { return len(t.m) }
