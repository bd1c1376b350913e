package ndn

import (
	"errors"
	"log/slog"
	"runtime"
	"time"

	"github.com/ndn-invoke/ndn-invoke/security"
)

// Config configures a Node. A zero field means the default; DefaultConfig
// returns the defaults filled in.
type Config struct {
	// Transport is the forwarder's URI: unix:///path/nfd.sock or
	// tcp://host:port. Default: $NDN_CLIENT_TRANSPORT, then the transport=
	// line of client.conf (/etc/ndn, /usr/local/etc/ndn, ~/.ndn), then
	// unix:///run/nfd/nfd.sock, as ndnd and NFD tools resolve it.
	Transport string

	// Identity signs this node's Interests and Data. It overrides Keychain.
	// Nil and no Keychain: the node signs nothing (it can still make public
	// calls and verify others).
	Identity *security.Identity
	// Keychain is where to load the identity from: "dir://PATH" (a keychain
	// made by `ndnd sec keygen` / `sign-cert`) or the path of a .key/.pem
	// file holding a key and its certificate.
	Keychain string
	// IdentityName picks the identity in Keychain (NDN URI). Default: the
	// only identity there.
	IdentityName string

	// Anchors are trust anchor certificates (wire bytes). With AnchorFiles,
	// they build the node's Verifier; with neither, Verifier is nil and the
	// node cannot check signatures.
	Anchors [][]byte
	// AnchorFiles are .cert files (ndnd's base64 or PEM format).
	AnchorFiles []string
	// Replay configures the replay check of signed Interests.
	Replay security.ReplayConfig

	// Workers is the number of goroutines that run Interest handlers.
	// Default 4 × GOMAXPROCS.
	Workers int
	// QueueSize bounds Interests waiting for a worker. When it is full, new
	// Interests are dropped (the consumer retransmits) rather than blocking
	// ndnd's single engine goroutine. Default 1024.
	QueueSize int

	// DialTimeout bounds each connection attempt. Default 2s.
	DialTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// reconnection attempts after the forwarder goes away. Defaults 50ms, 5s.
	ReconnectMin, ReconnectMax time.Duration

	// Logger receives the node's log. Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every default filled in, except
// Transport, which Connect resolves from the environment.
func DefaultConfig() Config {
	return Config{
		Workers:      4 * runtime.GOMAXPROCS(0),
		QueueSize:    1024,
		DialTimeout:  2 * time.Second,
		ReconnectMin: 50 * time.Millisecond,
		ReconnectMax: 5 * time.Second,
		Logger:       slog.Default(),
	}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Workers < 0, c.QueueSize < 0:
		return errors.New("ndn: Workers and QueueSize must not be negative")
	case c.DialTimeout < 0, c.ReconnectMin < 0, c.ReconnectMax < 0:
		return errors.New("ndn: timeouts must not be negative")
	case c.ReconnectMax != 0 && c.ReconnectMin > c.ReconnectMax:
		return errors.New("ndn: ReconnectMin is larger than ReconnectMax")
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.QueueSize == 0 {
		c.QueueSize = d.QueueSize
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = d.DialTimeout
	}
	if c.ReconnectMin == 0 {
		c.ReconnectMin = d.ReconnectMin
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = max(d.ReconnectMax, c.ReconnectMin)
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	c.Logger = c.Logger.With("component", "ndn")
	return c
}
