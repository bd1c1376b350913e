package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// MaxRecordKey and MaxRecordValue bound a record's key and value.
const (
	MaxRecordKey   = 1024
	MaxRecordValue = 1 << 20
)

// PutRecord durably stores value under key in the records keyspace, a
// small key-value table beside the packets for the repo's own state
// (insert jobs, registered prefixes, sync-group state). It goes through
// the group committer like Put and returns once committed. Errors:
// ErrInvalidName (empty or oversize key), ErrInvalidData (oversize value),
// ErrIO, ErrClosed, or ctx's error.
func (s *Store) PutRecord(ctx context.Context, key string, value []byte) error {
	if err := checkRecordKey(key); err != nil {
		return err
	}
	if len(value) > MaxRecordValue {
		return fmt.Errorf("%w: %d-byte record exceeds %d", ErrInvalidData, len(value), MaxRecordValue)
	}
	return s.submit(ctx, &writeReq{op: opPutRecord, key: []byte(key), rec: slices.Clone(value), size: len(value)}).err
}

// DeleteRecord removes the record key. Errors: ErrNotFound if there was
// none, else as PutRecord.
func (s *Store) DeleteRecord(ctx context.Context, key string) error {
	if err := checkRecordKey(key); err != nil {
		return err
	}
	res := s.submit(ctx, &writeReq{op: opDeleteRecord, key: []byte(key)})
	if res.err == nil && res.n == 0 {
		return fmt.Errorf("%w: record %q", ErrNotFound, key)
	}
	return res.err
}

// Record returns a copy of the record key. Errors: ErrNotFound, ErrIO,
// ErrClosed.
func (s *Store) Record(key string) ([]byte, error) {
	var v []byte
	err := s.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketRecs).Get([]byte(key)); b != nil {
			v = slices.Clone(b)
			return nil
		}
		return fmt.Errorf("%w: record %q", ErrNotFound, key)
	})
	return v, err
}

// Records calls f for each record whose key starts with prefix, in key
// order, until f returns false. f must not call the Store. Errors: ErrIO,
// ErrClosed.
func (s *Store) Records(prefix string, f func(key string, value []byte) bool) error {
	return s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecs).Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if !f(string(k), slices.Clone(v)) {
				return nil
			}
		}
		return nil
	})
}

func checkRecordKey(key string) error {
	if key == "" || len(key) > MaxRecordKey {
		return fmt.Errorf("%w: record key of %d bytes", ErrInvalidName, len(key))
	}
	return nil
}
