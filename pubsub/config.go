package pubsub

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Config configures a PubSub. A zero field means its default;
// DefaultConfig returns the defaults filled in.
type Config struct {
	// Group is the sync group's name prefix, e.g. /example/ps. Required.
	// Topics are any names; they need not be under Group. A node may not
	// use the same prefix for an svs.Group.
	Group enc.Name
	// Node is the node to publish and subscribe through. Required, with
	// trust anchors.
	Node *ndnx.Node
	// Identity signs this member's packets. Default: the node's.
	Identity *security.Identity
	// Policy narrows who takes part: Sync Data signed by key K is accepted
	// only if Policy.Authorize(K, Group) allows it, and a publication of
	// topic T only if Policy.Authorize(K, T) does. Nil: any identity that
	// chains to the node's trust anchors.
	Policy *security.Policy

	// BatchWindow is how long a publication waits for more messages
	// before it is signed and announced. Default 2ms.
	BatchWindow time.Duration
	// BatchBytes publishes a batch at once when its messages reach this
	// many bytes. Default and maximum 7000 (one packet).
	BatchBytes int
	// MaxMessage is the largest message in bytes (messages over
	// BatchBytes are segmented). Default 4 MiB, at most MaxMessageLimit.
	MaxMessage int
	// Retain is how many of its latest publications a topic keeps to
	// serve; older ones are answered Gone. Default 1024.
	Retain int
	// MaxPending bounds the messages queued but not published; Publish
	// blocks past it. Default 65536.
	MaxPending int
	// FetchTimeout is the lifetime of each fetch Interest. Default 1s.
	FetchTimeout time.Duration
	// SyncPeriod and SuppressionPeriod are SVS's. Defaults 30s, 200ms.
	SyncPeriod, SuppressionPeriod time.Duration
	// Logger receives the log. Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns a Config with the defaults filled in; Group and
// Node must still be set.
func DefaultConfig() Config {
	return Config{
		BatchWindow:       2 * time.Millisecond,
		BatchBytes:        maxInline,
		MaxMessage:        4 << 20,
		Retain:            1024,
		MaxPending:        1 << 16,
		FetchTimeout:      time.Second,
		SyncPeriod:        30 * time.Second,
		SuppressionPeriod: 200 * time.Millisecond,
	}
}

// maxInline is the most message bytes one publication carries.
const maxInline = 7000

// Validate reports the first problem of c, wrapping ErrBadConfig.
func (c *Config) Validate() error {
	switch {
	case len(c.Group) == 0 || !svsync.UsableName(c.Group):
		return fmt.Errorf("%w: Group is required", ErrBadConfig)
	case c.Node == nil:
		return fmt.Errorf("%w: Node is required", ErrBadConfig)
	case c.BatchWindow < 0, c.BatchBytes < 0, c.MaxMessage < 0, c.Retain < 0, c.MaxPending < 0, c.FetchTimeout < 0,
		c.SyncPeriod < 0, c.SuppressionPeriod < 0:
		return fmt.Errorf("%w: negative setting", ErrBadConfig)
	case c.BatchBytes > maxInline:
		return fmt.Errorf("%w: BatchBytes over %d", ErrBadConfig, maxInline)
	case c.MaxMessage > MaxMessageLimit:
		return fmt.Errorf("%w: MaxMessage over %d", ErrBadConfig, MaxMessageLimit)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	set := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	seti := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.BatchWindow, d.BatchWindow)
	set(&c.FetchTimeout, d.FetchTimeout)
	set(&c.SyncPeriod, d.SyncPeriod)
	set(&c.SuppressionPeriod, d.SuppressionPeriod)
	seti(&c.BatchBytes, d.BatchBytes)
	seti(&c.MaxMessage, d.MaxMessage)
	seti(&c.Retain, d.Retain)
	seti(&c.MaxPending, d.MaxPending)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// SessionIdentity issues <id>/<label>/<8 hex digits>, certified by id's
// key for a week, to use as Config.Identity. Members ignore publications
// under their own name, so a process that should receive what the same
// user publishes from elsewhere (a `sub` beside a `pub`, a chat window
// beside another) joins under a session identity of that user. The
// PubSub serves the session's certificate; id's is served by the node.
func SessionIdentity(id *security.Identity, label string) (*security.Identity, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	name := make(enc.Name, 0, len(id.Name())+2)
	name = append(name, id.Name()...)
	name = append(name, enc.NewGenericComponent(label), enc.NewGenericComponent(hex.EncodeToString(b)))
	return id.Issue(name, 7*24*time.Hour)
}
