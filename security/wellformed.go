package security

import (
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
)

// WellFormed reports whether b is a sequence of whole TLVs whose structured
// elements (packets, names, signature info, ...) hold whole TLVs in turn,
// and whose HopLimit, if any, is one byte. It reads b without allocating.
//
// ndnd v1.5.3's packet parsers trust lengths they have not checked: a nested
// length larger than the packet overflows ReadBuf
// (std/encoding/wire_view.go:193), a zero-length HopLimit indexes an empty
// buffer (std/ndn/spec_2022/zz_generated.go:2186), and a Name that claims
// 800 MB inside a 9-byte packet (05 07 07 fe 31 30 30 30 30) makes the
// parser allocate about 12 GiB. Check untrusted bytes with WellFormed
// before handing them to ndnd's parser.
func WellFormed(b []byte) bool { return structureOK(b, 0) }

// ReadData is ndnd's ReadData for untrusted bytes: the TLV structure is
// checked first (WellFormed) and a panic in ndnd's parser becomes an error,
// so hostile input cannot crash or balloon the caller. It returns the Data
// and the part its signature covers.
func ReadData(b []byte) (d ndn.Data, covered enc.Wire, err error) {
	if !WellFormed(b) {
		return nil, nil, fmt.Errorf("malformed TLV structure")
	}
	defer func() {
		if r := recover(); r != nil {
			d, covered, err = nil, nil, fmt.Errorf("ndnd ReadData panicked: %v", r)
		}
	}()
	return spec.Spec{}.ReadData(enc.NewBufferView(b))
}

// containers are the TLV types whose value is itself a sequence of TLVs in
// the packets the engine parses (NDN packet format v0.3, NDNLPv2).
var containers = map[uint64]bool{
	0x05: true, 0x06: true, 0x64: true, 0x50: true, // Interest, Data, LpPacket, Fragment
	0x07: true, 0x1e: true, 0x1c: true, // Name, ForwardingHint, KeyLocator
	0x2c: true, 0x16: true, 0x14: true, 0xfd: true, // InterestSignatureInfo, SignatureInfo, MetaInfo, ValidityPeriod
	0x0320: true, // Nack
}

// structureOK checks that b is a sequence of whole TLVs, that each container
// holds whole TLVs recursively, and that a HopLimit is one byte.
func structureOK(b []byte, depth int) bool {
	if depth > 8 {
		return false
	}
	for len(b) > 0 {
		t, v, n, ok := tlv(b)
		if !ok {
			return false
		}
		if t == 0x22 && len(v) != 1 { // HopLimit
			return false
		}
		if containers[t] && !structureOK(v, depth+1) {
			return false
		}
		b = b[n:]
	}
	return true
}

// tlv splits the first TLV of b: its type, value, and total length n; ok is
// false if b is shorter than the TLV claims.
func tlv(b []byte) (typ uint64, val []byte, n int, ok bool) {
	t, n1 := varNum(b)
	if n1 == 0 {
		return 0, nil, 0, false
	}
	l, n2 := varNum(b[n1:])
	if n2 == 0 || l > uint64(len(b)-n1-n2) {
		return 0, nil, 0, false
	}
	n = n1 + n2 + int(l)
	return t, b[n1+n2 : n], n, true
}

// varNum reads an NDN TLV var-number; n is 0 if b is too short.
func varNum(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch x := b[0]; {
	case x < 253:
		return uint64(x), 1
	case x == 253 && len(b) >= 3:
		return uint64(b[1])<<8 | uint64(b[2]), 3
	case x == 254 && len(b) >= 5:
		return uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4]), 5
	case x == 255 && len(b) >= 9:
		for _, c := range b[1:9] {
			v = v<<8 | uint64(c)
		}
		return v, 9
	}
	return 0, 0
}
