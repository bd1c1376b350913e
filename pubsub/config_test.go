package pubsub_test

import (
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/assert"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
)

func TestConfigValidate(t *testing.T) {
	node := &ndnx.Node{}
	group := enc.Name{enc.NewGenericComponent("g")}
	for _, tc := range []struct {
		name    string
		mod     func(*pubsub.Config)
		wantErr bool
	}{
		{"ok", func(*pubsub.Config) {}, false},
		{"no group", func(c *pubsub.Config) { c.Group = nil }, true},
		{"no node", func(c *pubsub.Config) { c.Node = nil }, true},
		{"negative window", func(c *pubsub.Config) { c.BatchWindow = -1 }, true},
		{"batch over a packet", func(c *pubsub.Config) { c.BatchBytes = 9000 }, true},
		{"message over the limit", func(c *pubsub.Config) { c.MaxMessage = pubsub.MaxMessageLimit + 1 }, true},
		{"zero means default", func(c *pubsub.Config) { *c = pubsub.Config{Group: group, Node: node} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pubsub.DefaultConfig()
			c.Group, c.Node = group, node
			tc.mod(&c)
			err := c.Validate()
			if tc.wantErr {
				assert.ErrorIs(t, err, pubsub.ErrBadConfig)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}
