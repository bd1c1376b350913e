package rpc

import (
	"bytes"
	"strings"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"
)

// TestSealAADIsNameTLV: the associated data of a sealed payload is the call
// name (digest dropped) as a standard Name TLV plus 'q' or 'r', whatever
// the name's length. ndnd v1.5.3's Name.Bytes gets the TLV-LENGTH wrong
// from 253 bytes on, which another implementation would not reproduce.
// (Its Component encoding has the same fault, so ndnd cannot carry a
// component of 253 bytes or more at all; long names here are made of short
// components.)
func TestSealAADIsNameTLV(t *testing.T) {
	digest := enc.Component{Typ: enc.TypeParametersSha256DigestComponent, Val: make([]byte, 32)}
	for _, n := range []int{0, 1, 20, 40, 41, 42, 43, 60, 11000} {
		name, err := enc.NameFromStr("/svc" + strings.Repeat("/mmmm", n)) // 6 bytes per component
		require.NoError(t, err)
		inner := name.BytesInner()
		var want []byte
		switch l := len(inner); {
		case l < 253:
			want = append([]byte{0x07, byte(l)}, inner...)
		case l <= 0xffff:
			want = append([]byte{0x07, 0xfd, byte(l >> 8), byte(l)}, inner...)
		default:
			want = append([]byte{0x07, 0xfe, byte(l >> 24), byte(l >> 16), byte(l >> 8), byte(l)}, inner...)
		}
		require.Equal(t, append(bytes.Clone(want), 'q'), aad(name, false), "name of %d bytes", len(inner))
		require.Equal(t, append(bytes.Clone(want), 'r'), aad(name.Append(digest), true), "name of %d bytes", len(inner))
		back, err := enc.NameFromBytes(want)
		require.NoError(t, err, "name of %d bytes", len(inner))
		require.True(t, back.Equal(name))
	}
}
