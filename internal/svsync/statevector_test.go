package svsync

import (
	"encoding/hex"
	"strings"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

func nm(s string) enc.Name {
	n, err := enc.NameFromStr(s)
	if err != nil {
		panic(err)
	}
	return n
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

func TestStateVectorDecoding(t *testing.T) {
	entries := []Entry{
		{Name: nm("/a"), Boot: 100, Seq: 1},
		{Name: nm("/a"), Boot: 200, Seq: 5},
		{Name: nm("/b/c"), Boot: 300, Seq: 1 << 40},
	}
	b := EncodeStateVector(entries)
	got, err := DecodeStateVector(b)
	require.NoError(t, err)
	require.Len(t, got, 3)
	for i := range entries {
		assert.True(t, entries[i].Name.Equal(got[i].Name))
		assert.Equal(t, entries[i].Boot, got[i].Boot)
		assert.Equal(t, entries[i].Seq, got[i].Seq)
	}
	long := enc.Name{enc.NewGenericBytesComponent(make([]byte, 253))}
	for name, in := range map[string][]byte{
		"empty":          nil,
		"no vector":      unhex(t, "ca00"),
		"two vectors":    append(EncodeStateVector(nil), EncodeStateVector(nil)...),
		"no name":        tlv.AppendTLV(nil, typeStateVector, tlv.AppendTLV(nil, typeStateVectorEntry, nil)),
		"empty name":     EncodeStateVector([]Entry{{Name: enc.Name{}, Boot: 1, Seq: 1}}),
		"long component": EncodeStateVector([]Entry{{Name: long, Boot: 1, Seq: 1}}),
		"no seq":         tlv.AppendTLV(nil, typeStateVector, tlv.AppendTLV(nil, typeStateVectorEntry, append(tlv.AppendName(nil, nm("/a")), unhex(t, "d2 03 d4 01 01")...))),
		"truncated":      EncodeStateVector(entries)[:20],
	} {
		_, err := DecodeStateVector(in)
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
	many := make([]Entry, MaxEntries+1)
	for i := range many {
		many[i] = Entry{Name: nm("/a"), Boot: uint64(i), Seq: 1}
	}
	_, err = DecodeStateVector(EncodeStateVector(many))
	assert.ErrorIs(t, err, ErrMalformed)
}
