package ndndrepo

import (
	"container/list"
	"sync"
	"time"

	"github.com/named-data/ndnd/repo/tlv"
)

// dedup remembers commands by the digest of their signed command Data, for
// a window and up to a bound, with the outcome once known. ndnd's command
// Data carries no nonce and no time, so this is the only replay defense
// there can be; see the package doc.
//
// Only authenticated commands enter it (after VerifyData), and only
// successful outcomes stay, so a stranger cannot fill it to flush real
// entries out, and a failed command can be retried with the same bytes.
type dedup struct {
	window time.Duration
	max    int

	mu    sync.Mutex
	byKey map[[32]byte]*dedupEntry
	order *list.List // of *dedupEntry, oldest first
}

// dedupEntry is one remembered command. res is written once, before done
// is closed; readers read it only after done.
type dedupEntry struct {
	key  [32]byte
	at   time.Time
	elem *list.Element
	done chan struct{}
	res  tlv.RepoCmdRes
}

func newDedup(window time.Duration, max int) *dedup {
	return &dedup{window: window, max: max, byKey: map[[32]byte]*dedupEntry{}, order: list.New()}
}

// begin returns the entry for key and whether the caller is the first to
// see it (and so must run the command and call finish). A later caller
// waits on the entry's done channel and replies with its res.
func (d *dedup) begin(key [32]byte, now time.Time) (e *dedupEntry, first bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	if e, ok := d.byKey[key]; ok {
		return e, false
	}
	for d.order.Len() >= d.max {
		d.remove(d.order.Front().Value.(*dedupEntry))
	}
	e = &dedupEntry{key: key, at: now, done: make(chan struct{})}
	e.elem = d.order.PushBack(e)
	d.byKey[key] = e
	return e, true
}

// finish records the outcome of e's command and releases its waiters; with
// keep false the entry is forgotten, so the same bytes run again next time.
func (d *dedup) finish(e *dedupEntry, res tlv.RepoCmdRes, keep bool) {
	e.res = res
	close(e.done)
	if keep {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byKey[e.key] == e {
		d.remove(e)
	}
}

// len is the number of remembered commands.
func (d *dedup) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.byKey)
}

// expire drops entries older than the window. Called with mu held.
func (d *dedup) expire(now time.Time) {
	for f := d.order.Front(); f != nil; f = d.order.Front() {
		e := f.Value.(*dedupEntry)
		if now.Sub(e.at) < d.window {
			return
		}
		d.remove(e)
	}
}

// remove forgets e. Called with mu held.
func (d *dedup) remove(e *dedupEntry) {
	d.order.Remove(e.elem)
	delete(d.byKey, e.key)
}
