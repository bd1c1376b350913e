package store

import (
	"container/list"
	"encoding/binary"
	"fmt"
	"sync"
	"time"
)

// A record is the stored value: a fixed header followed by the Data wire
// exactly as received.
//
//	[0]      format version (recordV1)
//	[1:9]    insertion time, Unix nanoseconds, big endian
//	[9:17]   FreshnessPeriod in nanoseconds (0: the Data has none)
//	[17:25]  expiry, Unix nanoseconds (0: never; set for cache entries)
//	[25:]    Data wire
const (
	recordV1     = 1
	recordHeader = 25
)

type record struct {
	storedAt  int64
	freshness int64
	expires   int64
	wire      []byte // aliases the database page in a read txn
}

func encodeRecord(r record) []byte {
	b := make([]byte, recordHeader, recordHeader+len(r.wire))
	b[0] = recordV1
	binary.BigEndian.PutUint64(b[1:], uint64(r.storedAt))
	binary.BigEndian.PutUint64(b[9:], uint64(r.freshness))
	binary.BigEndian.PutUint64(b[17:], uint64(r.expires))
	return append(b, r.wire...)
}

func decodeRecord(b []byte) (record, error) {
	if len(b) < recordHeader || b[0] != recordV1 {
		return record{}, fmt.Errorf("%w: %d-byte record with version %d", ErrCorrupt, len(b), firstByte(b))
	}
	return record{
		storedAt:  int64(binary.BigEndian.Uint64(b[1:])),
		freshness: int64(binary.BigEndian.Uint64(b[9:])),
		expires:   int64(binary.BigEndian.Uint64(b[17:])),
		wire:      b[recordHeader:],
	}, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// expired reports whether a cache record is past its expiry at now.
func (r record) expired(now time.Time) bool {
	return r.expires != 0 && now.UnixNano() >= r.expires
}

// fresh reports whether the Data may satisfy MustBeFresh at now: it has a
// positive FreshnessPeriod and was stored less than that long ago.
func (r record) fresh(now time.Time) bool {
	return r.freshness > 0 && now.UnixNano() < r.storedAt+r.freshness
}

// lru orders cache entries by recency of use. The committer adds, removes
// and evicts; Get touches. It holds only keys and sizes; the entries live
// in the cache bucket.
type lru struct {
	mu    sync.Mutex
	ll    *list.List // front = most recently used; values are *lruEntry
	items map[string]*list.Element
	bytes int64
}

type lruEntry struct {
	key  string
	size int64
}

func newLRU() *lru { return &lru{ll: list.New(), items: map[string]*list.Element{}} }

// add inserts or replaces key as most recently used.
func (l *lru) add(key string, size int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.items[key]; ok {
		ent := e.Value.(*lruEntry)
		l.bytes += size - ent.size
		ent.size = size
		l.ll.MoveToFront(e)
		return
	}
	l.items[key] = l.ll.PushFront(&lruEntry{key, size})
	l.bytes += size
}

// addOldest inserts key as least recently used (used when loading).
func (l *lru) addOldest(key string, size int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items[key] = l.ll.PushBack(&lruEntry{key, size})
	l.bytes += size
}

func (l *lru) remove(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.items[key]; ok {
		l.bytes -= e.Value.(*lruEntry).size
		l.ll.Remove(e)
		delete(l.items, key)
	}
}

func (l *lru) touch(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.items[key]; ok {
		l.ll.MoveToFront(e)
	}
}

// popOver removes and returns the least recently used key if the total
// exceeds max.
func (l *lru) popOver(max int64) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bytes <= max || l.ll.Len() == 0 {
		return "", false
	}
	e := l.ll.Back()
	ent := e.Value.(*lruEntry)
	l.ll.Remove(e)
	delete(l.items, ent.key)
	l.bytes -= ent.size
	return ent.key, true
}

func (l *lru) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ll.Init()
	l.items = map[string]*list.Element{}
	l.bytes = 0
}

func (l *lru) stats() (n int, bytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ll.Len(), l.bytes
}
