package store

import (
	"fmt"
	"log/slog"
	"time"
)

// Config holds the settings of a Store. A zero field means "use the
// default" given in its doc; DefaultConfig returns them filled in.
type Config struct {
	// CacheMaxBytes bounds the bytes (key plus Data wire) held by cache
	// entries, those written with PutOptions.Cache. When a commit pushes
	// the total above it, least recently used cache entries are evicted in
	// that same commit. Durable entries never count and are never evicted.
	// Default 64 MiB.
	CacheMaxBytes int64
	// CacheTTL is how long a cache entry lives when PutOptions.TTL is zero.
	// Default 1 hour.
	CacheTTL time.Duration
	// QueueSize is the capacity of the write queue feeding the group
	// committer; Put, Delete, DeletePrefix and PurgeExpired wait (or fail
	// with their ctx error) while it is full. Default 4096.
	QueueSize int
	// MaxBatch is the most writes the committer folds into one transaction
	// and fsync. Default 1024. A batch is also cut at 32 MiB of wire.
	MaxBatch int
	// MaxPacketSize is the largest Data wire Put accepts, in bytes.
	// Default 8800 (the NDN maximum packet size).
	MaxPacketSize int
	// LockTimeout is how long Open waits for the database file lock held
	// by another process before failing with ErrLocked. Default 1 s.
	LockTimeout time.Duration
	// Now is the clock used to stamp insertion times and cache expiry.
	// Default time.Now. Get takes its own now.
	Now func() time.Time
	// Logger receives commit failures. Default slog.Default(), narrowed
	// with component=repo/store.
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every field set to its default.
func DefaultConfig() Config {
	return Config{
		CacheMaxBytes: 64 << 20,
		CacheTTL:      time.Hour,
		QueueSize:     4096,
		MaxBatch:      1024,
		MaxPacketSize: 8800,
		LockTimeout:   time.Second,
		Now:           time.Now,
		Logger:        slog.Default(),
	}
}

// Validate reports an error wrapping ErrInvalidConfig if a field is
// negative. Zero fields are valid (they mean the default).
func (c Config) Validate() error {
	switch {
	case c.CacheMaxBytes < 0:
		return fmt.Errorf("%w: CacheMaxBytes %d < 0", ErrInvalidConfig, c.CacheMaxBytes)
	case c.CacheTTL < 0:
		return fmt.Errorf("%w: CacheTTL %v < 0", ErrInvalidConfig, c.CacheTTL)
	case c.QueueSize < 0:
		return fmt.Errorf("%w: QueueSize %d < 0", ErrInvalidConfig, c.QueueSize)
	case c.MaxBatch < 0:
		return fmt.Errorf("%w: MaxBatch %d < 0", ErrInvalidConfig, c.MaxBatch)
	case c.MaxPacketSize < 0:
		return fmt.Errorf("%w: MaxPacketSize %d < 0", ErrInvalidConfig, c.MaxPacketSize)
	case c.LockTimeout < 0:
		return fmt.Errorf("%w: LockTimeout %v < 0", ErrInvalidConfig, c.LockTimeout)
	}
	return nil
}

// withDefaults returns c with zero fields replaced by defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.CacheMaxBytes == 0 {
		c.CacheMaxBytes = d.CacheMaxBytes
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = d.CacheTTL
	}
	if c.QueueSize == 0 {
		c.QueueSize = d.QueueSize
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = d.MaxBatch
	}
	if c.MaxPacketSize == 0 {
		c.MaxPacketSize = d.MaxPacketSize
	}
	if c.LockTimeout == 0 {
		c.LockTimeout = d.LockTimeout
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	c.Logger = c.Logger.With("component", "repo/store")
	return c
}
