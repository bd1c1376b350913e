package groupsync

import (
	"errors"
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// This file holds the decoders for the few TLV structures this package
// reads: the SVS v3 state vector, ndnd's history snapshot and index
// (std/ndn/svs_ps), the RDR metadata name, and our persisted state, built on
// the primitives of internal/tlv. We do not use ndnd's generated
// parsers on bytes from the network or from disk: they trust nested lengths
// they have not checked (see security.WellFormed). Every decoder here checks
// each length against its buffer before slicing, never allocates more than
// its input size implies, and is fuzzed. As packet format v0.3 requires, a
// NonNegativeInteger must be 1, 2, 4 or 8 bytes and TLV-TYPE 0 is refused,
// even inside an element that would otherwise be skipped.

// errMalformed is wrapped by every decoding error.
var errMalformed = errors.New("malformed TLV")

// malformed wraps err, a decoding error from package tlv, with errMalformed.
func malformed(err error) error { return fmt.Errorf("%w: %w", errMalformed, err) }

// nameKey is a map key for a name: its TLV encoding.
func nameKey(n enc.Name) string { return string(tlv.AppendName(nil, n)) }

// fetchable reports whether n can be used in names we express through
// ndnd: not empty, no component that ndnd encodes wrongly (ndnd v1.5.3
// mis-encodes components of 253 bytes and more: tlv.NdndEncodable). Such
// names are refused where they enter (state vector entries, persisted
// state, Config).
func fetchable(n enc.Name) bool { return len(n) > 0 && tlv.NdndEncodable(n) }

// SVS v3 TLV types (std/ndn/svs/v3/definitions.go).
const (
	typeBootstrapTime = 0xd4
	typeSeqNo         = 0xd6
)

// svEntry is one (node, boot, seq) triple of a state vector.
type svEntry struct {
	node enc.Name
	boot uint64
	seq  uint64
}

// decodeStateVector decodes the content of an SVS v3 Sync Data (SvsData:
// a StateVector TLV) into its entries, with svsync's checked decoder
// (shared with svs and pubsub).
func decodeStateVector(b []byte) ([]svEntry, error) {
	es, err := svsync.DecodeStateVector(b)
	if err != nil {
		return nil, malformed(err)
	}
	out := make([]svEntry, len(es))
	for i, e := range es {
		out[i] = svEntry{node: e.Name, boot: e.Boot, seq: e.Seq}
	}
	return out, nil
}

// encodeStateVector is the inverse of decodeStateVector (entries with the
// same node are grouped in order of first appearance). Used by tests and
// the fuzz round trip.
func encodeStateVector(entries []svEntry) []byte {
	var order []string
	byNode := map[string][]svsync.Entry{}
	for _, e := range entries {
		k := nameKey(e.node)
		if _, ok := byNode[k]; !ok {
			order = append(order, k)
		}
		byNode[k] = append(byNode[k], svsync.Entry{Name: e.node, Boot: e.boot, Seq: e.seq})
	}
	var es []svsync.Entry
	for _, k := range order {
		es = append(es, byNode[k]...)
	}
	return svsync.EncodeStateVector(es)
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
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, malformed(err)
		}
		if t != typeHistoryIndexSeq {
			continue
		}
		n, err := tlv.ReadNat(v)
		if err != nil {
			return nil, malformed(err)
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
		out = tlv.AppendNat(out, typeHistoryIndexSeq, s)
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
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, malformed(err)
		}
		if t != typeHistorySnapEntry {
			continue
		}
		var e snapEntry
		var hs bool
		er := tlv.NewReader(v)
		for er.More() {
			t, ev, err := er.Next()
			if err != nil {
				return nil, malformed(err)
			}
			switch t {
			case typeSeqNo:
				if e.seq, err = tlv.ReadNat(ev); err != nil {
					return nil, malformed(err)
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
		inner = tlv.AppendNat(inner, typeSeqNo, e.seq)
		inner = tlv.AppendTLV(inner, typeHistorySnapContent, e.content)
		out = tlv.AppendTLV(out, typeHistorySnapEntry, inner)
	}
	return out
}

// decodeMetadataName returns the versioned name in RDR metadata content
// (std/ndn/rdr_2024: the first Name TLV).
func decodeMetadataName(b []byte) (enc.Name, error) {
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, malformed(err)
		}
		if t == tlv.TypeName {
			name, err := tlv.DecodeName(v)
			if err != nil {
				return nil, malformed(err)
			}
			return name, nil
		}
	}
	return nil, fmt.Errorf("%w: metadata without a name", errMalformed)
}
