package svs

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// nodeStub is a non-nil Node for Config.Validate, which only checks that
// one is set.
var nodeStub = new(ndnx.Node)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

func TestPublicationEncoding(t *testing.T) {
	p := &publication{time: 0x0102, records: []record{
		{kind: recAlive},
		{kind: recEvent, ltime: 7, label: "ev", payload: []byte{0xAA}},
		{kind: recQuery, id: queryID{1, 2, 3, 4, 5, 6, 7, 8}, ltime: 8, label: "q", payload: []byte{}, filter: "/a/<...>", deadline: 9},
		{kind: recLeave},
		{kind: recGone},
	}}
	b := encodePublication(p)
	want := "e0 3a" + "e1 01 01" + "e2 02 0102" + "e3 00" +
		"e6 0a f0 01 07 f1 02 6576 f2 01 aa" +
		"e7 1f f3 08 0102030405060708 f0 01 08 f1 01 71 f2 00 f4 08 2f612f3c2e2e2e3e f5 01 09" +
		"e4 00 e5 00"
	assert.Equal(t, hex.EncodeToString(unhex(t, want)), hex.EncodeToString(b))
	got, err := decodePublication(b)
	require.NoError(t, err)
	assert.Equal(t, p, got)
}

func TestPublicationDecodeErrors(t *testing.T) {
	pub := func(inner string) string {
		b := unhex(t, inner)
		return hex.EncodeToString(tlv.AppendTLV(nil, typePublication, b))
	}
	head := "e1 01 01 e2 01 05"
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"minimal", pub(head), true},
		{"unknown record skipped", pub(head + "9f 01 00"), true},
		{"unknown field skipped", pub(head + "e6 0a f0 01 07 f1 01 61 f2 00 90 00"), true},
		{"event without payload", pub(head + "e6 06 f0 01 07 f1 01 61"), true},
		{"empty", "", false},
		{"other type", "e8 00", false},
		{"trailing bytes", pub(head) + "00", false},
		{"no format", pub("e2 01 05"), false},
		{"no time", pub("e1 01 01"), false},
		{"format 2", pub("e1 01 02 e2 01 05"), false},
		{"repeated time", pub(head + "e2 01 05"), false},
		{"bad nat", pub("e1 03 000001 e2 01 05"), false},
		{"event without ltime", pub(head + "e6 03 f1 01 61"), false},
		{"event without name", pub(head + "e6 03 f0 01 07"), false},
		{"empty name", pub(head + "e6 05 f0 01 07 f1 00"), false},
		{"bad utf8", pub(head + "e6 06 f0 01 07 f1 01 ff"), false},
		{"repeated name", pub(head + "e6 09 f0 01 07 f1 01 61 f1 01 61"), false},
		{"query without id", pub(head + "e7 09 f0 01 07 f1 01 61 f5 01 01"), false},
		{"query id short", pub(head + "e7 0c f3 01 01 f0 01 07 f1 01 61 f5 01 01"), false},
		{"query without deadline", pub(head + "e7 10 f3 08 0102030405060708 f0 01 07 f1 01 61"), false},
		{"empty filter", pub(head + "e7 15 f3 08 0102030405060708 f0 01 07 f1 01 61 f4 00 f5 01 01"), false},
		{"truncated", pub(head)[:10], false},
		{"type zero", pub(head + "00 00"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodePublication(unhex(t, tt.in))
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, errMalformed)
			}
		})
	}
	big := tlv.AppendTLV(nil, typePublication, make([]byte, maxPacket))
	_, err := decodePublication(big)
	assert.ErrorIs(t, err, errMalformed)
}

func TestAnswerEncoding(t *testing.T) {
	id := queryID{9, 8, 7, 6, 5, 4, 3, 2}
	b := encodeAnswer(id, []byte("yes"))
	assert.Equal(t, "e80ff3080908070605040302f203796573", hex.EncodeToString(b))
	gid, payload, err := decodeAnswer(b)
	require.NoError(t, err)
	assert.Equal(t, id, gid)
	assert.Equal(t, []byte("yes"), payload)

	for _, bad := range []string{"", "e800", "e6 00", "e8 03 f2 01 61", "e8 0a f3 08 0908070605040302 00", "e8 06 f3 04 01020304"} {
		_, _, err := decodeAnswer(unhex(t, bad))
		assert.ErrorIs(t, err, errMalformed, bad)
	}
	_, payload, err = decodeAnswer(unhex(t, "e8 0a f3 08 0908070605040302"))
	require.NoError(t, err)
	assert.Equal(t, []byte{}, payload)
}

func TestNames(t *testing.T) {
	group, member := nm("/g/h"), nm("/m")
	assert.Equal(t, "/g/h/32=svs/v=3", syncPrefix(group).String())
	assert.Equal(t, "/g/h/32=svs", syncGroupPrefix(group).String())
	assert.Equal(t, "/m/g/h/32=svs", syncDataName(member, group).String())
	assert.Equal(t, "/m/g/h/t=5/seq=7", pubName(member, group, 5, 7).String())
	// No spare capacity: ndnd's Append must allocate.
	n := syncDataName(member, group)
	assert.Equal(t, len(n), cap(n))

	data := dataPrefix(member, group)
	pub := pubName(member, group, 5, 7)
	kind, boot, seq, _ := parseServed(pub[len(data):])
	assert.Equal(t, servedPublication, kind)
	assert.Equal(t, uint64(5), boot)
	assert.Equal(t, uint64(7), seq)
	id := queryID{1, 2, 3, 4, 5, 6, 7, 8}
	ans := join(answerName(member, group, id), nil, enc.Component{Typ: enc.TypeParametersSha256DigestComponent, Val: make([]byte, 32)})
	kind, _, _, gid := parseServed(ans[len(data):])
	assert.Equal(t, servedAnswer, kind)
	assert.Equal(t, id, gid)
	for _, bad := range []enc.Name{nil, nm("/x"), pub[len(data) : len(pub)-1], join(pub[len(data):], nil, enc.NewGenericComponent("x")),
		{enc.Component{Typ: enc.TypeTimestampNameComponent, Val: []byte{1, 2, 3}}, enc.NewSequenceNumComponent(1)}} {
		kind, _, _, _ := parseServed(bad)
		assert.Equal(t, servedNone, kind, bad.String())
	}

	sd := join(syncDataName(member, group), nil, enc.NewVersionComponent(123))
	m, micros, ok := parseSyncDataName(sd, group)
	require.True(t, ok)
	assert.True(t, m.Equal(member))
	assert.Equal(t, uint64(123), micros)
	for _, bad := range []enc.Name{nm("/m/g/h/32=svs"), nm("/m/g/x/32=svs/v=1"), nm("/m/g/h/32=xx/v=1"), nm("/g/h/32=svs/v=1")} {
		_, _, ok := parseSyncDataName(bad, group)
		assert.False(t, ok, bad.String())
	}
	assert.Equal(t, "/a/b", identityOf(nm("/a/b/KEY/k")).String())
	assert.Equal(t, "/a/b", identityOf(nm("/a/b")).String())
}

func TestFilter(t *testing.T) {
	tests := []struct {
		filter string
		match  []string
		miss   []string
	}{
		{"", []string{"/a", "/a/b"}, nil},
		{"/a/b", []string{"/a/b"}, []string{"/a", "/a/b/c"}},
		{"/a/<...>", []string{"/a", "/a/b", "/a/b/c"}, []string{"/b"}},
		{"/a/*", []string{"/a/b"}, []string{"/a", "/a/b/c"}},
	}
	for _, tt := range tests {
		f, err := compileFilter(tt.filter)
		require.NoError(t, err, tt.filter)
		for _, s := range tt.match {
			assert.True(t, f.match(nm(s)), "%s ~ %s", tt.filter, s)
		}
		for _, s := range tt.miss {
			assert.False(t, f.match(nm(s)), "%s !~ %s", tt.filter, s)
		}
	}
	for _, bad := range []string{"a", "/a b", "/a\n/b", "/a#x", "/a\x00", "/<...>/a", strings.Repeat("/a", MaxFilterLen)} {
		_, err := compileFilter(bad)
		assert.ErrorIs(t, err, ErrBadFilter, bad)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Group = nm("/g")
	ok.Node = nil // set below: Validate needs a non-nil pointer only
	tests := []struct {
		name string
		mod  func(*Config)
		bad  bool
	}{
		{"defaults", func(*Config) {}, false},
		{"zero fields default", func(c *Config) { *c = Config{Group: c.Group, Node: c.Node} }, false},
		{"no group", func(c *Config) { c.Group = nil }, true},
		{"long component", func(c *Config) { c.Group = enc.Name{enc.NewGenericBytesComponent(make([]byte, 253))} }, true},
		{"no node", func(c *Config) { c.Node = nil }, true},
		{"negative duration", func(c *Config) { c.FetchTimeout = -1 }, true},
		{"negative count", func(c *Config) { c.Retain = -1 }, true},
		{"payload over limit", func(c *Config) { c.MaxPayload = MaxPayloadLimit + 1 }, true},
		{"suspect too soon", func(c *Config) { c.SuspectAfter = c.HeartbeatPeriod }, true},
		{"failed before suspect", func(c *Config) { c.FailedAfter = c.SuspectAfter }, true},
		{"short timings", func(c *Config) {
			c.HeartbeatPeriod, c.SuspectAfter, c.FailedAfter = 10*time.Millisecond, 20*time.Millisecond, 30*time.Millisecond
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			c.Node = nodeStub
			tt.mod(&c)
			err := c.Validate()
			if tt.bad {
				assert.ErrorIs(t, err, ErrBadConfig)
			} else {
				assert.NoError(t, err)
			}
		})
	}
	d := Config{Group: nm("/g")}.withDefaults()
	assert.Equal(t, DefaultConfig().HeartbeatPeriod, d.HeartbeatPeriod)
	assert.NotNil(t, d.Logger)
	assert.True(t, bytes.Equal(tlv.AppendName(nil, d.Group), tlv.AppendName(nil, nm("/g"))))
}
