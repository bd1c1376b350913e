package groupsync

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// Sink is where a Member puts publications and its sync state; the repo
// core implements it over its store.
//
// PutData is called from several goroutines at once (one per fetch in
// flight); LoadState once, from Join; SaveState from one goroutine at a time.
// A Member never calls the Sink after its Close has returned. Slices passed
// in are owned by the Sink once passed.
type Sink interface {
	// PutData stores one Data packet (its wire encoding, exactly as
	// received and verified). It is durable when PutData returns nil.
	// Storing a packet that is already stored must succeed.
	PutData(ctx context.Context, wire []byte) error
	// LoadState returns the state last saved for group, or nil, nil when
	// none was.
	LoadState(group enc.Name) ([]byte, error)
	// SaveState durably replaces the state saved for group.
	SaveState(ctx context.Context, group enc.Name, state []byte) error
}

// PublicationFunc is called after a publication is durably stored. name is
// the publication's name without segment (<group>/<publisher>/t=<boot>/
// seq=<n>/v=0); content is the concatenated content of its segments (for a
// publication recovered from a history snapshot, the content the snapshot
// holds for it). It runs on the Member's delivery goroutine, one call at a
// time, in sequence order for each publisher; it may block briefly (fetching
// goes on meanwhile, but later calls wait). ctx ends when the Member closes.
// The callee owns content.
type PublicationFunc func(ctx context.Context, group enc.Name, name enc.Name, content []byte)

// Config configures a Member. A zero field means its default, except
// Verify: start from DefaultConfig, or a Config literal stores packets
// without checking their signatures.
type Config struct {
	// Group is the SVS group prefix (SvsALO's GroupPrefix). Required.
	Group enc.Name
	// MulticastPrefix, if set, is prepended to the sync prefix, as SvsALO's
	// MulticastPrefix does; publishers must use the same.
	MulticastPrefix enc.Name
	// HistorySnapshot is the threshold of the publishers'
	// SnapshotNodeHistory (ndnd's HistorySnapshotConfig); 0 means they take
	// no snapshots. When set (at least 10), the Member also stores every
	// snapshot and index, and recovers publications the publishers evicted
	// from the snapshots.
	HistorySnapshot uint64
	// Sink stores publications and state. Required.
	Sink Sink
	// OnPublication, if set, is called after each publication is stored.
	OnPublication PublicationFunc
	// Verify checks every fetched packet, and every state vector received,
	// with node.VerifyData (signature chain to the node's trust anchors);
	// packets that fail are not stored. DefaultConfig sets it.
	Verify bool
	// Logger receives the member's log. Default slog.Default().
	Logger *slog.Logger

	// Window bounds the publications fetched at once, over all
	// publishers. Default 16.
	Window int
	// FetchTimeout is the lifetime of each fetch Interest. Default 2s.
	FetchTimeout time.Duration
	// Retries is how many times a publication whose packets fail
	// verification is fetched before it is skipped (Stats.Skipped), and
	// how many network failures in a row make the Member look for the
	// publication in a history snapshot. A publication that cannot be
	// fetched is retried for as long as the Member runs. Default 3.
	Retries int
	// RetryBackoff is the delay before the first retry of a failed fetch;
	// it doubles with each failure up to MaxRetryBackoff. Defaults 250ms
	// and 30s.
	RetryBackoff, MaxRetryBackoff time.Duration
	// MaxSegments bounds the segments of one publication, snapshot or
	// index; larger objects are skipped as rejected. Default 1024 (about
	// 8 MB with ndnd's 8000-byte segments).
	MaxSegments int
	// SaveInterval is the least time between two saves of the state.
	// Default 500ms. Close always saves.
	SaveInterval time.Duration
	// SuppressionPeriod is SVS's: how long the Member waits, merging what
	// it hears, before it answers an outdated state vector by re-sending
	// the newest ones it stored. Default 200ms (SVS's default).
	SuppressionPeriod time.Duration
	// MaxSyncWires bounds the publishers' Sync Data packets kept (and
	// persisted) for re-sending. Default 8.
	MaxSyncWires int
}

// DefaultConfig returns a Config with every default filled in and Verify
// set. Group and Sink must still be set.
func DefaultConfig() Config {
	return Config{
		Verify:            true,
		Logger:            slog.Default(),
		Window:            16,
		FetchTimeout:      2 * time.Second,
		Retries:           3,
		RetryBackoff:      250 * time.Millisecond,
		MaxRetryBackoff:   30 * time.Second,
		MaxSegments:       1024,
		SaveInterval:      500 * time.Millisecond,
		SuppressionPeriod: 200 * time.Millisecond,
		MaxSyncWires:      8,
	}
}

// Validate reports a configuration that cannot work; errors wrap
// ErrBadConfig.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadConfig}, a...)...)
	}
	switch {
	case len(c.Group) == 0:
		return bad("Group is required")
	case !fetchable(c.Group):
		return bad("Group %s has a component longer than %d bytes", c.Group, tlv.NdndMaxComponentLen)
	case len(c.MulticastPrefix) > 0 && !fetchable(c.MulticastPrefix):
		return bad("MulticastPrefix has a component longer than %d bytes", tlv.NdndMaxComponentLen)
	case c.Sink == nil:
		return bad("Sink is required")
	case c.HistorySnapshot != 0 && c.HistorySnapshot < 10:
		return bad("HistorySnapshot is %d; it must be 0 or at least 10", c.HistorySnapshot)
	case c.Window < 0, c.Retries < 0, c.MaxSegments < 0, c.MaxSyncWires < 0:
		return bad("Window, Retries, MaxSegments and MaxSyncWires must not be negative")
	case c.FetchTimeout < 0, c.RetryBackoff < 0, c.MaxRetryBackoff < 0, c.SaveInterval < 0, c.SuppressionPeriod < 0:
		return bad("durations must not be negative")
	case c.MaxRetryBackoff != 0 && c.RetryBackoff > c.MaxRetryBackoff:
		return bad("RetryBackoff is larger than MaxRetryBackoff")
	}
	return nil
}

// withDefaults fills zero fields (Verify excepted) and clones the names.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.Window == 0 {
		c.Window = d.Window
	}
	if c.FetchTimeout == 0 {
		c.FetchTimeout = d.FetchTimeout
	}
	if c.Retries == 0 {
		c.Retries = d.Retries
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = d.RetryBackoff
		if c.MaxRetryBackoff != 0 {
			c.RetryBackoff = min(c.RetryBackoff, c.MaxRetryBackoff)
		}
	}
	if c.MaxRetryBackoff == 0 {
		c.MaxRetryBackoff = max(d.MaxRetryBackoff, c.RetryBackoff)
	}
	if c.MaxSegments == 0 {
		c.MaxSegments = d.MaxSegments
	}
	if c.SaveInterval == 0 {
		c.SaveInterval = d.SaveInterval
	}
	if c.SuppressionPeriod == 0 {
		c.SuppressionPeriod = d.SuppressionPeriod
	}
	if c.MaxSyncWires == 0 {
		c.MaxSyncWires = d.MaxSyncWires
	}
	c.Group = c.Group.Clone()
	c.MulticastPrefix = c.MulticastPrefix.Clone()
	c.Logger = c.Logger.With("component", "groupsync", "group", c.Group.String())
	return c
}
