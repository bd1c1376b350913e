package pubsub

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Checkpoint is a durable record of ExactlyOnce subscriptions' positions,
// in a bbolt file. One Checkpoint may serve many subscriptions (each with
// its own Durable name); it is safe for concurrent use.
type Checkpoint struct {
	db *bolt.DB
}

var checkpointBucket = []byte("pubsub-checkpoints")

// OpenCheckpoint opens (or creates) the checkpoint file at path. The file
// is locked while open. Errors: bbolt's, wrapped.
func OpenCheckpoint(path string) (*Checkpoint, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("pubsub: open checkpoint %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(checkpointBucket)
		return err
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("pubsub: open checkpoint %s: %w", path, err)
	}
	return &Checkpoint{db: db}, nil
}

// Close closes the file. Close the subscriptions using it first.
func (c *Checkpoint) Close() error { return c.db.Close() }

func checkpointKey(durable, stream string) []byte {
	k := binary.AppendUvarint(nil, uint64(len(durable)))
	return append(append(k, durable...), stream...)
}

func (c *Checkpoint) get(durable, stream string) (seq, idx uint64, ok bool) {
	_ = c.db.View(func(tx *bolt.Tx) error {
		seq, idx, ok = decodePosition(tx.Bucket(checkpointBucket).Get(checkpointKey(durable, stream)))
		return nil
	})
	return seq, idx, ok
}

func (c *Checkpoint) put(durable, stream string, seq, idx uint64) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(checkpointBucket).Put(checkpointKey(durable, stream), encodePosition(seq, idx))
	})
}

func encodePosition(seq, idx uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, seq), idx)
}

// decodePosition reads a stored position; anything but 16 bytes with a
// sequence number of at least 1 is no position.
func decodePosition(b []byte) (seq, idx uint64, ok bool) {
	if len(b) != 16 {
		return 0, 0, false
	}
	seq, idx = binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])
	return seq, idx, seq >= 1 && idx < maxBatchMessages
}
