package groupsync

import (
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// Persisted state TLV types (ours; values in the application range).
//
//	GroupState  = 0xC0 TLV-LENGTH FormatVersion *Stream *SyncWire
//	FormatVersion = 0xC1 nat            ; 1
//	Stream      = 0xC2 TLV-LENGTH Name BootstrapTime(0xD4) Known(0xC4)
//	              Latest(0xC5) [SnapKnown(0xC6)] [WireIndex(0xC7)]
//	SyncWire    = 0xC3 bytes           ; a Sync Data packet, as received
//
// Unknown TLVs inside GroupState and Stream are skipped, so a later version
// may add fields.
const (
	typeGroupState    = 0xC0
	typeFormatVersion = 0xC1
	typeStream        = 0xC2
	typeSyncWire      = 0xC3
	typeKnown         = 0xC4
	typeLatest        = 0xC5
	typeSnapKnown     = 0xC6
	typeWireIndex     = 0xC7

	stateFormat = 1
)

// savedState is what Member persists through Sink.SaveState.
type savedState struct {
	streams []savedStream
	// wires are Sync Data packets received from publishers (passive SVS
	// keeps others' signed state vectors to re-send them: it has none of
	// its own).
	wires [][]byte
}

// savedStream is one publisher instance's progress.
type savedStream struct {
	node enc.Name
	boot uint64
	// known: every publication with a sequence number up to known is
	// stored and was handed to OnPublication.
	known uint64
	// latest is the highest sequence number the group announced.
	latest uint64
	// snapKnown is the newest history snapshot version stored.
	snapKnown uint64
	// wire is an index into savedState.wires, or -1.
	wire int
}

// encodeState encodes s. It never fails.
func encodeState(s *savedState) []byte {
	var inner []byte
	inner = tlv.AppendNat(inner, typeFormatVersion, stateFormat)
	for _, st := range s.streams {
		var v []byte
		v = tlv.AppendName(v, st.node)
		v = tlv.AppendNat(v, typeBootstrapTime, st.boot)
		v = tlv.AppendNat(v, typeKnown, st.known)
		v = tlv.AppendNat(v, typeLatest, st.latest)
		if st.snapKnown > 0 {
			v = tlv.AppendNat(v, typeSnapKnown, st.snapKnown)
		}
		if st.wire >= 0 {
			v = tlv.AppendNat(v, typeWireIndex, uint64(st.wire))
		}
		inner = tlv.AppendTLV(inner, typeStream, v)
	}
	for _, w := range s.wires {
		inner = tlv.AppendTLV(inner, typeSyncWire, w)
	}
	return tlv.AppendTLV(nil, typeGroupState, inner)
}

// decodeState decodes what encodeState wrote. Errors wrap ErrBadState.
// Streams whose names ndnd cannot express are dropped; a latest below
// known is raised to known; wire indices out of range are dropped.
func decodeState(b []byte) (*savedState, error) {
	t, v, err := tlv.Single(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadState, malformed(err))
	}
	if t != typeGroupState {
		return nil, fmt.Errorf("%w: not a group state (type %#x)", ErrBadState, t)
	}
	s := &savedState{}
	format := uint64(0)
	ir := tlv.NewReader(v)
	for ir.More() {
		t, v, err := ir.Next()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadState, malformed(err))
		}
		switch t {
		case typeFormatVersion:
			if format, err = tlv.ReadNat(v); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadState, malformed(err))
			}
		case typeStream:
			st, err := decodeStream(v)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadState, err)
			}
			if fetchable(st.node) {
				s.streams = append(s.streams, st)
			}
		case typeSyncWire:
			s.wires = append(s.wires, append([]byte(nil), v...))
		}
	}
	if format != stateFormat {
		return nil, fmt.Errorf("%w: format version %d, want %d", ErrBadState, format, stateFormat)
	}
	for i := range s.streams {
		if s.streams[i].wire >= len(s.wires) {
			s.streams[i].wire = -1
		}
	}
	return s, nil
}

func decodeStream(b []byte) (savedStream, error) {
	st := savedStream{wire: -1}
	var haveName, haveBoot bool
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return st, malformed(err)
		}
		var n uint64
		if t != tlv.TypeName {
			switch t {
			case typeBootstrapTime, typeKnown, typeLatest, typeSnapKnown, typeWireIndex:
				if n, err = tlv.ReadNat(v); err != nil {
					return st, malformed(err)
				}
			}
		}
		switch t {
		case tlv.TypeName:
			if st.node, err = tlv.DecodeName(v); err != nil {
				return st, malformed(err)
			}
			haveName = true
		case typeBootstrapTime:
			st.boot, haveBoot = n, true
		case typeKnown:
			st.known = n
		case typeLatest:
			st.latest = n
		case typeSnapKnown:
			st.snapKnown = n
		case typeWireIndex:
			if n < 1<<20 {
				st.wire = int(n)
			}
		}
	}
	if !haveName || !haveBoot {
		return st, fmt.Errorf("%w: stream without name or bootstrap time", errMalformed)
	}
	st.latest = max(st.latest, st.known)
	return st, nil
}
