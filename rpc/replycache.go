package rpc

import (
	"container/list"
	"sync"
	"time"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// replyCache makes non-idempotent methods run at most once per (caller,
// request id). The first call of a key leads: it runs the handler; calls of
// the same key that arrive while it runs (retransmissions, re-signed with
// new names) wait and are answered when it finishes; later ones get the
// stored reply until it expires. Bounded: when full, the oldest finished
// entry is dropped; in-progress entries are never dropped (their number is
// bounded by the server's MaxInFlight).
type replyCache struct {
	max int
	ttl time.Duration

	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List // of *replyEntry, oldest first
}

type replyEntry struct {
	key     string
	done    bool
	content []byte
	expires time.Time
	waiters []*ndnx.Incoming
}

func newReplyCache(max int, ttl time.Duration) *replyCache {
	return &replyCache{max: max, ttl: ttl, entries: map[string]*list.Element{}, order: list.New()}
}

// begin reports whether the caller leads key. If not, content is the stored
// reply (nil while the leader runs; in is then queued for finish).
func (c *replyCache) begin(key string, in *ndnx.Incoming) (content []byte, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*replyEntry)
		if !e.done {
			e.waiters = append(e.waiters, in)
			return nil, false
		}
		if now.Before(e.expires) {
			return e.content, false
		}
		c.order.Remove(el)
		delete(c.entries, key)
	}
	c.evict(now)
	c.entries[key] = c.order.PushBack(&replyEntry{key: key})
	return nil, true
}

// finish stores the reply of key and returns the calls waiting for it.
func (c *replyCache) finish(key string, content []byte) []*ndnx.Incoming {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil
	}
	e := el.Value.(*replyEntry)
	e.done, e.content, e.expires = true, content, time.Now().Add(c.ttl)
	w := e.waiters
	e.waiters = nil
	c.order.MoveToBack(el)
	return w
}

// evict drops expired entries and, over the bound, the oldest finished ones.
func (c *replyCache) evict(now time.Time) {
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		e := el.Value.(*replyEntry)
		if e.done && (now.After(e.expires) || c.order.Len() >= c.max) {
			c.order.Remove(el)
			delete(c.entries, e.key)
		} else if e.done {
			break // finished entries are in finish order: the rest are newer
		}
		el = next
	}
}

func (c *replyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
