package pyrepo_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/repo/pyrepo"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// TestWireVectors pins encodings computed by hand from encoding.rst and
// pub_sub.rst (what python-ndn and NDNts produce for the same values).
func TestWireVectors(t *testing.T) {
	a := enc.Name{enc.NewGenericComponent("a")}
	g := enc.Name{enc.NewGenericComponent("g")}
	for _, tc := range []struct {
		name string
		enc  func() []byte
		want string
	}{
		{"ObjParam name+start", func() []byte {
			return (&pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{{Name: a, StartBlockID: u64(0)}}}).Encode()
		}, "fd012d08" + "0703080161" + "cc0100"},
		{"ObjParam all fields", func() []byte {
			return (&pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{{
				Name: a, ForwardingHint: []enc.Name{g}, StartBlockID: u64(1), EndBlockID: u64(300), RegisterPrefix: g,
			}}}).Encode()
		}, "fd012d1a" + "0703080161" + "d3050703080167" + "cc0101" + "cd02012c" + "d4050703080167"},
		{"SyncParam", func() []byte {
			return (&pyrepo.CommandParam{SyncGroups: []pyrepo.SyncParam{{SyncPrefix: g, DataNameDedupe: true}}}).Encode()
		}, "fd01910d" + "fd0195050703080167" + "fd019300"},
		{"RepoCommandRes", func() []byte {
			return (&pyrepo.CommandRes{Status: pyrepo.StatusInProgress, Objects: []pyrepo.ObjectStatus{{Name: a, Status: pyrepo.StatusCompleted, InsertNum: u64(7)}}}).Encode()
		}, "d002012c" + "fd012e0b" + "0703080161" + "d001c8" + "d10107"},
		{"RepoStatQuery", func() []byte { return (&pyrepo.StatQuery{RequestNo: []byte{1, 2}}).Encode() }, "ce020102"},
		{"NotifyAppParam", func() []byte {
			return (&pyrepo.NotifyAppParam{Publisher: a, Nonce: []byte{1, 2, 3, 4}, PublisherFwdHint: g}).Encode()
		}, "0703080161" + "800401020304" + "d3050703080167"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, hex.EncodeToString(tc.enc()))
		})
	}
}

// TestRoundTrip: decode(encode(x)) == x for every message type, including
// a name component of 300 bytes (3-byte TLV-LENGTH, which ndnd's own
// encoder gets wrong).
func TestRoundTrip(t *testing.T) {
	long := enc.NewGenericBytesComponent(bytes.Repeat([]byte{'x'}, 300))
	n := enc.Name{enc.NewGenericComponent("data"), enc.NewVersionComponent(3), long}
	cp := &pyrepo.CommandParam{
		Objects: []pyrepo.ObjectParam{
			{Name: n},
			{Name: n, ForwardingHint: []enc.Name{n, {enc.NewGenericComponent("h")}}, StartBlockID: u64(1 << 40), EndBlockID: u64(1<<40 + 5), RegisterPrefix: enc.Name{}},
		},
		SyncGroups: []pyrepo.SyncParam{{SyncPrefix: n, RegisterPrefix: enc.Name{long}, DataNameDedupe: true, Reset: true}},
	}
	got, err := pyrepo.DecodeCommandParam(cp.Encode())
	require.NoError(t, err)
	require.Equal(t, cp, got)
	require.Equal(t, []byte{0x08, 0xfd, 0x01, 0x2c}, cp.Objects[0].Encode()[13:17], "300-byte component: VAR-NUMBER length")

	res := &pyrepo.CommandRes{
		Status:     pyrepo.StatusFailed,
		Objects:    []pyrepo.ObjectStatus{{Name: n, Status: pyrepo.StatusMalformed, InsertNum: u64(0), DeleteNum: u64(1 << 33)}},
		SyncGroups: []pyrepo.SyncStatus{{Name: n, Status: pyrepo.StatusRoger}},
	}
	gotRes, err := pyrepo.DecodeCommandRes(res.Encode())
	require.NoError(t, err)
	require.Equal(t, res, gotRes)

	q := &pyrepo.StatQuery{RequestNo: bytes.Repeat([]byte{7}, 32)}
	gotQ, err := pyrepo.DecodeStatQuery(q.Encode())
	require.NoError(t, err)
	require.Equal(t, q, gotQ)

	np := &pyrepo.NotifyAppParam{Publisher: n, Nonce: []byte{9}, PublisherFwdHint: enc.Name{}}
	gotNP, err := pyrepo.DecodeNotifyAppParam(np.Encode())
	require.NoError(t, err)
	require.Equal(t, np, gotNP)
}

// TestDecodeErrors: malformed input is an ErrMalformed error, never a panic.
func TestDecodeErrors(t *testing.T) {
	type decoder func([]byte) error
	cmd := func(b []byte) error { _, err := pyrepo.DecodeCommandParam(b); return err }
	res := func(b []byte) error { _, err := pyrepo.DecodeCommandRes(b); return err }
	query := func(b []byte) error { _, err := pyrepo.DecodeStatQuery(b); return err }
	notify := func(b []byte) error { _, err := pyrepo.DecodeNotifyAppParam(b); return err }
	for _, tc := range []struct {
		name string
		dec  decoder
		in   string
	}{
		{"cmd unknown type", cmd, "fd012e00"},
		{"cmd truncated", cmd, "fd012d05070308"},
		{"cmd ObjParam without name", cmd, "fd012d03cc0100"},
		{"cmd duplicate name", cmd, "fd012d0a07030801610703080162"},
		{"cmd 3-byte nat", cmd, "fd012d0a0703080161cc03000001"},
		{"cmd unknown field", cmd, "fd012d0707030801619900"},
		{"cmd register prefix not a name", cmd, "fd012d0a0703080161d403080161"},
		{"cmd register prefix two names", cmd, "fd012d0b0703080161d40407000700"},
		{"cmd hint holds non-name", cmd, "fd012d0a0703080161d303080161"},
		{"cmd flag with value", cmd, "fd01910efd0195050703080167fd01930101"},
		{"cmd duplicate flag", cmd, "fd019111fd0195050703080167fd019300fd019300"},
		{"cmd sync without prefix", cmd, "fd019104fd019300"},
		{"cmd type zero", cmd, "0000"},
		{"cmd component type zero", cmd, "fd012d050703000161"},
		{"cmd component type too big", cmd, "fd012d090707fe0001000001ff"},
		{"cmd truncated varnum", cmd, "fd01"},
		{"cmd huge length", cmd, "fd012dff7fffffffffffffff"},
		{"res no status", res, "fd012e080703080161d001c8"},
		{"res obj without status", res, "d001c8fd012e050703080161"},
		{"res duplicate status", res, "d001c8d001c8"},
		{"res sync without name", res, "d001c8fd019203d001c8"},
		{"query empty", query, ""},
		{"query empty request", query, "ce00"},
		{"query other type", query, "cf0101"},
		{"query twice", query, "ce0101ce0101"},
		{"notify no nonce", notify, "0703080161"},
		{"notify no publisher", notify, "800101"},
		{"notify bomb", notify, "050707fe31303030"},
		{"notify hint twice", notify, "0703080161800101d3020700d3020700"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.dec(unhex(t, tc.in))
			require.ErrorIs(t, err, pyrepo.ErrMalformed)
		})
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		s     pyrepo.Status
		str   string
		final bool
	}{
		{pyrepo.StatusRoger, "ROGER", false},
		{pyrepo.StatusCompleted, "COMPLETED", true},
		{pyrepo.StatusInProgress, "IN-PROGRESS", false},
		{pyrepo.StatusFailed, "FAILED", true},
		{pyrepo.StatusMalformed, "MALFORMED", true},
		{pyrepo.StatusNotFound, "NOT-FOUND", true},
		{pyrepo.Status(7), "7", false},
	} {
		require.Equal(t, tc.str, tc.s.String())
		require.Equal(t, tc.final, tc.s.Final(), tc.str)
	}
}

func TestVerbNames(t *testing.T) {
	repoName := enc.Name{enc.NewGenericComponent("repo")}
	for _, tc := range []struct {
		v                     pyrepo.Verb
		action, notify, check string
	}{
		{pyrepo.VerbInsert, "insert", "/repo/insert/notify", "/repo/insert%20check"},
		{pyrepo.VerbDelete, "delete", "/repo/delete/notify", "/repo/delete%20check"},
		{pyrepo.VerbJoin, "join", "/repo/sync/join/notify", "/repo/sync/join%20check"},
		{pyrepo.VerbLeave, "leave", "/repo/sync/leave/notify", "/repo/sync/leave%20check"},
		{pyrepo.Verb("bogus"), "", "/repo/bogus/notify", "/repo/bogus%20check"},
	} {
		require.Equal(t, tc.action, tc.v.Action())
		require.Equal(t, tc.notify, tc.v.NotifyPrefix(repoName).String())
		require.Equal(t, tc.check, tc.v.CheckPrefix(repoName).String())
	}
	msg := pyrepo.MsgName(enc.Name{enc.NewGenericComponent("pub")}, pyrepo.VerbJoin.Topic(repoName), []byte{0xab})
	require.Equal(t, "/pub/msg/repo/sync/join/%AB", msg.String())
}

func TestConfigValidate(t *testing.T) {
	p := enc.Name{enc.NewGenericComponent("r")}
	for _, tc := range []struct {
		name string
		cfg  pyrepo.Config
		ok   bool
	}{
		{"minimal", pyrepo.Config{Prefix: p}, true},
		{"defaults", func() pyrepo.Config { c := pyrepo.DefaultConfig(); c.Prefix = p; return c }(), true},
		{"no prefix", pyrepo.Config{}, false},
		{"long component", pyrepo.Config{Prefix: enc.Name{enc.NewGenericBytesComponent(make([]byte, 253))}}, false},
		{"negative limit", pyrepo.Config{Prefix: p, MaxRecords: -1}, false},
		{"negative duration", pyrepo.Config{Prefix: p, DedupWindow: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
	require.Error(t, pyrepo.ClientConfig{}.Validate())
	require.Error(t, pyrepo.ClientConfig{Repo: p, CheckInterval: -1}.Validate())
	require.NoError(t, pyrepo.ClientConfig{Repo: p}.Validate())
}
