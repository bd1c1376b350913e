// Package store is the durable storage core of the repo: an embedded
// database of NDN Data packets keyed by name, with group commit, prefix
// queries in NDN canonical order, and a separate TTL-and-LRU cache.
//
// The main type is Store. Open it on a directory, Put signed Data wire as
// received, and Get it back by exact name or by prefix:
//
//	s, err := store.Open("/var/lib/ndn-repo", store.DefaultConfig())
//	if err != nil { ... }
//	defer s.Close()
//	err = s.Put(ctx, data.Name(), wire, store.PutOptions{}) // durable when it returns
//	wire, err = s.Get(prefix, true, false, time.Now())     // newest version under prefix
//	names, next, err := s.List(prefix, "", 100)
//
// Store calls no user code. It owns one goroutine, the committer, started
// by Open and awaited by Close; every other method runs on its caller's
// goroutine and is safe for concurrent use.
//
// # Keys
//
// A key is NameKey(name): the component TLVs in order, with TLV-TYPE and
// TLV-LENGTH as shortest NDN var-numbers (the value of the Name TLV). The
// shortest var-number form preserves numeric order and is prefix-free, so
// bytes.Compare on keys equals enc.Name.Compare (type, then length, then
// value bytes, component by component; a prefix sorts first). Hence a
// name prefix is a key range, "newest version under a prefix" is the last
// key of that range (v=256 sorts after v=255 because its value is longer),
// and List pages are cursor ranges. Components are encoded here, not with
// ndnd's Component.Bytes, whose TLV-LENGTH is wrong for values of 253
// bytes or more in ndnd v1.5.3 (see TestNameKeyLongComponentRegression).
// The package never parses name URIs (enc.NameFromStr panics on some
// inputs); List page tokens are base64 keys.
//
// # Values
//
// Each value is a 25-byte header (format version, insertion time,
// FreshnessPeriod, cache expiry) followed by the Data wire byte for byte,
// so what Get returns stays verifiable by anyone. Put parses the Data with
// ndnd's spec_2022 reader (under recover) to check that it is one Data TLV
// with the given name and to take its FreshnessPeriod; the packet, not the
// caller, is the authority on freshness, so PutOptions has no such field.
// MustBeFresh is judged at Get's now: the packet qualifies if it has a
// positive FreshnessPeriod and was inserted less than that long ago.
//
// # Durability and group commit
//
// All writes (Put, Delete, DeletePrefix, PurgeExpired) go through a bounded
// queue (Config.QueueSize) to the committer, which takes everything queued
// (up to Config.MaxBatch writes or 32 MiB) into one bbolt transaction and
// one commit, which fsyncs (fdatasync of the data pages, then of the meta
// page) before any of those calls returns. A commit is atomic: after a
// crash the store holds every acknowledged write, and each packet is
// either whole or absent (TestCrashSafety kills a writing process with
// SIGKILL 20 times and checks this). A write whose ctx ends while it waits
// returns ctx.Err() but may still be committed. If a commit fails (disk
// full, I/O error) every write in it returns ErrIO and none of it is
// stored; the store stays usable and consistent (TestDiskFull fills a
// 1 MiB tmpfs). A read-only file system makes Open fail with ErrIO.
//
// # Cache entries
//
// Put with PutOptions.Cache writes to a separate keyspace (bucket). Cache
// entries expire after their TTL (expired ones are invisible to Get and are
// dropped by Open and PurgeExpired) and are evicted least recently used
// first, in the committing transaction, when they exceed
// Config.CacheMaxBytes. Eviction and expiry never touch durable entries.
// The recency order lives in memory and is rebuilt from insertion times on
// Open.
//
// # Locks
//
// Store.mu (read-locked by reads and while enqueueing a write,
// write-locked by Close) is taken before lru.mu (the cache recency list).
// The committer takes only lru.mu.
//
// # Choice of database
//
// BenchmarkCandidates measures bbolt (go.etcd.io/bbolt v1.5.0) and badger
// (github.com/dgraph-io/badger/v4 v4.8.0, which ndnd's own repo uses) on
// durable inserts of signed Data (100 B-8 KiB, log-uniform, mean about
// 1.8 KiB) under 5-9 component names, and on exact-name reads of 20,000
// packets. Packets per second, two runs each, 3000 puts per run, on ext4 on
// a shared 2-vCPU virtual machine whose fsync latency varied by up to 2x
// between runs:
//
//	                          put-1w       put-16w      put-16w-native  get          get-16r
//	fsync (plain file)        1700-1740    9630-9660    -               -            -
//	bbolt (defaults)          440-750      3610-4120    1090-1160       155k         17k-32k
//	bbolt NoFreelistSync      1710-1870    6320-7110    1010-1220       109k-213k    111k-119k
//	badger SyncWrites         1060-2120    6360-6380    1560-1950       78k-82k      149k-163k
//
// put-16w is 16 writers feeding a group committer as Store does; "native"
// is bbolt's DB.Batch (which waits up to 10 ms to fill a batch) and
// badger's own grouping of concurrent transactions. With the group
// committer and NoFreelistSync, bbolt matches badger on durable writes
// (both reach about 70% of what bare fsync allows) and is at least as fast
// on single reads. We chose bbolt because, at equal speed, it is simpler
// to make correct: one file with a copy-on-write B+tree and checksummed
// meta pages, so a commit is atomic without log replay; ordered keys with
// cursors (Seek, Prev) map directly onto prefix ranges; buckets keep
// durable, cache and counter records apart yet commit them in one
// transaction; it runs no background goroutines (badger runs compactors
// and needs scheduled value-log GC to reclaim deleted space, and reserves
// 64 MiB memtables), and a failed commit on a full disk simply rolls back.
// Its costs: one writer at a time (we have one committer anyway), the
// file never shrinks (free pages are reused; compact offline with
// `bbolt compact`), and with NoFreelistSync Open scans the file to
// rebuild the freelist, in time proportional to its size.
//
// Reproduce with
//
//	go test -run '^$' -bench 'BenchmarkCandidates/.*/put' -benchtime 3000x -count 2 ./repo/store
//	go test -run '^$' -bench 'BenchmarkCandidates/.*/get' -benchtime 2s ./repo/store
package store
