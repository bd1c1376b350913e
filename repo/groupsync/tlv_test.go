package groupsync

import (
	"bytes"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	rdr "github.com/named-data/ndnd/std/ndn/rdr_2024"
	spec_svs "github.com/named-data/ndnd/std/ndn/svs/v3"
	"github.com/named-data/ndnd/std/ndn/svs_ps"
	"github.com/stretchr/testify/require"
)

func TestVarNumbers(t *testing.T) {
	for _, v := range []uint64{0, 1, 252, 253, 254, 255, 256, 0xFFFF, 0x10000, 0xFFFFFFFF, 0x100000000, 1<<64 - 1} {
		b := appendVar(nil, v)
		got, n, ok := readVar(b)
		require.True(t, ok, v)
		require.Equal(t, len(b), n, v)
		require.Equal(t, v, got)
		_, _, ok = readVar(b[:len(b)-1])
		require.False(t, ok, "truncated %d", v)
		var nat []byte
		nat = appendNatTLV(nat, 1, v)
		r := tlvReader{nat}
		_, val, err := r.next()
		require.NoError(t, err)
		got, err = readNat(val)
		require.NoError(t, err)
		require.Equal(t, v, got)
	}
}

// svEntriesFromNdnd builds the state vector ndnd's SvSync would send.
func ndndStateVector(entries map[string][][2]uint64, order []string) []byte {
	sv := &spec_svs.StateVector{}
	for _, n := range order {
		name, _ := enc.NameFromStr(n)
		e := &spec_svs.StateVectorEntry{Name: name}
		for _, bs := range entries[n] {
			e.SeqNoEntries = append(e.SeqNoEntries, &spec_svs.SeqNoEntry{BootstrapTime: bs[0], SeqNo: bs[1]})
		}
		sv.Entries = append(sv.Entries, e)
	}
	return (&spec_svs.SvsData{StateVector: sv}).Encode().Join()
}

func TestStateVectorInterop(t *testing.T) {
	wire := ndndStateVector(map[string][][2]uint64{
		"/g/alice": {{1700000000, 5}, {1700000100, 300}},
		"/g/bob":   {{1700000050, 70000}},
	}, []string{"/g/alice", "/g/bob"})
	got, err := decodeStateVector(wire)
	require.NoError(t, err)
	a, _ := enc.NameFromStr("/g/alice")
	b, _ := enc.NameFromStr("/g/bob")
	want := []svEntry{{a, 1700000000, 5}, {a, 1700000100, 300}, {b, 1700000050, 70000}}
	require.Equal(t, want, got)

	// ndnd reads what we encode.
	parsed, err := spec_svs.ParseSvsData(enc.NewBufferView(encodeStateVector(want)), false)
	require.NoError(t, err)
	require.Len(t, parsed.StateVector.Entries, 2)
	require.True(t, parsed.StateVector.Entries[0].Name.Equal(a))
	require.EqualValues(t, 300, parsed.StateVector.Entries[0].SeqNoEntries[1].SeqNo)
	require.EqualValues(t, 70000, parsed.StateVector.Entries[1].SeqNoEntries[0].SeqNo)

	// An empty state vector (a node that knows nobody) is valid.
	got, err = decodeStateVector(ndndStateVector(nil, nil))
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestHistoryInterop(t *testing.T) {
	idx := (&svs_ps.HistoryIndex{SeqNos: []uint64{1, 11, 21, 300}}).Encode().Join()
	seqs, err := decodeHistoryIndex(idx)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 11, 21, 300}, seqs)
	require.Equal(t, idx, encodeHistoryIndex(seqs))

	snap := (&svs_ps.HistorySnap{Entries: []*svs_ps.HistorySnapEntry{
		{SeqNo: 2, Content: enc.Wire{[]byte("two")}},
		{SeqNo: 11, Content: enc.Wire{bytes.Repeat([]byte("x"), 1000)}},
		{SeqNo: 12, Content: enc.Wire{}},
	}}).Encode().Join()
	entries, err := decodeHistorySnap(snap)
	require.NoError(t, err)
	require.Equal(t, []snapEntry{{2, []byte("two")}, {11, bytes.Repeat([]byte("x"), 1000)}, {12, []byte{}}}, entries)
	parsed, err := svs_ps.ParseHistorySnap(enc.NewBufferView(encodeHistorySnap(entries)), false)
	require.NoError(t, err)
	require.Len(t, parsed.Entries, 3)
	require.Equal(t, "two", string(parsed.Entries[0].Content.Join()))

	name, _ := enc.NameFromStr("/g/alice/t=5/32=HIDX/v=21")
	md := (&rdr.MetaData{Name: name, FinalBlockID: enc.NewSegmentComponent(0).Bytes()}).Encode().Join()
	got, err := decodeMetadataName(md)
	require.NoError(t, err)
	require.True(t, name.Equal(got), got.String())
}

func TestDecodeMalformed(t *testing.T) {
	for _, c := range []struct {
		name   string
		decode func([]byte) error
		in     []byte
	}{
		{"sv: no state vector", svDecode, []byte{}},
		{"sv: truncated", svDecode, []byte{0xc9, 0x05, 0xca}},
		{"sv: length beyond buffer", svDecode, []byte{0xc9, 0xfe, 0x30, 0x30, 0x30, 0x30}},
		{"sv: entry without name", svDecode, []byte{0xc9, 0x02, 0xca, 0x00}},
		{"sv: seq entry without seq", svDecode, tlv(0xc9, tlv(0xca, tlv(0x07), tlv(0xd2, tlv(0xd4, []byte{1}))))},
		{"sv: 9-byte natural", svDecode, tlv(0xc9, tlv(0xca, tlv(0x07), tlv(0xd2, tlv(0xd4, make([]byte, 9)), tlv(0xd6, []byte{1}))))},
		{"sv: two names", svDecode, tlv(0xc9, tlv(0xca, tlv(0x07), tlv(0x07)))},
		{"sv: component type 0", svDecode, tlv(0xc9, tlv(0xca, tlv(0x07, tlv(0x00))))},
		{"sv: component type > 65535", svDecode, tlv(0xc9, tlv(0xca, tlv(0x07, tlv(0x10000))))},
		{"index: not increasing", func(b []byte) error { _, err := decodeHistoryIndex(b); return err }, []byte{0x84, 0x01, 0x05, 0x84, 0x01, 0x05}},
		{"index: empty natural", func(b []byte) error { _, err := decodeHistoryIndex(b); return err }, []byte{0x84, 0x00}},
		{"snap: not increasing", func(b []byte) error { _, err := decodeHistorySnap(b); return err }, []byte{0x82, 0x03, 0xd6, 0x01, 0x05, 0x82, 0x03, 0xd6, 0x01, 0x04}},
		{"snap: no seq", func(b []byte) error { _, err := decodeHistorySnap(b); return err }, []byte{0x82, 0x02, 0x83, 0x00}},
		{"metadata: no name", func(b []byte) error { _, err := decodeMetadataName(b); return err }, []byte{0x1a, 0x00}},
		{"the 12 GiB name", svDecode, []byte{0xc9, 0x09, 0xca, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30}},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.ErrorIs(t, c.decode(c.in), errMalformed)
		})
	}
}

// tlv builds a TLV from its type and the concatenated parts.
func tlv(typ uint64, parts ...[]byte) []byte { return appendTLV(nil, typ, bytes.Join(parts, nil)) }

func svDecode(b []byte) error { _, err := decodeStateVector(b); return err }

// TestLongComponents: our name encoding is correct for components of 253
// bytes and more (ndnd's is not), and such names are not fetchable.
func TestLongComponents(t *testing.T) {
	n := enc.Name{enc.NewGenericBytesComponent(bytes.Repeat([]byte{'a'}, 300)), enc.NewGenericComponent("b")}
	b := appendName(nil, n)
	require.Equal(t, []byte{0x07, 0xfd, 0x01, 0x33, 0x08, 0xfd, 0x01, 0x2c}, b[:8])
	r := tlvReader{b}
	_, v, err := r.next()
	require.NoError(t, err)
	got, err := decodeNameValue(v)
	require.NoError(t, err)
	require.True(t, n.Equal(got))
	require.False(t, fetchable(n))
	require.True(t, fetchable(n[1:]))
}

func TestNames(t *testing.T) {
	g, _ := enc.NameFromStr("/g")
	mc, _ := enc.NameFromStr("/mc")
	a, _ := enc.NameFromStr("/alice")
	for _, c := range []struct {
		got  enc.Name
		want string
	}{
		{syncPrefix(nil, g), "/g/32=svs/v=3"},
		{syncPrefix(mc, g), "/mc/g/32=svs/v=3"},
		{pubName(g, a, 7, 3), "/g/alice/t=7/seq=3/v=0"},
		{snapName(g, a, 7, 11), "/g/alice/t=7/32=HIST/v=11"},
		{idxPrefix(g, a, 7), "/g/alice/t=7/32=HIDX"},
	} {
		require.Equal(t, c.want, c.got.String())
		require.Equal(t, len(c.got), cap(c.got), "%s: no spare capacity for ndnd to append into", c.want)
	}
}
