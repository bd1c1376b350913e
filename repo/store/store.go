package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// FileName is the database file Open creates in its directory.
const FileName = "store.db"

const (
	formatVersion = 1
	maxBatchBytes = 32 << 20
	// DefaultPageSize is the List page size used when pageSize <= 0.
	DefaultPageSize = 100
	// MaxPageSize caps the List page size.
	MaxPageSize = 1000
)

var (
	bucketData  = []byte("data")
	bucketCache = []byte("cache")
	bucketMeta  = []byte("meta")
	bucketRecs  = []byte("records")

	metaFormat  = []byte("format")
	metaPackets = []byte("packets")
	metaBytes   = []byte("bytes")
)

// PutOptions selects how Put stores a packet.
type PutOptions struct {
	// Cache stores the packet as a cache entry instead of a durable one:
	// it lives in a separate keyspace, expires after TTL and may be
	// evicted (LRU) to keep the cache within Config.CacheMaxBytes.
	Cache bool
	// TTL is the lifetime of a cache entry; zero means Config.CacheTTL.
	// Ignored unless Cache is set.
	TTL time.Duration
}

// Stats is a snapshot of the store's counters. Packets and Bytes persist
// across restarts; the other counters start at zero on Open.
type Stats struct {
	Packets        uint64 // durable packets stored
	Bytes          uint64 // wire bytes of durable packets
	CachePackets   uint64 // cache entries stored (expired ones included until purged)
	CacheBytes     uint64 // key plus wire bytes of cache entries, bounded by Config.CacheMaxBytes
	DurableHits    uint64 // Gets answered from a durable packet
	CacheHits      uint64 // Gets answered from a cache entry
	CacheMisses    uint64 // Gets answered from neither (returned ErrNotFound)
	CacheEvictions uint64 // cache entries evicted to honour CacheMaxBytes
	Writes         uint64 // write requests committed (Put, Delete, ...)
	Commits        uint64 // transactions committed by the group committer
	Fsyncs         uint64 // fdatasync calls made by those commits (bbolt: 2 per commit)
	CommitErrors   uint64 // transactions that failed (their writes returned ErrIO)
}

// Store is a durable store of NDN Data packets keyed by name. It is safe
// for concurrent use. Writes are funnelled through one owned committer
// goroutine that batches them (group commit); reads run concurrently in
// read transactions.
type Store struct {
	cfg   Config
	db    *bolt.DB
	queue chan *writeReq
	quit  chan struct{}
	wg    sync.WaitGroup
	cache *lru

	closeOnce sync.Once
	closeErr  error

	durableHits, cacheHits, cacheMisses, evictions atomic.Uint64
	writes, commits, commitErrs                    atomic.Uint64
	packets, bytes                                 atomic.Uint64

	// mu guards closed. Readers hold it (read-locked) for the whole of a
	// read, writers while enqueueing, so that Close, which write-locks it,
	// knows no new work can start.
	mu     sync.RWMutex
	closed bool
}

type writeOp int

const (
	opPut writeOp = iota
	opDelete
	opDeletePrefix
	opPurge
	opPutRecord
	opDeleteRecord
)

type writeReq struct {
	op    writeOp
	cache bool   // opPut: cache keyspace
	key   []byte // NameKey; prefix for opDeletePrefix
	rec   []byte // opPut: encoded record
	size  int    // bytes counted against maxBatchBytes
	now   int64  // opPurge: Unix ns
	done  chan writeResult
}

type writeResult struct {
	n   int
	err error
}

// Open opens (creating if needed) the store in directory dir. It creates
// dir with mode 0700 and the database file FileName in it, checks the
// format, loads the cache index (dropping expired cache entries) and starts
// the committer goroutine. Open is the only constructor and does I/O.
//
// Errors: ErrInvalidConfig; ErrLocked if another process holds the
// database; ErrIO if the directory or file cannot be created or opened
// (for example a read-only file system or a full disk); ErrCorrupt if the
// file is not a store of this format.
func Open(dir string, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: create directory: %w", ErrIO, err)
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{
		Timeout: cfg.LockTimeout,
		// The freelist is rebuilt by scanning on Open instead of being
		// written on every commit: about twice the durable write
		// throughput (see doc.go) for a slower Open of a large store.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s: %w", ErrLocked, dir, err)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, dir, err)
	case err != nil:
		return nil, fmt.Errorf("%w: open %s: %w", ErrIO, dir, err)
	}
	s := &Store{
		cfg:   cfg,
		db:    db,
		queue: make(chan *writeReq, cfg.QueueSize),
		quit:  make(chan struct{}),
		cache: newLRU(),
	}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, err
	}
	s.goroutine(s.run)
	return s, nil
}

// init creates the buckets and checks the format (writing only for a new
// store), then loads counters and the cache index. Dropping expired or
// excess cache entries is best effort, so that a store on a full disk
// still opens.
func (s *Store) init() error {
	fresh := false
	err := s.db.View(func(tx *bolt.Tx) error {
		fresh = tx.Bucket(bucketData) == nil || tx.Bucket(bucketCache) == nil || tx.Bucket(bucketMeta) == nil || tx.Bucket(bucketRecs) == nil
		return nil
	})
	if err == nil && fresh {
		err = s.db.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bucketData, bucketCache, bucketMeta, bucketRecs} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			meta := tx.Bucket(bucketMeta)
			if meta.Get(metaFormat) != nil {
				return nil
			}
			return meta.Put(metaFormat, u64(formatVersion))
		})
	}
	if err != nil {
		return fmt.Errorf("%w: initialise: %w", ErrIO, err)
	}
	var formatErr error
	needPurge := false
	now := s.cfg.Now().UnixNano()
	err = s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaFormat); len(v) != 8 || binary.BigEndian.Uint64(v) != formatVersion {
			formatErr = fmt.Errorf("%w: unsupported store format %x", ErrCorrupt, v)
			return formatErr
		}
		s.packets.Store(getU64(meta, metaPackets))
		s.bytes.Store(getU64(meta, metaBytes))
		n, err := s.loadCache(tx, now, false)
		needPurge = n > 0
		return err
	})
	switch {
	case formatErr != nil:
		return formatErr
	case err != nil:
		return fmt.Errorf("%w: initialise: %w", ErrIO, err)
	case !needPurge:
		return nil
	}
	var evicted int
	err = s.db.Update(func(tx *bolt.Tx) error {
		var err error
		evicted, err = s.loadCache(tx, now, true)
		return err
	})
	if err != nil {
		s.cfg.Logger.Warn("dropping expired cache entries failed", "err", err)
		// Fall back to the index as it is on disk.
		return s.db.View(func(tx *bolt.Tx) error {
			_, err := s.loadCache(tx, now, false)
			return err
		})
	}
	s.evictions.Add(uint64(evicted))
	return nil
}

// loadCache rebuilds the LRU index from the cache bucket, oldest insertion
// least recent, leaving out expired entries. If write is set it also
// deletes expired entries and evicts down to CacheMaxBytes, returning how
// many it evicted; if not, it returns how many entries need that work.
func (s *Store) loadCache(tx *bolt.Tx, now int64, write bool) (int, error) {
	s.cache.reset()
	type ent struct {
		key      string
		size     int64
		storedAt int64
	}
	var ents []ent
	var expired [][]byte
	bk := tx.Bucket(bucketCache)
	err := bk.ForEach(func(k, v []byte) error {
		r, err := decodeRecord(v)
		if err != nil || (r.expires != 0 && now >= r.expires) {
			expired = append(expired, slices.Clone(k))
			return nil
		}
		ents = append(ents, ent{string(k), int64(len(k) + len(r.wire)), r.storedAt})
		return nil
	})
	if err != nil {
		return 0, err
	}
	slices.SortStableFunc(ents, func(a, b ent) int { return -cmpInt64(a.storedAt, b.storedAt) })
	for _, e := range ents { // newest first, each pushed to the back
		s.cache.addOldest(e.key, e.size)
	}
	if !write {
		_, over := s.cache.stats()
		n := len(expired)
		if over > s.cfg.CacheMaxBytes {
			n++
		}
		return n, nil
	}
	for _, k := range expired {
		if err := bk.Delete(k); err != nil {
			return 0, err
		}
	}
	return s.evictOver(bk)
}

func (s *Store) evictOver(bk *bolt.Bucket) (int, error) {
	n := 0
	for {
		k, ok := s.cache.popOver(s.cfg.CacheMaxBytes)
		if !ok {
			return n, nil
		}
		if err := bk.Delete([]byte(k)); err != nil {
			return n, err
		}
		n++
	}
}

// goroutine starts f as a goroutine owned by s; Close waits for it.
func (s *Store) goroutine(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Close stops the committer after it has committed every write already
// queued, then closes the database (waiting for reads in progress). It is
// idempotent and safe to call from any goroutine; every call returns the
// first call's result. Afterwards every method returns ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.quit)
		s.wg.Wait()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("%w: close: %w", ErrIO, err)
		}
	})
	return s.closeErr
}

// Put stores wire, a Data packet named name, and returns once it is
// durable on disk (fsynced), or as a cache entry if opts.Cache is set.
// A stored packet with the same name in the same keyspace is replaced.
// The wire is stored byte for byte as given, with the insertion time
// (Config.Now) and the FreshnessPeriod parsed from it, which Get uses for
// MustBeFresh. Put does not keep wire after it returns.
//
// Concurrent Puts are committed together in one transaction and one fsync
// (group commit). Put blocks while the write queue is full and until the
// commit. If ctx ends first Put returns ctx.Err(), but a write that was
// already queued may still be committed later; the caller cannot tell, so
// it should treat the outcome as unknown (Put again, or Get).
//
// Errors: ErrInvalidName (empty name or oversize key), ErrInvalidData (not
// a single well-formed Data TLV, larger than Config.MaxPacketSize, or named
// other than name), ErrIO (the commit failed, e.g. disk full; nothing of it
// was stored), ErrClosed, or ctx's error. Safe for concurrent use.
func (s *Store) Put(ctx context.Context, name enc.Name, wire []byte, opts PutOptions) error {
	key, err := storableKey(name)
	if err != nil {
		return err
	}
	if len(wire) > s.cfg.MaxPacketSize {
		return fmt.Errorf("%w: %d-byte packet exceeds MaxPacketSize %d", ErrInvalidData, len(wire), s.cfg.MaxPacketSize)
	}
	freshness, err := parseData(name, wire)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	r := record{storedAt: now.UnixNano(), freshness: int64(freshness), wire: wire}
	if opts.Cache {
		ttl := opts.TTL
		if ttl <= 0 {
			ttl = s.cfg.CacheTTL
		}
		r.expires = now.Add(ttl).UnixNano()
	}
	res := s.submit(ctx, &writeReq{op: opPut, cache: opts.Cache, key: key, rec: encodeRecord(r), size: len(wire)})
	return res.err
}

// Delete removes the packet named exactly name from both keyspaces
// (durable and cache) and returns once that is durable. Errors: ErrNotFound
// if neither held it, ErrIO, ErrClosed, or ctx's error (see Put for what a
// ctx error means). Safe for concurrent use.
func (s *Store) Delete(ctx context.Context, name enc.Name) error {
	key, err := storableKey(name)
	if err != nil {
		return err
	}
	res := s.submit(ctx, &writeReq{op: opDelete, key: key})
	if res.err == nil && res.n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return res.err
}

// DeletePrefix removes every packet whose name starts with prefix (the
// prefix itself included) from both keyspaces in one durable transaction,
// and returns how many entries it removed (a name held in both keyspaces
// counts twice). The empty prefix is refused with ErrInvalidName so that a
// stray call cannot wipe the store. Other errors: ErrIO, ErrClosed, or
// ctx's error (see Put). Safe for concurrent use.
func (s *Store) DeletePrefix(ctx context.Context, prefix enc.Name) (int, error) {
	if len(prefix) == 0 {
		return 0, fmt.Errorf("%w: empty prefix", ErrInvalidName)
	}
	res := s.submit(ctx, &writeReq{op: opDeletePrefix, key: NameKey(prefix)})
	return res.n, res.err
}

// PurgeExpired deletes cache entries whose TTL has passed at Config.Now
// and returns how many. Expired entries are never returned by Get; they
// are also dropped by Open and by LRU eviction, so calling PurgeExpired
// (say every few minutes) only reclaims their space sooner. Errors: ErrIO,
// ErrClosed, or ctx's error.
func (s *Store) PurgeExpired(ctx context.Context) (int, error) {
	res := s.submit(ctx, &writeReq{op: opPurge, now: s.cfg.Now().UnixNano()})
	return res.n, res.err
}

func storableKey(name enc.Name) ([]byte, error) {
	if len(name) == 0 {
		return nil, fmt.Errorf("%w: empty name", ErrInvalidName)
	}
	key := NameKey(name)
	if len(key) > bolt.MaxKeySize {
		return nil, fmt.Errorf("%w: %d-byte key exceeds %d", ErrInvalidName, len(key), bolt.MaxKeySize)
	}
	return key, nil
}

// parseData checks that wire is exactly one Data TLV named name and
// returns its FreshnessPeriod (0 if absent). ndnd's parser is not hardened
// against malformed input (it panics, or allocates gigabytes for a 9-byte
// packet: see security.WellFormed), so it runs through security.ReadData,
// which checks the structure first and recovers from a panic.
func parseData(name enc.Name, wire []byte) (freshness time.Duration, err error) {
	r := tlv.NewReader(wire)
	typ, _, err := r.Next()
	switch {
	case err != nil:
		return 0, fmt.Errorf("%w: malformed TLV structure: %w", ErrInvalidData, err)
	case typ != 0x06:
		return 0, fmt.Errorf("%w: not a Data TLV", ErrInvalidData)
	case r.More():
		return 0, fmt.Errorf("%w: Data TLV length does not match the %d-byte wire", ErrInvalidData, len(wire))
	}
	data, _, err := security.ReadData(wire)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidData, err)
	}
	if !data.Name().Equal(name) {
		return 0, fmt.Errorf("%w: packet is named %s, not %s", ErrInvalidData, data.Name(), name)
	}
	if f, ok := data.Freshness().Get(); ok && f > 0 {
		freshness = f
	}
	return freshness, nil
}

// submit queues w for the committer and waits for its result.
func (s *Store) submit(ctx context.Context, w *writeReq) writeResult {
	if err := ctx.Err(); err != nil {
		return writeResult{err: err} // a dead ctx never enqueues
	}
	w.done = make(chan writeResult, 1) // the committer never blocks on it
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return writeResult{err: ErrClosed}
	}
	select {
	case s.queue <- w:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return writeResult{err: ctx.Err()}
	}
	select {
	case res := <-w.done:
		return res
	case <-ctx.Done():
		return writeResult{err: ctx.Err()}
	}
}

// run is the committer goroutine: it takes the first queued write, adds
// whatever else is already queued (up to MaxBatch writes and 32 MiB) and
// commits them in one transaction. On Close it commits what is left in the
// queue, then returns; Close guarantees nothing is queued after that.
func (s *Store) run() {
	for {
		select {
		case w := <-s.queue:
			s.commit(s.collect(w))
		case <-s.quit:
			for {
				select {
				case w := <-s.queue:
					s.commit(s.collect(w))
				default:
					return
				}
			}
		}
	}
}

func (s *Store) collect(first *writeReq) []*writeReq {
	batch := []*writeReq{first}
	size := first.size
	for len(batch) < s.cfg.MaxBatch && size < maxBatchBytes {
		select {
		case w := <-s.queue:
			batch = append(batch, w)
			size += w.size
		default:
			return batch
		}
	}
	return batch
}

// commit applies batch in one bbolt transaction, which fsyncs before it
// returns, and then answers every request.
func (s *Store) commit(batch []*writeReq) {
	results := make([]writeResult, len(batch))
	var packets, nbytes uint64
	var evicted int
	err := s.db.Update(func(tx *bolt.Tx) error {
		data, cache, meta, recs := tx.Bucket(bucketData), tx.Bucket(bucketCache), tx.Bucket(bucketMeta), tx.Bucket(bucketRecs)
		packets, nbytes = getU64(meta, metaPackets), getU64(meta, metaBytes)
		// dataDel removes k from the durable bucket, keeping the counters.
		dataDel := func(k []byte) (bool, error) {
			old := data.Get(k)
			if old == nil {
				return false, nil
			}
			packets--
			nbytes -= uint64(len(old) - recordHeader)
			return true, data.Delete(k)
		}
		cacheDel := func(k []byte) (bool, error) {
			if cache.Get(k) == nil {
				return false, nil
			}
			s.cache.remove(string(k))
			return true, cache.Delete(k)
		}
		for i, w := range batch {
			switch w.op {
			case opPut:
				if w.cache {
					if err := cache.Put(w.key, w.rec); err != nil {
						return err
					}
					s.cache.add(string(w.key), int64(len(w.key)+len(w.rec)-recordHeader))
					continue
				}
				if _, err := dataDel(w.key); err != nil {
					return err
				}
				if err := data.Put(w.key, w.rec); err != nil {
					return err
				}
				packets++
				nbytes += uint64(len(w.rec) - recordHeader)
			case opDelete:
				for _, del := range []func([]byte) (bool, error){dataDel, cacheDel} {
					ok, err := del(w.key)
					if err != nil {
						return err
					}
					if ok {
						results[i].n++
					}
				}
			case opDeletePrefix:
				for _, bk := range []*bolt.Bucket{data, cache} {
					var keys [][]byte
					c := bk.Cursor()
					for k, _ := c.Seek(w.key); k != nil && bytes.HasPrefix(k, w.key); k, _ = c.Next() {
						keys = append(keys, slices.Clone(k))
					}
					del := dataDel
					if bk == cache {
						del = cacheDel
					}
					for _, k := range keys {
						if _, err := del(k); err != nil {
							return err
						}
					}
					results[i].n += len(keys)
				}
			case opPutRecord:
				if err := recs.Put(w.key, w.rec); err != nil {
					return err
				}
			case opDeleteRecord:
				if recs.Get(w.key) != nil {
					results[i].n = 1
				}
				if err := recs.Delete(w.key); err != nil {
					return err
				}
			case opPurge:
				var keys [][]byte
				err := cache.ForEach(func(k, v []byte) error {
					if r, err := decodeRecord(v); err != nil || (r.expires != 0 && w.now >= r.expires) {
						keys = append(keys, slices.Clone(k))
					}
					return nil
				})
				if err != nil {
					return err
				}
				for _, k := range keys {
					if _, err := cacheDel(k); err != nil {
						return err
					}
				}
				results[i].n = len(keys)
			}
		}
		var err error
		if evicted, err = s.evictOver(cache); err != nil {
			return err
		}
		if err := meta.Put(metaPackets, u64(packets)); err != nil {
			return err
		}
		return meta.Put(metaBytes, u64(nbytes))
	})
	if err != nil {
		s.commitErrs.Add(1)
		s.cfg.Logger.Error("commit failed", "writes", len(batch), "err", err)
		err = fmt.Errorf("%w: commit: %w", ErrIO, err)
		// The in-memory cache index may have run ahead of the rolled-back
		// transaction; rebuild it from what is on disk.
		if verr := s.db.View(func(tx *bolt.Tx) error {
			_, err := s.loadCache(tx, 0, false)
			return err
		}); verr != nil {
			s.cfg.Logger.Error("reload cache index failed", "err", verr)
		}
		for i := range results {
			results[i] = writeResult{err: err}
		}
	} else {
		s.commits.Add(1)
		s.writes.Add(uint64(len(batch)))
		s.evictions.Add(uint64(evicted))
		s.packets.Store(packets)
		s.bytes.Store(nbytes)
	}
	for i, w := range batch {
		w.done <- results[i]
	}
}

// Get returns a copy of a stored Data wire matching name:
//
//   - without canBePrefix, the packet named exactly name; if name ends with
//     an implicit SHA-256 digest component, the packet named name minus that
//     component whose wire has that digest;
//   - with canBePrefix, the packet with the greatest name (NDN canonical
//     order) among those under the prefix name, the newest version when
//     versions are v=<number> components.
//
// With mustBeFresh only packets with a FreshnessPeriod that have been
// stored for less than it at now qualify (a non-fresh newer packet is
// skipped in favour of a fresh older one). Durable packets and unexpired
// cache entries both qualify; for equal names the durable one wins.
// Prefix queries walk backwards over non-qualifying entries, so their cost
// grows with the number of stale packets under the prefix.
//
// Errors: ErrNotFound, ErrCorrupt, ErrIO, ErrClosed. Get does not block on
// writes and is safe for concurrent use.
func (s *Store) Get(name enc.Name, canBePrefix, mustBeFresh bool, now time.Time) ([]byte, error) {
	var digest []byte
	if l := len(name); l > 0 && name[l-1].Typ == enc.TypeImplicitSha256DigestComponent {
		digest, name, canBePrefix = name[l-1].Val, name[:l-1], false
	}
	key := NameKey(name)
	ok := func(r record, cache bool) bool {
		if cache && r.expired(now) {
			return false
		}
		if mustBeFresh && !r.fresh(now) {
			return false
		}
		if digest != nil {
			sum := sha256.Sum256(r.wire)
			return bytes.Equal(sum[:], digest)
		}
		return true
	}
	var wire, hitKey []byte
	var fromCache bool
	err := s.view(func(tx *bolt.Tx) error {
		for _, bk := range []struct {
			name  []byte
			cache bool
		}{{bucketData, false}, {bucketCache, true}} {
			b := tx.Bucket(bk.name)
			if !canBePrefix {
				if wire != nil {
					return nil
				}
				v := b.Get(key)
				if v == nil {
					continue
				}
				r, err := decodeRecord(v)
				if err != nil {
					return err
				}
				if ok(r, bk.cache) {
					wire, hitKey, fromCache = slices.Clone(r.wire), key, bk.cache
				}
				continue
			}
			k, r, err := newestUnder(b, key, func(r record) bool { return ok(r, bk.cache) })
			if err != nil {
				return err
			}
			if k != nil && (hitKey == nil || bytes.Compare(k, hitKey) > 0) {
				wire, hitKey, fromCache = slices.Clone(r.wire), slices.Clone(k), bk.cache
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, err
	case wire == nil:
		s.cacheMisses.Add(1)
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	case fromCache:
		s.cacheHits.Add(1)
		s.cache.touch(string(hitKey))
	default:
		s.durableHits.Add(1)
	}
	return wire, nil
}

// newestUnder returns the greatest key in b with byte prefix p whose record
// satisfies ok, walking backwards from the end of the prefix range.
func newestUnder(b *bolt.Bucket, p []byte, ok func(record) bool) ([]byte, record, error) {
	c := b.Cursor()
	var k, v []byte
	if end := prefixEnd(p); end == nil {
		k, v = c.Last()
	} else if k, _ = c.Seek(end); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Prev() {
		r, err := decodeRecord(v)
		if err != nil {
			return nil, record{}, err
		}
		if ok(r) {
			return k, r, nil
		}
	}
	return nil, record{}, nil
}

// List returns the names of durable packets under prefix (the prefix
// itself included) in NDN canonical order, at most pageSize of them
// (DefaultPageSize if pageSize <= 0, at most MaxPageSize). pageToken is ""
// for the first page, else the next value of the previous call with the
// same prefix; next is "" when there are no more names. Cache entries are
// not listed. Pages are not a snapshot: names written between calls may or
// may not appear. Errors: ErrBadPageToken, ErrCorrupt, ErrIO, ErrClosed.
// Safe for concurrent use.
func (s *Store) List(prefix enc.Name, pageToken string, pageSize int) (names []enc.Name, next string, err error) {
	switch {
	case pageSize <= 0:
		pageSize = DefaultPageSize
	case pageSize > MaxPageSize:
		pageSize = MaxPageSize
	}
	p := NameKey(prefix)
	var after []byte
	if pageToken != "" {
		after, err = base64.RawURLEncoding.DecodeString(pageToken)
		if err != nil || !bytes.HasPrefix(after, p) {
			return nil, "", fmt.Errorf("%w: %q", ErrBadPageToken, pageToken)
		}
		if _, err := NameFromKey(after); err != nil {
			return nil, "", fmt.Errorf("%w: %q", ErrBadPageToken, pageToken)
		}
	}
	err = s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketData).Cursor()
		k, _ := c.Seek(p)
		if after != nil {
			if k, _ = c.Seek(after); bytes.Equal(k, after) {
				k, _ = c.Next()
			}
		}
		var last []byte
		for ; k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			if len(names) == pageSize {
				next = base64.RawURLEncoding.EncodeToString(last)
				return nil
			}
			n, err := NameFromKey(slices.Clone(k))
			if err != nil {
				return fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			names = append(names, n)
			last = k
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return names, next, nil
}

// view runs f in a read transaction unless the store is closed.
func (s *Store) view(f func(*bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	err := s.db.View(f)
	if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("%w: %w", ErrIO, err)
	}
	return err
}

// Stats returns a snapshot of the counters. Safe for concurrent use, also
// after Close.
func (s *Store) Stats() Stats {
	n, b := s.cache.stats()
	commits := s.commits.Load()
	return Stats{
		Packets:        s.packets.Load(),
		Bytes:          s.bytes.Load(),
		CachePackets:   uint64(n),
		CacheBytes:     uint64(b),
		DurableHits:    s.durableHits.Load(),
		CacheHits:      s.cacheHits.Load(),
		CacheMisses:    s.cacheMisses.Load(),
		CacheEvictions: s.evictions.Load(),
		Writes:         s.writes.Load(),
		Commits:        commits,
		Fsyncs:         2 * commits,
		CommitErrors:   s.commitErrs.Load(),
	}
}

func u64(x uint64) []byte { return binary.BigEndian.AppendUint64(nil, x) }

func getU64(b *bolt.Bucket, k []byte) uint64 {
	if v := b.Get(k); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
