package svs

import (
	enc "github.com/named-data/ndnd/std/encoding"
)

// Event is a user event sent to the group with SendEvent.
type Event struct {
	// Name is the event's name, as given to SendEvent.
	Name string
	// Payload is its payload (at most the sender's MaxPayload bytes).
	Payload []byte
	// From is the sender's name (this member's own for its own events).
	From enc.Name
	// LTime is the event's Lamport time in the group: an event sent after
	// the sender saw another has a higher LTime. Coalescing keeps the
	// event with the highest (LTime, From).
	LTime uint64
}

// newer reports whether a supersedes b: a higher LTime, or the same LTime
// from a sender that sorts after b's.
func (a *Event) newer(b *Event) bool {
	if a.LTime != b.LTime {
		return a.LTime > b.LTime
	}
	return a.From.Compare(b.From) > 0
}

// eventQueue holds events waiting for delivery. With coalescing, at most
// one event per name waits: a newer one takes the older one's place in
// the queue, an older one is dropped. It is bounded: past max, the oldest
// waiting event is dropped. Not safe for concurrent use (Group.mu guards
// it).
type eventQueue struct {
	coalesce bool
	max      int
	q        []*Event          // FIFO
	byName   map[string]*Event // waiting events by name, with coalescing
	// coalesced and dropped count events superseded and dropped.
	coalesced, dropped uint64
}

func newEventQueue(coalesce bool, max int) *eventQueue {
	return &eventQueue{coalesce: coalesce, max: max, byName: map[string]*Event{}}
}

// push queues e (the queue keeps e).
func (q *eventQueue) push(e *Event) {
	if q.coalesce {
		if old := q.byName[e.Name]; old != nil {
			q.coalesced++
			if e.newer(old) {
				*old = *e // takes the older one's place
			}
			return
		}
	}
	if len(q.q) >= q.max {
		q.pop()
		q.dropped++
	}
	q.q = append(q.q, e)
	if q.coalesce {
		q.byName[e.Name] = e
	}
}

// pop removes and returns the oldest waiting event, or nil.
func (q *eventQueue) pop() *Event {
	if len(q.q) == 0 {
		return nil
	}
	e := q.q[0]
	q.q[0] = nil
	q.q = q.q[1:]
	if q.coalesce && q.byName[e.Name] == e {
		delete(q.byName, e.Name)
	}
	return e
}

// len is the number of waiting events.
func (q *eventQueue) len() int { return len(q.q) }
