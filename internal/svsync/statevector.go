package svsync

import (
	"errors"
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// SVS v3 state vector TLV types (std/ndn/svs/v3/definitions.go).
const (
	typeStateVector      = 0xc9
	typeStateVectorEntry = 0xca
	typeSeqNoEntry       = 0xd2
	typeBootstrapTime    = 0xd4
	typeSeqNo            = 0xd6
)

// MaxPacket is the largest NDN packet; a Sync Interest's Sync Data larger
// than that is refused before decoding.
const MaxPacket = 8800

// MaxEntries bounds the (name, boot) entries of a state vector passed to
// SvSync. A Sync Interest fits one packet, so a real one has far fewer.
const MaxEntries = 1024

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("svsync: malformed")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
}

// UsableName reports whether n can name a state vector entry: not empty,
// and re-encodable by ndnd (no component of 253 bytes or more, which ndnd
// encodes wrongly).
func UsableName(n enc.Name) bool { return len(n) > 0 && tlv.NdndEncodable(n) }

// Entry is one (name, boot, seq) triple of a state vector.
type Entry struct {
	Name enc.Name
	Boot uint64
	Seq  uint64
}

// DecodeStateVector checks and decodes the content of an SVS v3 Sync Data
// (SvsData: a StateVector TLV) before ndnd's generated parser sees it
// (that parser trusts lengths it has not checked). Unknown TLVs are
// skipped, as ndnd's parsers do. Beyond the structure it refuses what
// SvSync would mishandle: names that are not UsableName, and more than
// MaxEntries entries. Errors wrap ErrMalformed.
func DecodeStateVector(b []byte) ([]Entry, error) {
	var out []Entry
	found := false
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, malformed("%v", err)
		}
		if t != typeStateVector {
			continue
		}
		if found {
			return nil, malformed("two StateVectors")
		}
		found = true
		vr := tlv.NewReader(v)
		for vr.More() {
			t, ev, err := vr.Next()
			if err != nil {
				return nil, malformed("%v", err)
			}
			if t != typeStateVectorEntry {
				continue
			}
			if out, err = decodeEntry(out, ev); err != nil {
				return nil, err
			}
			if len(out) > MaxEntries {
				return nil, malformed("more than %d state vector entries", MaxEntries)
			}
		}
	}
	if !found {
		return nil, malformed("no StateVector")
	}
	return out, nil
}

func decodeEntry(out []Entry, b []byte) ([]Entry, error) {
	var name enc.Name
	haveName := false
	start := len(out)
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, malformed("%v", err)
		}
		switch t {
		case tlv.TypeName:
			if haveName {
				return nil, malformed("state vector entry with two names")
			}
			if name, err = tlv.DecodeName(v); err != nil {
				return nil, malformed("%v", err)
			}
			if !UsableName(name) {
				return nil, malformed("unusable name in state vector")
			}
			haveName = true
		case typeSeqNoEntry:
			var e Entry
			var hb, hs bool
			sr := tlv.NewReader(v)
			for sr.More() {
				t, sv, err := sr.Next()
				if err != nil {
					return nil, malformed("%v", err)
				}
				switch t {
				case typeBootstrapTime:
					if hb {
						return nil, malformed("repeated BootstrapTime")
					}
					if e.Boot, err = tlv.ReadNat(sv); err != nil {
						return nil, malformed("%v", err)
					}
					hb = true
				case typeSeqNo:
					if hs {
						return nil, malformed("repeated SeqNo")
					}
					if e.Seq, err = tlv.ReadNat(sv); err != nil {
						return nil, malformed("%v", err)
					}
					hs = true
				}
			}
			if !hb || !hs {
				return nil, malformed("SeqNoEntry without BootstrapTime or SeqNo")
			}
			out = append(out, e)
			if len(out) > MaxEntries {
				return nil, malformed("more than %d state vector entries", MaxEntries)
			}
		}
	}
	if !haveName {
		return nil, malformed("state vector entry without name")
	}
	for i := start; i < len(out); i++ {
		out[i].Name = name
	}
	return out, nil
}

// EncodeStateVector is the inverse of DecodeStateVector for entries whose
// names are grouped (each name's entries adjacent). Used by tests and the
// fuzz round trip.
func EncodeStateVector(entries []Entry) []byte {
	var sv []byte
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].Name.Equal(entries[i].Name) {
			j++
		}
		inner := tlv.AppendName(nil, entries[i].Name)
		for _, e := range entries[i:j] {
			var se []byte
			se = tlv.AppendNat(se, typeBootstrapTime, e.Boot)
			se = tlv.AppendNat(se, typeSeqNo, e.Seq)
			inner = tlv.AppendTLV(inner, typeSeqNoEntry, se)
		}
		sv = tlv.AppendTLV(sv, typeStateVectorEntry, inner)
		i = j
	}
	return tlv.AppendTLV(nil, typeStateVector, sv)
}
