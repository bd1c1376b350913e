package pyrepo

import (
	"errors"
	"log/slog"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

// Config configures a Server. A zero field means the default;
// DefaultConfig returns them filled in.
type Config struct {
	// Prefix is the repo name (ndn-python-repo's repo_name), e.g. /testrepo.
	// Required. Commands arrive on <Prefix>/insert/notify and so on.
	Prefix enc.Name

	// PublicStatus answers check Interests that carry no signature by a
	// key (unsigned or DigestSha256, which proves nothing about the
	// sender). NDNts @ndn/pyrepo signs its check Interests with
	// DigestSha256 only, so it needs this. Default false: a check Interest
	// must be signed by a key that chains to the node's trust anchors and
	// be the command's own caller or be allowed "status" by
	// Backend.Authorize; others are answered NOT-FOUND.
	PublicStatus bool

	// NoRegister skips registering the command prefixes with the forwarder
	// (the caller already has a route covering Prefix).
	NoRegister bool

	// MaxInFlight bounds commands being fetched or executed at once. A
	// notification beyond it is dropped unanswered (the publisher
	// retransmits). Default 64.
	MaxInFlight int
	// MaxObjects bounds the objects or sync groups of one command; a larger
	// command is MALFORMED. Default 1024.
	MaxObjects int
	// MaxMessageSize bounds a command message's content in bytes; a larger
	// one is MALFORMED. Default 8800 (the largest NDN packet).
	MaxMessageSize int
	// FetchAttempts is how many times the message Interest is sent before
	// the notification is given up, all within the notify Interest's
	// lifetime. Default 3 (as ndn-python-repo).
	FetchAttempts int

	// MaxRecords bounds the commands whose status is kept for check; the
	// oldest are forgotten first. Default 4096.
	MaxRecords int
	// StatusTTL is how long a command's status is kept once it is seen to
	// be finished (check.rst: 60 s). Default 60s.
	StatusTTL time.Duration
	// RecordMaxAge is how long a command's status is kept at most, finished
	// or not. Default 1h.
	RecordMaxAge time.Duration

	// DedupWindow is how long a publication (publisher, topic, nonce) is
	// remembered so that a replayed notification does not run it again.
	// Default 10m. A replay after the window runs the command again if the
	// replayer can still serve the original signed message Data; see the
	// package doc.
	DedupWindow time.Duration
	// MaxDedup bounds the publications remembered; when full, the oldest is
	// forgotten early. Default 16384.
	MaxDedup int

	// Now is the clock for record and replay-window expiry. Default
	// time.Now.
	Now func() time.Time
	// Logger receives the server's log. Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every default filled in except
// Prefix.
func DefaultConfig() Config {
	return Config{
		MaxInFlight:    64,
		MaxObjects:     1024,
		MaxMessageSize: 8800,
		FetchAttempts:  3,
		MaxRecords:     4096,
		StatusTTL:      60 * time.Second,
		RecordMaxAge:   time.Hour,
		DedupWindow:    10 * time.Minute,
		MaxDedup:       16384,
		Now:            time.Now,
		Logger:         slog.Default(),
	}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case len(c.Prefix) == 0:
		return errors.New("pyrepo: Config.Prefix is required")
	case !nameUsable(c.Prefix, false):
		return errors.New("pyrepo: Config.Prefix has a component longer than 252 bytes")
	case c.MaxInFlight < 0, c.MaxObjects < 0, c.MaxMessageSize < 0, c.FetchAttempts < 0,
		c.MaxRecords < 0, c.MaxDedup < 0:
		return errors.New("pyrepo: Config limits must not be negative")
	case c.StatusTTL < 0, c.RecordMaxAge < 0, c.DedupWindow < 0:
		return errors.New("pyrepo: Config durations must not be negative")
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxInFlight == 0 {
		c.MaxInFlight = d.MaxInFlight
	}
	if c.MaxObjects == 0 {
		c.MaxObjects = d.MaxObjects
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = d.MaxMessageSize
	}
	if c.FetchAttempts == 0 {
		c.FetchAttempts = d.FetchAttempts
	}
	if c.MaxRecords == 0 {
		c.MaxRecords = d.MaxRecords
	}
	if c.StatusTTL == 0 {
		c.StatusTTL = d.StatusTTL
	}
	if c.RecordMaxAge == 0 {
		c.RecordMaxAge = d.RecordMaxAge
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = d.DedupWindow
	}
	if c.MaxDedup == 0 {
		c.MaxDedup = d.MaxDedup
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	c.Prefix = c.Prefix.Clone()
	c.Logger = c.Logger.With("component", "pyrepo", "repo", c.Prefix.String())
	return c
}
