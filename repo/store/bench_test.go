package store

import (
	"errors"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// The candidate benchmarks measure the two embedded databases considered
// for the store (see doc.go for the numbers and the choice) on the
// operations the store needs, with every write durable (fsync) before it
// is acknowledged:
//
// plus a baseline "fsync" that appends to a plain file and fdatasyncs, to
// show what the disk itself allows. Cases:
//
//	put-1w          one writer, one transaction + fsync per packet
//	put-16w         16 writers feeding one group committer (as Store does):
//	                one transaction + fsync per batch
//	put-16w-native  16 writers using the database's own batching
//	                (bbolt DB.Batch; badger concurrent Update with SyncWrites)
//	get, get-16r    exact-name reads of 20,000 stored packets, 1 and 16 readers
//
// Keys are NameKey encodings of 5-9 component names; values are signed Data
// of 100 B-8 KiB (log-uniform). Run with:
//
//	go test -run '^$' -bench BenchmarkCandidates -benchtime 3s ./repo/store
func BenchmarkCandidates(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(b *testing.B) candidate
	}{
		{"fsync", openFileCandidate},
		{"bbolt", openBoltCandidate},
		{"bbolt-nofreelistsync", openBoltNoFreelistSyncCandidate},
		{"badger", openBadgerCandidate},
	} {
		b.Run(c.name, func(b *testing.B) {
			if c.name == "fsync" {
				// Baseline: append to a plain file + fdatasync, no index.
				b.Run("put-1w", func(b *testing.B) { benchPut(b, c.open(b), 1, false) })
				b.Run("put-16w", func(b *testing.B) { benchPut(b, c.open(b), 16, false) })
				return
			}
			b.Run("put-1w", func(b *testing.B) { benchPut(b, c.open(b), 1, false) })
			b.Run("put-16w", func(b *testing.B) { benchPut(b, c.open(b), 16, false) })
			b.Run("put-16w-native", func(b *testing.B) { benchPut(b, c.open(b), 16, true) })
			b.Run("get", func(b *testing.B) { benchGet(b, c.open(b), 1) })
			b.Run("get-16r", func(b *testing.B) { benchGet(b, c.open(b), 16) })
		})
	}
}

type candidate interface {
	// putBatch writes all pairs in one durable transaction.
	putBatch(keys, vals [][]byte) error
	// putNative writes one pair durably through the database's own
	// mechanism for concurrent writers.
	putNative(key, val []byte) error
	get(key []byte) ([]byte, error)
	close() error
}

type benchValues struct {
	wires [][]byte
	avg   int64
}

func newBenchValues() benchValues {
	r := rand.New(rand.NewPCG(1, 2))
	var v benchValues
	var total int
	for i := range 256 {
		w := makeWire(benchName(i), benchSize(r), uint64(i), 0)
		v.wires = append(v.wires, w)
		total += len(w)
	}
	v.avg = int64(total / len(v.wires))
	return v
}

func benchPut(b *testing.B, db candidate, writers int, native bool) {
	defer func() {
		b.StopTimer() // badger's Close flushes memtables; not part of the op
		if err := db.close(); err != nil {
			b.Error(err)
		}
	}()
	vals := newBenchValues()
	b.SetBytes(vals.avg)
	b.ResetTimer()
	if writers == 1 {
		for i := range b.N {
			if err := db.putBatch([][]byte{NameKey(benchName(i))}, [][]byte{vals.wires[i%len(vals.wires)]}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkt/s")
		return
	}

	type req struct {
		key, val []byte
		done     chan error
	}
	var commit func(key, val []byte) error
	var cwg sync.WaitGroup
	queue := make(chan req, 1024)
	if native {
		commit = db.putNative
	} else {
		cwg.Add(1)
		go func() { // the group committer, as in Store.run
			defer cwg.Done()
			for r := range queue {
				batch := []req{r}
			drain:
				for len(batch) < 1024 {
					select {
					case r, ok := <-queue:
						if !ok {
							break drain
						}
						batch = append(batch, r)
					default:
						break drain
					}
				}
				keys := make([][]byte, len(batch))
				vs := make([][]byte, len(batch))
				for i, r := range batch {
					keys[i], vs[i] = r.key, r.val
				}
				err := db.putBatch(keys, vs)
				for _, r := range batch {
					r.done <- err
				}
			}
		}()
		commit = func(key, val []byte) error {
			done := make(chan error, 1)
			queue <- req{key, val, done}
			return <-done
		}
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += writers {
				if err := commit(NameKey(benchName(i)), vals.wires[i%len(vals.wires)]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(queue)
	cwg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkt/s")
}

func benchGet(b *testing.B, db candidate, readers int) {
	defer func() {
		b.StopTimer() // badger's Close flushes memtables; not part of the op
		if err := db.close(); err != nil {
			b.Error(err)
		}
	}()
	const n = 20000
	vals := newBenchValues()
	for lo := 0; lo < n; lo += 1000 {
		var keys, vs [][]byte
		for i := lo; i < lo+1000; i++ {
			keys = append(keys, NameKey(benchName(i)))
			vs = append(vs, vals.wires[i%len(vals.wires)])
		}
		if err := db.putBatch(keys, vs); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(vals.avg)
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := w; i < b.N; i += readers {
				if _, err := db.get(NameKey(benchName(r.IntN(n)))); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkt/s")
}

type boltCandidate struct{ db *bolt.DB }

var benchBucket = []byte("d")

func openBoltCandidate(b *testing.B) candidate { return openBolt(b, nil) }

func openBoltNoFreelistSyncCandidate(b *testing.B) candidate {
	return openBolt(b, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
}

func openBolt(b *testing.B, opts *bolt.Options) candidate {
	db, err := bolt.Open(b.TempDir()+"/bolt.db", 0o600, opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(benchBucket)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return boltCandidate{db}
}

func (c boltCandidate) putBatch(keys, vals [][]byte) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(benchBucket)
		for i := range keys {
			if err := bk.Put(keys[i], vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (c boltCandidate) putNative(key, val []byte) error {
	return c.db.Batch(func(tx *bolt.Tx) error { return tx.Bucket(benchBucket).Put(key, val) })
}

func (c boltCandidate) get(key []byte) (v []byte, err error) {
	err = c.db.View(func(tx *bolt.Tx) error {
		v = append([]byte(nil), tx.Bucket(benchBucket).Get(key)...)
		if v == nil {
			return errors.New("missing")
		}
		return nil
	})
	return v, err
}

func (c boltCandidate) close() error { return c.db.Close() }

type badgerCandidate struct{ db *badger.DB }

func openBadgerCandidate(b *testing.B) candidate {
	db, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithSyncWrites(true).WithLogger(nil))
	if err != nil {
		b.Fatal(err)
	}
	return badgerCandidate{db}
}

func (c badgerCandidate) putBatch(keys, vals [][]byte) error {
	return c.db.Update(func(txn *badger.Txn) error {
		for i := range keys {
			if err := txn.Set(keys[i], vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (c badgerCandidate) putNative(key, val []byte) error {
	return c.db.Update(func(txn *badger.Txn) error { return txn.Set(key, val) })
}

func (c badgerCandidate) get(key []byte) (v []byte, err error) {
	err = c.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key)
		if err != nil {
			return err
		}
		v, err = it.ValueCopy(nil)
		return err
	})
	return v, err
}

func (c badgerCandidate) close() error { return c.db.Close() }

type fileCandidate struct {
	mu sync.Mutex
	f  *os.File
}

func openFileCandidate(b *testing.B) candidate {
	f, err := os.Create(b.TempDir() + "/log")
	if err != nil {
		b.Fatal(err)
	}
	return &fileCandidate{f: f}
}

func (c *fileCandidate) putBatch(keys, vals [][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range keys {
		if _, err := c.f.Write(keys[i]); err != nil {
			return err
		}
		if _, err := c.f.Write(vals[i]); err != nil {
			return err
		}
	}
	return unix.Fdatasync(int(c.f.Fd()))
}

func (c *fileCandidate) putNative(key, val []byte) error {
	return c.putBatch([][]byte{key}, [][]byte{val})
}

func (c *fileCandidate) get([]byte) ([]byte, error) { return nil, errors.New("unsupported") }

func (c *fileCandidate) close() error { return c.f.Close() }
