package ndndrepo

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	tlvx "github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// Config configures a Server. A zero field means its default;
// DefaultConfig returns the defaults filled in (Prefix still to be set).
type Config struct {
	// Prefix is the repo's name, as ndnd clients know it (ndnd's repo
	// "name" setting; /ndnd/repo in ndnd's examples). The server answers
	// <Prefix>/32=cmd. Required.
	Prefix enc.Name
	// Logger receives the server's log. Default slog.Default(), narrowed
	// with component=ndndrepo.
	Logger *slog.Logger
	// DedupWindow is how long a successful command is remembered by the
	// digest of its signed command Data, so that a replay or a
	// retransmission of the same bytes is answered from memory instead of
	// being executed again. Default 10 minutes. After it, a replayed
	// command is executed again (see the package doc).
	DedupWindow time.Duration
	// DedupEntries bounds the remembered commands; when full, the oldest
	// is forgotten first. Default 4096.
	DedupEntries int
	// MaxBlobPackets bounds the Data packets one BlobFetch may carry.
	// Default 1024.
	MaxBlobPackets int
	// OpTimeout bounds the backend work of one command (Authorize plus
	// JoinGroup, LeaveGroup, Insert or PutData). It is not tied to the
	// Interest's lifetime: a join that outlives the Interest still
	// completes, and the client's retransmission (same command Data) is
	// answered with its result. Default 30s.
	OpTimeout time.Duration
	// Now is the clock of the dedup window. Default time.Now.
	Now func() time.Time
}

// defaultMaxBlobPackets is Config.MaxBlobPackets's default, and the bound
// PublicationHook applies.
const defaultMaxBlobPackets = 1024

// DefaultConfig returns a Config with every default filled in except
// Prefix.
func DefaultConfig() Config {
	return Config{
		Logger:         slog.Default(),
		DedupWindow:    10 * time.Minute,
		DedupEntries:   4096,
		MaxBlobPackets: defaultMaxBlobPackets,
		OpTimeout:      30 * time.Second,
		Now:            time.Now,
	}
}

// Validate reports a missing Prefix or a negative setting; the error wraps
// ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	if len(c.Prefix) == 0 {
		errs = append(errs, errors.New("config: Prefix is required"))
	}
	if !tlvx.NdndEncodable(c.Prefix) {
		errs = append(errs, errors.New("config: Prefix has a component of 253 bytes or more (ndnd encodes it wrongly)"))
	}
	if c.DedupWindow < 0 || c.DedupEntries < 0 || c.MaxBlobPackets < 0 || c.OpTimeout < 0 {
		errs = append(errs, errors.New("DedupWindow, DedupEntries, MaxBlobPackets and OpTimeout must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	c.Logger = c.Logger.With("component", "ndndrepo")
	if c.DedupWindow == 0 {
		c.DedupWindow = d.DedupWindow
	}
	if c.DedupEntries == 0 {
		c.DedupEntries = d.DedupEntries
	}
	if c.MaxBlobPackets == 0 {
		c.MaxBlobPackets = d.MaxBlobPackets
	}
	if c.OpTimeout == 0 {
		c.OpTimeout = d.OpTimeout
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	c.Prefix = c.Prefix.Clone()
	return c
}
