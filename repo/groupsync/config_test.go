package groupsync

import (
	"context"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"
)

type nopSink struct{}

func (nopSink) PutData(context.Context, []byte) error             { return nil }
func (nopSink) LoadState(enc.Name) ([]byte, error)                { return nil, nil }
func (nopSink) SaveState(context.Context, enc.Name, []byte) error { return nil }

func TestConfigValidate(t *testing.T) {
	ok := func() Config {
		c := DefaultConfig()
		c.Group = grp
		c.Sink = nopSink{}
		return c
	}
	for _, c := range []struct {
		name    string
		mod     func(*Config)
		wantErr bool
	}{
		{"defaults", func(*Config) {}, false},
		{"zero values take defaults", func(c *Config) { *c = Config{Group: grp, Sink: nopSink{}} }, false},
		{"no group", func(c *Config) { c.Group = nil }, true},
		{"no sink", func(c *Config) { c.Sink = nil }, true},
		{"long component", func(c *Config) { c.Group = enc.Name{enc.NewGenericBytesComponent(make([]byte, 253))} }, true},
		{"long multicast component", func(c *Config) { c.MulticastPrefix = enc.Name{enc.NewGenericBytesComponent(make([]byte, 300))} }, true},
		{"snapshot threshold too small", func(c *Config) { c.HistorySnapshot = 9 }, true},
		{"snapshot threshold", func(c *Config) { c.HistorySnapshot = 10 }, false},
		{"negative window", func(c *Config) { c.Window = -1 }, true},
		{"negative timeout", func(c *Config) { c.FetchTimeout = -time.Second }, true},
		{"backoff above max", func(c *Config) { c.RetryBackoff, c.MaxRetryBackoff = time.Second, time.Millisecond }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok()
			c.mod(&cfg)
			err := cfg.Validate()
			if c.wantErr {
				require.ErrorIs(t, err, ErrBadConfig)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{Group: grp, Sink: nopSink{}, MaxRetryBackoff: 100 * time.Millisecond}.withDefaults()
	d := DefaultConfig()
	require.Equal(t, d.Window, c.Window)
	require.Equal(t, d.FetchTimeout, c.FetchTimeout)
	require.Equal(t, 100*time.Millisecond, c.RetryBackoff, "capped by MaxRetryBackoff")
	require.False(t, c.Verify, "Verify is not defaulted: start from DefaultConfig")
	require.NotNil(t, c.Logger)
	require.Zero(t, cap(c.Group)-len(c.Group), "cloned without spare capacity")
}
