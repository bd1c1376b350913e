package groupsync

import (
	"errors"
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"
)

// This file holds a small TLV reader and writer and the decoders for the
// few TLV structures this package reads: the SVS v3 state vector, ndnd's
// history snapshot and index (std/ndn/svs_ps), the RDR metadata name, and
// our persisted state. We do not use ndnd's generated parsers on bytes from
// the network or from disk: they trust nested lengths they have not checked
// (see security.WellFormed). Every decoder here checks each length against
// its buffer before slicing, never allocates more than its input size
// implies, and is fuzzed.

// errMalformed is wrapped by every decoding error.
var errMalformed = errors.New("malformed TLV")

// maxComponentLen is the longest name component we accept. ndnd v1.5.3
// encodes component lengths of 253 bytes and more as a NonNegativeInteger
// instead of a TLV-LENGTH (std/encoding/component.go:108-116), so a name with
// such a component cannot be expressed correctly through ndnd: such names
// are refused where they enter (state vector entries, persisted state).
const maxComponentLen = 252

// readVar reads a TLV-TYPE or TLV-LENGTH var-number at the start of b.
func readVar(b []byte) (v uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch f := b[0]; {
	case f < 253:
		return uint64(f), 1, true
	case f == 253:
		if len(b) < 3 {
			return 0, 0, false
		}
		return uint64(b[1])<<8 | uint64(b[2]), 3, true
	case f == 254:
		if len(b) < 5 {
			return 0, 0, false
		}
		return uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4]), 5, true
	default:
		if len(b) < 9 {
			return 0, 0, false
		}
		for i := 1; i < 9; i++ {
			v = v<<8 | uint64(b[i])
		}
		return v, 9, true
	}
}

// appendVar appends v as a var-number (shortest form).
func appendVar(dst []byte, v uint64) []byte {
	switch {
	case v < 253:
		return append(dst, byte(v))
	case v <= 0xFFFF:
		return append(dst, 253, byte(v>>8), byte(v))
	case v <= 0xFFFFFFFF:
		return append(dst, 254, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(dst, 255, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

// readNat decodes a NonNegativeInteger value (1 to 8 bytes, big endian).
func readNat(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 8 {
		return 0, fmt.Errorf("%w: natural number of %d bytes", errMalformed, len(b))
	}
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v, nil
}

// appendNatTLV appends a TLV whose value is v as a NonNegativeInteger
// (1, 2, 4 or 8 bytes).
func appendNatTLV(dst []byte, typ uint64, v uint64) []byte {
	dst = appendVar(dst, typ)
	switch {
	case v <= 0xFF:
		return append(dst, 1, byte(v))
	case v <= 0xFFFF:
		return append(dst, 2, byte(v>>8), byte(v))
	case v <= 0xFFFFFFFF:
		return append(dst, 4, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(dst, 8, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

// appendTLV appends a TLV with the given value.
func appendTLV(dst []byte, typ uint64, val []byte) []byte {
	dst = appendVar(dst, typ)
	dst = appendVar(dst, uint64(len(val)))
	return append(dst, val...)
}

// tlvReader walks a sequence of TLVs.
type tlvReader struct{ b []byte }

// more reports whether any bytes are left.
func (r *tlvReader) more() bool { return len(r.b) > 0 }

// next returns the next TLV. Its value aliases the input.
func (r *tlvReader) next() (typ uint64, val []byte, err error) {
	t, n, ok := readVar(r.b)
	if !ok {
		return 0, nil, fmt.Errorf("%w: truncated TLV-TYPE", errMalformed)
	}
	l, m, ok := readVar(r.b[n:])
	if !ok {
		return 0, nil, fmt.Errorf("%w: truncated TLV-LENGTH", errMalformed)
	}
	rest := r.b[n+m:]
	if l > uint64(len(rest)) {
		return 0, nil, fmt.Errorf("%w: TLV of type %#x claims %d bytes, %d left", errMalformed, t, l, len(rest))
	}
	r.b = rest[l:]
	return t, rest[:l:l], nil
}

// Name TLV types (NDN packet format v0.3).
const (
	typeName = 0x07
)

// decodeNameValue decodes the value of a Name TLV: a sequence of
// components. Component types must be 1-65535 (packet format v0.3).
func decodeNameValue(b []byte) (enc.Name, error) {
	// Each component takes at least 2 bytes: this bounds the allocation.
	name := make(enc.Name, 0, len(b)/2)
	r := tlvReader{b}
	for r.more() {
		t, v, err := r.next()
		if err != nil {
			return nil, err
		}
		if t == 0 || t > 0xFFFF {
			return nil, fmt.Errorf("%w: name component type %d", errMalformed, t)
		}
		name = append(name, enc.Component{Typ: enc.TLNum(t), Val: append([]byte(nil), v...)})
	}
	return name, nil
}

// appendName appends n as a Name TLV (0x07), with correct TLV-LENGTH
// encoding for every component length.
func appendName(dst []byte, n enc.Name) []byte {
	var inner []byte
	for _, c := range n {
		inner = appendTLV(inner, uint64(c.Typ), c.Val)
	}
	return appendTLV(dst, typeName, inner)
}

// nameKey is a map key for a name: its TLV encoding.
func nameKey(n enc.Name) string { return string(appendName(nil, n)) }

// fetchable reports whether n can be used in names we express through
// ndnd: not empty, no component that ndnd encodes wrongly.
func fetchable(n enc.Name) bool {
	if len(n) == 0 {
		return false
	}
	for _, c := range n {
		if len(c.Val) > maxComponentLen {
			return false
		}
	}
	return true
}

// SVS v3 TLV types (std/ndn/svs/v3/definitions.go).
const (
	typeStateVector      = 0xc9
	typeStateVectorEntry = 0xca
	typeSeqNoEntry       = 0xd2
	typeBootstrapTime    = 0xd4
	typeSeqNo            = 0xd6
)

// svEntry is one (node, boot, seq) triple of a state vector.
type svEntry struct {
	node enc.Name
	boot uint64
	seq  uint64
}

// decodeStateVector decodes the content of an SVS v3 Sync Data (SvsData:
// a StateVector TLV) into its entries. Unknown TLVs are skipped, as ndnd's
// generated parsers do.
func decodeStateVector(b []byte) ([]svEntry, error) {
	var out []svEntry
	found := false
	r := tlvReader{b}
	for r.more() {
		t, v, err := r.next()
		if err != nil {
			return nil, err
		}
		if t != typeStateVector {
			continue
		}
		found = true
		vr := tlvReader{v}
		for vr.more() {
			t, ev, err := vr.next()
			if err != nil {
				return nil, err
			}
			if t != typeStateVectorEntry {
				continue
			}
			out, err = decodeSVEntry(out, ev)
			if err != nil {
				return nil, err
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: no StateVector", errMalformed)
	}
	return out, nil
}

func decodeSVEntry(out []svEntry, b []byte) ([]svEntry, error) {
	var name enc.Name
	haveName := false
	var seqs [][2]uint64
	r := tlvReader{b}
	for r.more() {
		t, v, err := r.next()
		if err != nil {
			return nil, err
		}
		switch t {
		case typeName:
			if haveName {
				return nil, fmt.Errorf("%w: state vector entry with two names", errMalformed)
			}
			if name, err = decodeNameValue(v); err != nil {
				return nil, err
			}
			haveName = true
		case typeSeqNoEntry:
			var boot, seq uint64
			var hb, hs bool
			sr := tlvReader{v}
			for sr.more() {
				t, sv, err := sr.next()
				if err != nil {
					return nil, err
				}
				switch t {
				case typeBootstrapTime:
					if boot, err = readNat(sv); err != nil {
						return nil, err
					}
					hb = true
				case typeSeqNo:
					if seq, err = readNat(sv); err != nil {
						return nil, err
					}
					hs = true
				}
			}
			if !hb || !hs {
				return nil, fmt.Errorf("%w: SeqNoEntry without BootstrapTime or SeqNo", errMalformed)
			}
			seqs = append(seqs, [2]uint64{boot, seq})
		}
	}
	if !haveName {
		return nil, fmt.Errorf("%w: state vector entry without name", errMalformed)
	}
	for _, s := range seqs {
		out = append(out, svEntry{node: name, boot: s[0], seq: s[1]})
	}
	return out, nil
}

// encodeStateVector is the inverse of decodeStateVector (entries with the
// same node are grouped in order of first appearance). Used by tests and
// the fuzz round trip.
func encodeStateVector(entries []svEntry) []byte {
	var order []string
	byNode := map[string][]svEntry{}
	for _, e := range entries {
		k := nameKey(e.node)
		if _, ok := byNode[k]; !ok {
			order = append(order, k)
		}
		byNode[k] = append(byNode[k], e)
	}
	var sv []byte
	for _, k := range order {
		es := byNode[k]
		inner := appendName(nil, es[0].node)
		for _, e := range es {
			var se []byte
			se = appendNatTLV(se, typeBootstrapTime, e.boot)
			se = appendNatTLV(se, typeSeqNo, e.seq)
			inner = appendTLV(inner, typeSeqNoEntry, se)
		}
		sv = appendTLV(sv, typeStateVectorEntry, inner)
	}
	return appendTLV(nil, typeStateVector, sv)
}

// History snapshot TLV types (std/ndn/svs_ps/definitions.go).
const (
	typeHistorySnapEntry   = 0x82
	typeHistorySnapContent = 0x83
	typeHistoryIndexSeq    = 0x84
)

// decodeHistoryIndex decodes a HistoryIndex: the sequence numbers at which
// the publisher took snapshots. They must be strictly increasing.
func decodeHistoryIndex(b []byte) ([]uint64, error) {
	var out []uint64
	r := tlvReader{b}
	for r.more() {
		t, v, err := r.next()
		if err != nil {
			return nil, err
		}
		if t != typeHistoryIndexSeq {
			continue
		}
		n, err := readNat(v)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("%w: history index not increasing (%d after %d)", errMalformed, n, out[len(out)-1])
		}
		out = append(out, n)
	}
	return out, nil
}

// encodeHistoryIndex is the inverse of decodeHistoryIndex.
func encodeHistoryIndex(seqs []uint64) []byte {
	var out []byte
	for _, s := range seqs {
		out = appendNatTLV(out, typeHistoryIndexSeq, s)
	}
	return out
}

// snapEntry is one publication inside a history snapshot.
type snapEntry struct {
	seq     uint64
	content []byte
}

// decodeHistorySnap decodes a HistorySnap. Entries must have strictly
// increasing sequence numbers; the content is copied out of b.
func decodeHistorySnap(b []byte) ([]snapEntry, error) {
	var out []snapEntry
	r := tlvReader{b}
	for r.more() {
		t, v, err := r.next()
		if err != nil {
			return nil, err
		}
		if t != typeHistorySnapEntry {
			continue
		}
		var e snapEntry
		var hs bool
		er := tlvReader{v}
		for er.more() {
			t, ev, err := er.next()
			if err != nil {
				return nil, err
			}
			switch t {
			case typeSeqNo:
				if e.seq, err = readNat(ev); err != nil {
					return nil, err
				}
				hs = true
			case typeHistorySnapContent:
				e.content = append(e.content[:0], ev...)
			}
		}
		if !hs {
			return nil, fmt.Errorf("%w: snapshot entry without SeqNo", errMalformed)
		}
		if len(out) > 0 && e.seq <= out[len(out)-1].seq {
			return nil, fmt.Errorf("%w: snapshot entries not increasing (%d after %d)", errMalformed, e.seq, out[len(out)-1].seq)
		}
		if e.content == nil {
			e.content = []byte{}
		}
		out = append(out, e)
	}
	return out, nil
}

// encodeHistorySnap is the inverse of decodeHistorySnap.
func encodeHistorySnap(entries []snapEntry) []byte {
	var out []byte
	for _, e := range entries {
		var inner []byte
		inner = appendNatTLV(inner, typeSeqNo, e.seq)
		inner = appendTLV(inner, typeHistorySnapContent, e.content)
		out = appendTLV(out, typeHistorySnapEntry, inner)
	}
	return out
}

// decodeMetadataName returns the versioned name in RDR metadata content
// (std/ndn/rdr_2024: the first Name TLV).
func decodeMetadataName(b []byte) (enc.Name, error) {
	r := tlvReader{b}
	for r.more() {
		t, v, err := r.next()
		if err != nil {
			return nil, err
		}
		if t == typeName {
			return decodeNameValue(v)
		}
	}
	return nil, fmt.Errorf("%w: metadata without a name", errMalformed)
}
