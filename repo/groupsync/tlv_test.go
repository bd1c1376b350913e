package groupsync

import (
	"bytes"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	rdr "github.com/named-data/ndnd/std/ndn/rdr_2024"
	spec_svs "github.com/named-data/ndnd/std/ndn/svs/v3"
	"github.com/named-data/ndnd/std/ndn/svs_ps"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

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
		{"sv: seq entry without seq", svDecode, tlvOf(0xc9, tlvOf(0xca, tlvOf(0x07), tlvOf(0xd2, tlvOf(0xd4, []byte{1}))))},
		{"sv: 9-byte natural", svDecode, tlvOf(0xc9, tlvOf(0xca, tlvOf(0x07), tlvOf(0xd2, tlvOf(0xd4, make([]byte, 9)), tlvOf(0xd6, []byte{1}))))},
		{"sv: 3-byte natural", svDecode, tlvOf(0xc9, tlvOf(0xca, tlvOf(0x07), tlvOf(0xd2, tlvOf(0xd4, make([]byte, 3)), tlvOf(0xd6, []byte{1}))))},
		{"sv: TLV-TYPE 0 where unknown types are skipped", svDecode, tlvOf(0xc9, []byte{0x00, 0x00})},
		{"sv: two names", svDecode, tlvOf(0xc9, tlvOf(0xca, tlvOf(0x07), tlvOf(0x07)))},
		{"sv: component type 0", svDecode, tlvOf(0xc9, tlvOf(0xca, tlvOf(0x07, tlvOf(0x00))))},
		{"sv: component type > 65535", svDecode, tlvOf(0xc9, tlvOf(0xca, tlvOf(0x07, tlvOf(0x10000))))},
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

// TestDecodeLongerVarNumForms: var-numbers in a longer form than needed are
// valid NDN (receivers accept them; only the NonNegativeInteger length is
// fixed), so a state vector written that way decodes.
func TestDecodeLongerVarNumForms(t *testing.T) {
	// StateVector (FD 00 C9) { Entry (CA) { Name (07) { 08 FD 00 01 'a' } SeqNoEntry { ... } } }
	name := []byte{0x07, 0x05, 0x08, 0xfd, 0x00, 0x01, 'a'}
	seq := tlvOf(0xd2, tlvOf(0xd4, []byte{0, 7}), tlvOf(0xd6, []byte{0, 0, 0, 9}))
	entry := tlvOf(0xca, name, seq)
	sv := append([]byte{0xfd, 0x00, 0xc9, 0xfe, 0, 0, 0, byte(len(entry))}, entry...)
	got, err := decodeStateVector(sv)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "/a", got[0].node.String())
	require.EqualValues(t, 7, got[0].boot)
	require.EqualValues(t, 9, got[0].seq)
}

// tlvOf builds a TLV from its type and the concatenated parts.
func tlvOf(typ uint64, parts ...[]byte) []byte {
	return tlv.AppendTLV(nil, typ, bytes.Join(parts, nil))
}

func svDecode(b []byte) error { _, err := decodeStateVector(b); return err }

// TestLongComponents: our name encoding is correct for components of 253
// bytes and more (ndnd's is not), and such names are not fetchable.
func TestLongComponents(t *testing.T) {
	n := enc.Name{enc.NewGenericBytesComponent(bytes.Repeat([]byte{'a'}, 300)), enc.NewGenericComponent("b")}
	b := tlv.AppendName(nil, n)
	require.Equal(t, []byte{0x07, 0xfd, 0x01, 0x33, 0x08, 0xfd, 0x01, 0x2c}, b[:8])
	_, v, err := tlv.Single(b)
	require.NoError(t, err)
	got, err := tlv.DecodeName(v)
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
