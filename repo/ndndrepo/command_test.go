package ndndrepo

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/stretchr/testify/require"

	tlvx "github.com/ndn-invoke/ndn-invoke/internal/tlv"
	"github.com/ndn-invoke/ndn-invoke/repo"
)

func mustName(t testing.TB, s string) enc.Name {
	t.Helper()
	n, err := enc.NameFromStr(s)
	require.NoError(t, err)
	return n
}

func dataWire(t testing.TB, name enc.Name, content []byte) []byte {
	t.Helper()
	d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{}, enc.Wire{content}, sig.NewSha256Signer())
	require.NoError(t, err)
	return d.Wire.Join()
}

// validCommands are well-formed RepoCmd contents, also the fuzz seeds.
func validCommands(t testing.TB) map[string][]byte {
	group := mustName(t, "/app/chat")
	return map[string][]byte{
		"join": (&tlv.RepoCmd{SyncJoin: &tlv.SyncJoin{
			Protocol:        &spec.NameContainer{Name: tlv.SyncProtocolSvsV3},
			Group:           &spec.NameContainer{Name: group},
			MulticastPrefix: &spec.NameContainer{Name: mustName(t, "/multicast")},
			HistorySnapshot: &tlv.HistorySnapshotConfig{Threshold: 100},
		}}).Encode().Join(),
		"fetch": (&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Name: &spec.NameContainer{Name: mustName(t, "/app/chat/alice/blob/v=5")}}}).Encode().Join(),
		"store": (&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Data: [][]byte{
			dataWire(t, mustName(t, "/app/chat/a/seg=0"), []byte("x")),
			dataWire(t, mustName(t, "/app/chat/a/seg=1"), []byte("y")),
		}}}).Encode().Join(),
		"leave": EncodeSyncLeave(group),
	}
}

func TestParseCommand(t *testing.T) {
	valid := validCommands(t)
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		check   func(t *testing.T, c *Command)
	}{
		{name: "join", in: valid["join"], check: func(t *testing.T, c *Command) {
			require.True(t, c.SyncJoin.Protocol.Name.Equal(tlv.SyncProtocolSvsV3))
			require.Equal(t, "/app/chat", c.SyncJoin.Group.Name.String())
			require.Equal(t, "/multicast", c.SyncJoin.MulticastPrefix.Name.String())
			require.Equal(t, uint64(100), c.SyncJoin.HistorySnapshot.Threshold)
			require.Nil(t, c.BlobFetch)
			require.Nil(t, c.SyncLeave)
		}},
		{name: "fetch", in: valid["fetch"], check: func(t *testing.T, c *Command) {
			require.Equal(t, "/app/chat/alice/blob/v=5", c.BlobFetch.Name.Name.String())
		}},
		{name: "store", in: valid["store"], check: func(t *testing.T, c *Command) {
			require.Len(t, c.BlobFetch.Data, 2)
		}},
		{name: "leave", in: valid["leave"], check: func(t *testing.T, c *Command) {
			require.Nil(t, c.SyncJoin)
			require.Equal(t, "/app/chat", c.SyncLeave.Group.Name.String())
		}},
		{name: "unknown non-critical element skipped", in: append([]byte{0xfd, 0x1d, 0xc0, 0x01, 0x00}, valid["fetch"]...), check: func(t *testing.T, c *Command) {
			require.NotNil(t, c.BlobFetch)
		}},
		{name: "empty", in: nil, wantErr: ErrNotCommand},
		{name: "text", in: []byte("hello, world"), wantErr: ErrNotCommand},
		{name: "TLVs without a command", in: []byte{0x80, 0x01, 0x00}, wantErr: ErrNotCommand},
		{name: "name bomb", in: []byte{0x05, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30}, wantErr: ErrNotCommand},
		{name: "truncated after a command", in: append(bytes.Clone(valid["fetch"]), 0x07, 0x05), wantErr: ErrMalformed},
		{name: "data length bomb", in: []byte{0xfd, 0x1d, 0xb2, 0x09, 0xfd, 0x01, 0xba, 0xfe, 0xff, 0xff, 0xff, 0xf0, 0x01}, wantErr: ErrMalformed},
		{name: "name length past its container", in: []byte{0xfd, 0x1d, 0xb2, 0x06, 0xfd, 0x01, 0xb8, 0x02, 0x07, 0x09}, wantErr: ErrMalformed},
		{name: "component type 0", in: []byte{0xfd, 0x1d, 0xb2, 0x08, 0xfd, 0x01, 0xb8, 0x04, 0x07, 0x02, 0x00, 0x00}, wantErr: ErrMalformed},
		{name: "threshold of 9 bytes", in: []byte{0xfd, 0x1d, 0xb0, 0x11, 0xfd, 0x01, 0xa4, 0x0d, 0xfd, 0x01, 0xa5, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9}, wantErr: ErrMalformed},
		{name: "threshold of 3 bytes", in: []byte{0xfd, 0x1d, 0xb0, 0x0b, 0xfd, 0x01, 0xa4, 0x07, 0xfd, 0x01, 0xa5, 0x03, 0, 0, 100}, wantErr: ErrMalformed},
		{name: "TLV-TYPE 0 inside a command", in: []byte{0xfd, 0x1d, 0xb2, 0x02, 0x00, 0x00}, wantErr: ErrMalformed},
		{name: "unknown critical field", in: []byte{0xfd, 0x1d, 0xb2, 0x02, 0x01, 0x00}, wantErr: ErrMalformed},
		{name: "missing threshold", in: []byte{0xfd, 0x1d, 0xb0, 0x04, 0xfd, 0x01, 0xa4, 0x00}, wantErr: ErrMalformed},
		{name: "long component", in: (&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Name: &spec.NameContainer{Name: enc.Name{enc.NewGenericComponent(strings.Repeat("x", 300))}}}}).Encode().Join(), wantErr: ErrMalformed},
		{name: "too long", in: make([]byte, MaxContentLen+1), wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCommand(tt.in)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.Nil(t, c)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
			// Round trip.
			c2, err := ParseCommand(c.Encode())
			require.NoError(t, err)
			require.Equal(t, c.Encode(), c2.Encode())
		})
	}
}

// A parsed Command does not alias its input.
func TestParseCommandCopies(t *testing.T) {
	in := validCommands(t)["fetch"]
	c, err := ParseCommand(in)
	require.NoError(t, err)
	want := c.BlobFetch.Name.Name.String()
	for i := range in {
		in[i] = 'z'
	}
	require.Equal(t, want, c.BlobFetch.Name.Name.String())
}

func TestParseResponse(t *testing.T) {
	ok := (&tlv.RepoCmdRes{Status: 200, Message: "joined"}).Encode().Join()
	tests := []struct {
		name    string
		in      []byte
		want    *tlv.RepoCmdRes
		wantErr bool
	}{
		{"ok", ok, &tlv.RepoCmdRes{Status: 200, Message: "joined"}, false},
		{"empty message", (&tlv.RepoCmdRes{Status: 400}).Encode().Join(), &tlv.RepoCmdRes{Status: 400}, false},
		{"no status", []byte{0xfd, 0x02, 0x92, 0x00}, nil, true},
		{"status too long", []byte{0xfd, 0x02, 0x91, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xfd, 0x02, 0x92, 0x00}, nil, true},
		{"status of 3 bytes", []byte{0xfd, 0x02, 0x91, 0x03, 0, 0, 200}, nil, true},
		{"truncated", ok[:len(ok)-1], nil, true},
		{"garbage", []byte("<html>"), nil, true},
		{"empty", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ParseResponse(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, res)
		})
	}
}

func TestCheckOp(t *testing.T) {
	group := mustName(t, "/app/chat")
	v3 := &spec.NameContainer{Name: tlv.SyncProtocolSvsV3}
	g := &spec.NameContainer{Name: group}
	d0 := dataWire(t, mustName(t, "/app/chat/a/v=1/seg=0"), []byte("x"))
	tests := []struct {
		name    string
		cmd     Command
		max     int
		want    op
		wantErr string
	}{
		{name: "join", cmd: Command{SyncJoin: &tlv.SyncJoin{Protocol: v3, Group: g, HistorySnapshot: &tlv.HistorySnapshotConfig{Threshold: 10}}},
			want: op{verb: verbJoin, group: groupSpec(group, nil, 10)}},
		{name: "join with multicast", cmd: Command{SyncJoin: &tlv.SyncJoin{Protocol: v3, Group: g, MulticastPrefix: &spec.NameContainer{Name: mustName(t, "/mc")}}},
			want: op{verb: verbJoin, group: groupSpec(group, mustName(t, "/mc"), 0)}},
		{name: "empty multicast is none", cmd: Command{SyncJoin: &tlv.SyncJoin{Protocol: v3, Group: g, MulticastPrefix: &spec.NameContainer{}}},
			want: op{verb: verbJoin, group: groupSpec(group, nil, 0)}},
		{name: "join v2", cmd: Command{SyncJoin: &tlv.SyncJoin{Protocol: &spec.NameContainer{Name: mustName(t, "/32=ndn/32=svs/v=2")}, Group: g}}, wantErr: "unsupported sync protocol"},
		{name: "join no group", cmd: Command{SyncJoin: &tlv.SyncJoin{Protocol: v3}}, wantErr: "no group"},
		{name: "join threshold 9", cmd: Command{SyncJoin: &tlv.SyncJoin{Protocol: v3, Group: g, HistorySnapshot: &tlv.HistorySnapshotConfig{Threshold: 9}}}, wantErr: "threshold 9"},
		{name: "leave without protocol", cmd: Command{SyncLeave: &tlv.SyncJoin{Group: g}}, want: op{verb: verbLeave, leave: group}},
		{name: "leave v2", cmd: Command{SyncLeave: &tlv.SyncJoin{Protocol: &spec.NameContainer{Name: mustName(t, "/x")}, Group: g}}, wantErr: "unsupported"},
		{name: "fetch", cmd: Command{BlobFetch: &tlv.BlobFetch{Name: &spec.NameContainer{Name: group}}}, want: op{verb: verbBlobFetch, name: group}},
		{name: "store", cmd: Command{BlobFetch: &tlv.BlobFetch{Data: [][]byte{d0}}}, max: 1,
			want: op{verb: verbBlobFetch, packets: []blobPacket{{wire: d0, name: mustName(t, "/app/chat/a/v=1/seg=0")}}}},
		{name: "store too many", cmd: Command{BlobFetch: &tlv.BlobFetch{Data: [][]byte{d0, d0}}}, max: 1, wantErr: "more than 1"},
		{name: "store junk", cmd: Command{BlobFetch: &tlv.BlobFetch{Data: [][]byte{{0x06, 0x00}}}}, wantErr: "BlobFetch Data 0"},
		{name: "nothing", cmd: Command{}, wantErr: "exactly one"},
		{name: "two", cmd: Command{SyncJoin: &tlv.SyncJoin{Protocol: v3, Group: g}, SyncLeave: &tlv.SyncJoin{Group: g}}, wantErr: "exactly one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.max == 0 {
				tt.max = 8
			}
			got, err := checkOp(&tt.cmd, tt.max)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrMalformed)
				require.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want.verb, got.verb)
			require.Equal(t, tt.want.group.Group.String(), got.group.Group.String())
			require.Equal(t, tt.want.group.MulticastPrefix, got.group.MulticastPrefix)
			require.Equal(t, tt.want.group.HistorySnapshot, got.group.HistorySnapshot)
			require.Equal(t, tt.want.leave.String(), got.leave.String())
			require.Equal(t, tt.want.name.String(), got.name.String())
			require.Len(t, got.packets, len(tt.want.packets))
			for i := range got.packets {
				require.Equal(t, tt.want.packets[i].wire, got.packets[i].wire)
				require.True(t, tt.want.packets[i].name.Equal(got.packets[i].name))
			}
		})
	}
}

func TestDecodeRequest(t *testing.T) {
	signer, err := sig.KeygenEd25519(mustName(t, "/alice/KEY/k"))
	require.NoError(t, err)
	signed := func(content []byte) []byte {
		d, err := spec.Spec{}.MakeData(mustName(t, "/alice/32=repo"), &ndn.DataConfig{}, enc.Wire{content}, signer)
		require.NoError(t, err)
		return d.Wire.Join()
	}
	join := validCommands(t)["join"]
	tests := []struct {
		name       string
		params     []byte
		wantStatus uint64
		wantVerb   string
		wantMsg    string
	}{
		{"ok", signed(join), StatusOK, verbJoin, ""},
		{"none", nil, StatusBadRequest, "", "no ApplicationParameters"},
		{"interest inside", []byte{0x05, 0x03, 0x07, 0x01, 0x08}, StatusBadRequest, "", "not Data"},
		{"too big", make([]byte, maxParamsLen+1), StatusBadRequest, "", "ApplicationParameters of"},
		{"trailing", append(signed(join), 1), StatusBadRequest, "", "not one whole TLV"},
		{"broken inside", []byte{0x06, 0x04, 0x07, 0x02, 0x08, 0x05}, StatusBadRequest, "", "malformed TLV structure"},
		{"empty name", tlvBytes(0x06, append([]byte{0x07, 0x00}, 0x16, 0x03, 0x1b, 0x01, 0x00, 0x17, 0x00)), StatusBadRequest, "", "empty name"},
		{"unsigned", tlvBytes(0x06, append(mustName(t, "/a").Bytes(), tlvBytes(0x15, join)...)), StatusBadRequest, "", "not signed"},
		{"not a command", signed([]byte("hi")), StatusBadRequest, "", "not a repo command"},
		{"bad join", signed(validCommands(t)["leave"][:3]), StatusBadRequest, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, status, msg := decodeRequest(tt.params, 8)
			require.Equal(t, tt.wantStatus, status, msg)
			require.Contains(t, msg, tt.wantMsg)
			if status == StatusOK {
				require.Equal(t, tt.wantVerb, req.op.verb)
				require.Equal(t, tt.params, req.raw)
			}
		})
	}
}

func tlvBytes(typ byte, v []byte) []byte { return tlvx.AppendTLV(nil, uint64(typ), v) }

func groupSpec(g, mc enc.Name, threshold uint64) repo.GroupSpec {
	return repo.GroupSpec{Group: g, MulticastPrefix: mc, HistorySnapshot: threshold}
}

func TestObjectPrefix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/a/b/v=3/seg=0", "/a/b"},
		{"/a/b/seg=0", "/a/b"},
		{"/a/b/v=3", "/a/b"},
		{"/a/b", "/a/b"},
		{"/v=3", "/v=3"},
		{"/seg=1", "/seg=1"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, objectPrefix(mustName(t, tt.in)).String(), tt.in)
	}
}

func TestDedup(t *testing.T) {
	now := time.Unix(1000, 0)
	d := newDedup(time.Minute, 2)
	k := func(b byte) (key [32]byte) { key[0] = b; return key }

	e1, first := d.begin(k(1), now)
	require.True(t, first)
	again, first := d.begin(k(1), now)
	require.False(t, first, "pending: a copy waits")
	require.Same(t, e1, again)
	d.finish(e1, tlv.RepoCmdRes{Status: 200, Message: "m"}, true)
	<-again.done
	require.Equal(t, "m", again.res.Message)

	// Failures are forgotten; waiters still see them.
	e2, _ := d.begin(k(2), now)
	d.finish(e2, tlv.RepoCmdRes{Status: 500}, false)
	require.Equal(t, uint64(500), e2.res.Status)
	_, first = d.begin(k(2), now)
	require.True(t, first, "a failure runs again")

	// Bounded: the oldest goes first.
	_, first = d.begin(k(3), now)
	require.True(t, first)
	require.Equal(t, 2, d.len())
	_, first = d.begin(k(1), now)
	require.True(t, first, "evicted")

	// The window.
	d = newDedup(time.Minute, 10)
	e, _ := d.begin(k(9), now)
	d.finish(e, tlv.RepoCmdRes{Status: 200}, true)
	_, first = d.begin(k(9), now.Add(59*time.Second))
	require.False(t, first)
	_, first = d.begin(k(9), now.Add(time.Minute))
	require.True(t, first, "expired")
}

func TestConfigValidate(t *testing.T) {
	p := mustName(t, "/repo")
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"minimal", Config{Prefix: p}, true},
		{"defaults", func() Config { c := DefaultConfig(); c.Prefix = p; return c }(), true},
		{"no prefix", Config{}, false},
		{"long component", Config{Prefix: enc.Name{enc.NewGenericComponent(strings.Repeat("a", 253))}}, false},
		{"negative window", Config{Prefix: p, DedupWindow: -1}, false},
		{"negative entries", Config{Prefix: p, DedupEntries: -1}, false},
		{"negative packets", Config{Prefix: p, MaxBlobPackets: -1}, false},
		{"negative timeout", Config{Prefix: p, OpTimeout: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.True(t, errors.Is(err, ErrInvalidConfig), "%v", err)
			}
		})
	}
}
