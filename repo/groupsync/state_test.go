package groupsync

import (
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

func TestStateRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		in   *savedState
	}{
		{"empty", &savedState{}},
		{"streams and wires", &savedState{
			streams: []savedStream{
				{node: alice, boot: 7, known: 3, latest: 9, snapKnown: 1, wire: 1},
				{node: bob, boot: 1 << 40, known: 0, latest: 0, wire: -1},
				{node: enc.Name{enc.NewSequenceNumComponent(5), enc.NewKeywordComponent("k")}, boot: 0, known: 1 << 33, latest: 1 << 33, wire: 0},
			},
			wires: [][]byte{[]byte("newest"), []byte("older")},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := decodeState(encodeState(c.in))
			require.NoError(t, err)
			if c.in.streams == nil {
				require.Empty(t, got.streams)
				require.Empty(t, got.wires)
				return
			}
			require.Equal(t, c.in, got)
		})
	}
}

func TestDecodeStateErrors(t *testing.T) {
	good := encodeState(&savedState{streams: []savedStream{{node: alice, boot: 1, known: 2, latest: 3, wire: -1}}})
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"garbage", []byte("hello")},
		{"truncated", good[:len(good)-1]},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
		{"wrong outer type", tlvOf(0xC1, tlvOf(0xC1, []byte{1}))},
		{"no format version", tlvOf(0xC0)},
		{"future format", tlvOf(0xC0, tlvOf(0xC1, []byte{2}))},
		{"stream without name", tlvOf(0xC0, tlvOf(0xC1, []byte{1}), tlvOf(0xC2, tlvOf(0xd4, []byte{1})))},
		{"stream without boot", tlvOf(0xC0, tlvOf(0xC1, []byte{1}), tlvOf(0xC2, tlv.AppendName(nil, alice)))},
		{"bad natural", tlvOf(0xC0, tlvOf(0xC1, []byte{1}), tlvOf(0xC2, tlv.AppendName(nil, alice), tlvOf(0xd4)))},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeState(c.in)
			require.ErrorIs(t, err, ErrBadState)
		})
	}
}

func TestDecodeStateNormalizes(t *testing.T) {
	long := enc.Name{enc.NewGenericBytesComponent(make([]byte, 253))}
	in := tlvOf(0xC0, tlvOf(0xC1, []byte{1}),
		tlvOf(0xC2, tlv.AppendName(nil, alice), tlvOf(0xd4, []byte{1}), tlvOf(0xC4, []byte{9}), tlvOf(0xC5, []byte{3}), tlvOf(0xC7, []byte{5})),
		tlvOf(0xC2, tlv.AppendName(nil, long), tlvOf(0xd4, []byte{1})),
		tlvOf(0xEE, []byte("a future field")))
	st, err := decodeState(in)
	require.NoError(t, err)
	require.Len(t, st.streams, 1, "unfetchable name dropped")
	require.EqualValues(t, 9, st.streams[0].latest, "latest raised to known")
	require.Equal(t, -1, st.streams[0].wire, "wire index out of range dropped")
}
