package pyrepo_test

import (
	"bytes"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/repo/pyrepo"
)

// Every decoder is fuzzed: no panic; an error is always ErrMalformed; what
// decodes re-encodes to bytes that decode to the same value and re-encode
// identically (decode(encode(x)) == x).

func seedName() enc.Name {
	return enc.Name{enc.NewGenericComponent("ndn"), enc.NewVersionComponent(7), enc.NewSegmentComponent(3)}
}

func FuzzDecodeCommandParam(f *testing.F) {
	n := seedName()
	f.Add((&pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{{Name: n}}}).Encode())
	f.Add((&pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{{
		Name: n, ForwardingHint: []enc.Name{n, {}}, StartBlockID: u64(1), EndBlockID: u64(1 << 20), RegisterPrefix: n,
	}, {Name: enc.Name{}}}}).Encode())
	f.Add((&pyrepo.CommandParam{SyncGroups: []pyrepo.SyncParam{{SyncPrefix: n, RegisterPrefix: n, DataNameDedupe: true, Reset: true}}}).Encode())
	f.Add([]byte{})
	f.Add([]byte{0x05, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := pyrepo.DecodeCommandParam(b)
		if err != nil {
			require.ErrorIs(t, err, pyrepo.ErrMalformed)
			return
		}
		b2 := p.Encode()
		p2, err := pyrepo.DecodeCommandParam(b2)
		require.NoError(t, err)
		require.Equal(t, p, p2)
		require.True(t, bytes.Equal(b2, p2.Encode()))
	})
}

func FuzzDecodeCommandRes(f *testing.F) {
	n := seedName()
	f.Add((&pyrepo.CommandRes{Status: pyrepo.StatusNotFound}).Encode())
	f.Add((&pyrepo.CommandRes{
		Status:     pyrepo.StatusInProgress,
		Objects:    []pyrepo.ObjectStatus{{Name: n, Status: pyrepo.StatusRoger, InsertNum: u64(3)}, {Name: n, Status: pyrepo.StatusCompleted, DeleteNum: u64(1 << 40)}},
		SyncGroups: []pyrepo.SyncStatus{{Name: n, Status: pyrepo.StatusFailed}},
	}).Encode())
	f.Add([]byte{0xd0, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := pyrepo.DecodeCommandRes(b)
		if err != nil {
			require.ErrorIs(t, err, pyrepo.ErrMalformed)
			return
		}
		b2 := r.Encode()
		r2, err := pyrepo.DecodeCommandRes(b2)
		require.NoError(t, err)
		require.Equal(t, r, r2)
		require.True(t, bytes.Equal(b2, r2.Encode()))
	})
}

func FuzzDecodeStatQuery(f *testing.F) {
	f.Add((&pyrepo.StatQuery{RequestNo: bytes.Repeat([]byte{0xab}, 32)}).Encode())
	f.Add([]byte{0xce, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := pyrepo.DecodeStatQuery(b)
		if err != nil {
			require.ErrorIs(t, err, pyrepo.ErrMalformed)
			return
		}
		b2 := q.Encode()
		q2, err := pyrepo.DecodeStatQuery(b2)
		require.NoError(t, err)
		require.Equal(t, q, q2)
		require.True(t, bytes.Equal(b2, q2.Encode()))
	})
}

func FuzzDecodeNotifyAppParam(f *testing.F) {
	n := seedName()
	f.Add((&pyrepo.NotifyAppParam{Publisher: n, Nonce: []byte{1, 2, 3, 4}}).Encode())
	f.Add((&pyrepo.NotifyAppParam{Publisher: n, Nonce: bytes.Repeat([]byte{9}, 8), PublisherFwdHint: n}).Encode())
	f.Add([]byte{0x07, 0x00, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := pyrepo.DecodeNotifyAppParam(b)
		if err != nil {
			require.ErrorIs(t, err, pyrepo.ErrMalformed)
			return
		}
		b2 := p.Encode()
		p2, err := pyrepo.DecodeNotifyAppParam(b2)
		require.NoError(t, err)
		require.Equal(t, p, p2)
		require.True(t, bytes.Equal(b2, p2.Encode()))
	})
}
