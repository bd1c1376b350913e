package ndndrepo

import (
	"bytes"
	"fmt"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
)

// TLV types of ndnd's repo protocol (repo/tlv/definitions.go), which the
// structure check below must know to look inside them.
const (
	typeSyncJoin        = 0x1DB0
	typeBlobFetch       = 0x1DB2
	typeProtocol        = 0x191
	typeGroup           = 0x193
	typeMulticastPrefix = 0x194
	typeHistorySnapshot = 0x1A4
	typeThreshold       = 0x1A5
	typeBlobName        = 0x1B8
	typeBlobData        = 0x1BA
	typeStatus          = 0x291
	typeMessage         = 0x292
	typeName            = 0x07
	typeData            = 0x06
)

// TypeSyncLeave is the TLV type of SyncLeave, our extension to ndnd's
// RepoCmd: ndnd v1.5.3 has no way to make its repo leave a group. Its
// value has SyncJoin's shape (Protocol, optional; Group, required). The
// number sits in ndnd's repo command block (0x1DB0 SyncJoin, 0x1DB2
// BlobFetch), far enough above them that ndnd's next additions are
// unlikely to take it, and it is even, so ndnd's own repo, which parses
// RepoCmd with ignoreCritical=false, skips it as a non-critical unknown
// element instead of failing.
const TypeSyncLeave = 0x1DBE

// MaxContentLen bounds the RepoCmd content ParseCommand accepts (4 MiB):
// far above what an Interest or a group publication carries, it keeps one
// hostile input from costing more than a few times its own size.
const MaxContentLen = 4 << 20

// Command is one repo command: the parsed content of a command Data or of
// a group publication. ndnd's RepoCmd carries SyncJoin or BlobFetch;
// SyncLeave is our extension (TypeSyncLeave). The fields are ndnd's
// generated types; a parsed Command owns its memory (nothing aliases the
// input).
type Command struct {
	// SyncJoin asks the repo to join an SVS group and store what its
	// members publish.
	SyncJoin *tlv.SyncJoin
	// BlobFetch asks the repo to fetch and store the object BlobFetch.Name
	// or, when Name is absent, to store the Data packets BlobFetch.Data.
	BlobFetch *tlv.BlobFetch
	// SyncLeave asks the repo to leave a group it joined (our extension).
	SyncLeave *tlv.SyncJoin
}

// ParseCommand decodes RepoCmd content, safely: the TLV structure of
// every element it reads is checked against the input's length before
// ndnd's generated parser sees it (that parser trusts lengths and can
// panic or allocate gigabytes on a few hostile bytes), and a panic in it is
// turned into an error.
//
// It returns an error wrapping ErrNotCommand when content is not a RepoCmd
// at all (application data), and one wrapping ErrMalformed when it holds a
// command element that is broken: a length past its parent, a natural
// number longer than 8 bytes, a name component of 253 bytes or more (ndnd
// v1.5.3 re-encodes those with a wrong TLV-LENGTH), or an unknown critical
// field. Unknown non-critical elements are skipped, as ndnd does. Parsing
// does not check what the command asks (protocol, group, threshold): the
// Server and PublicationHook do.
func ParseCommand(content []byte) (*Command, error) {
	if len(content) > MaxContentLen {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(content), MaxContentLen)
	}
	known, err := checkCommand(content)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, fmt.Errorf("%w: no SyncJoin, BlobFetch or SyncLeave element", ErrNotCommand)
	}
	var cmd Command
	err = guard(func() error {
		rc, err := tlv.ParseRepoCmd(enc.NewBufferView(content), false)
		if err != nil {
			return err
		}
		cmd.SyncJoin, cmd.BlobFetch = rc.SyncJoin, rc.BlobFetch
		// ndnd's parser skips our SyncLeave (even type); read it here.
		// The last occurrence wins, as for ndnd's own fields.
		for b := content; len(b) > 0; {
			t, v, n, _ := readTLV(b)
			if t == TypeSyncLeave {
				if cmd.SyncLeave, err = tlv.ParseSyncJoin(enc.NewBufferView(v), false); err != nil {
					return err
				}
			}
			b = b[n:]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	cmd.detach()
	return &cmd, nil
}

// Encode returns the RepoCmd content of c, as ndnd's encoder writes it,
// followed by SyncLeave if set. A nil Command encodes to nothing.
func (c *Command) Encode() []byte {
	if c == nil {
		return nil
	}
	out := (&tlv.RepoCmd{SyncJoin: c.SyncJoin, BlobFetch: c.BlobFetch}).Encode().Join()
	if c.SyncLeave != nil {
		out = appendTLV(out, TypeSyncLeave, c.SyncLeave.Encode().Join())
	}
	return out
}

// EncodeSyncLeave returns the RepoCmd content of a SyncLeave for group
// (protocol SVS v3), to send with SendCommand or ndnd's ExpressCommand.
func EncodeSyncLeave(group enc.Name) []byte {
	return (&Command{SyncLeave: &tlv.SyncJoin{
		Protocol: &spec.NameContainer{Name: tlv.SyncProtocolSvsV3},
		Group:    &spec.NameContainer{Name: group},
	}}).Encode()
}

// ParseResponse decodes a RepoCmdRes (the content of the repo's reply to
// a command), safely in the same way as ParseCommand. Errors wrap
// ErrMalformed.
func ParseResponse(content []byte) (*tlv.RepoCmdRes, error) {
	if len(content) > MaxContentLen {
		return nil, fmt.Errorf("%w: response of %d bytes", ErrMalformed, len(content))
	}
	if err := checkSeq(content, func(t uint64, v []byte) error {
		if t == typeStatus && len(v) > 8 {
			return fmt.Errorf("status of %d bytes", len(v))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("%w: response: %w", ErrMalformed, err)
	}
	var res *tlv.RepoCmdRes
	err := guard(func() (err error) {
		res, err = tlv.ParseRepoCmdRes(enc.NewBufferView(content), false)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: response: %w", ErrMalformed, err)
	}
	return res, nil
}

// detach copies every name and byte slice out of the parsed input, so the
// Command does not alias the caller's buffer (ndnd's ReadName returns
// components pointing into it).
func (c *Command) detach() {
	cloneNC := func(nc *spec.NameContainer) {
		if nc != nil && nc.Name != nil {
			nc.Name = nc.Name.Clone()
		}
	}
	for _, sj := range []*tlv.SyncJoin{c.SyncJoin, c.SyncLeave} {
		if sj != nil {
			cloneNC(sj.Protocol)
			cloneNC(sj.Group)
			cloneNC(sj.MulticastPrefix)
		}
	}
	if c.BlobFetch != nil {
		cloneNC(c.BlobFetch.Name)
		for i, d := range c.BlobFetch.Data {
			c.BlobFetch.Data[i] = bytes.Clone(d)
		}
	}
}

// guard runs f and turns a panic in it (ndnd's generated parsers index
// without checking) into an error.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ndnd parser panicked: %v", r)
		}
	}()
	return f()
}

// checkCommand checks that b is a sequence of whole TLVs and that every
// element ndnd's parser (or ours, for SyncLeave) will descend into has
// the structure it expects. known reports whether a command element is
// there; a structure error before any is ErrNotCommand (application data),
// after or inside one ErrMalformed.
func checkCommand(b []byte) (known bool, err error) {
	for len(b) > 0 {
		t, v, n, ok := readTLV(b)
		if !ok {
			if known {
				return true, fmt.Errorf("%w: truncated TLV", ErrMalformed)
			}
			return false, fmt.Errorf("%w: not a sequence of TLVs", ErrNotCommand)
		}
		var err error
		switch t {
		case typeSyncJoin, TypeSyncLeave:
			known = true
			err = checkSyncJoin(v)
		case typeBlobFetch:
			known = true
			err = checkBlobFetch(v)
		}
		if err != nil {
			return true, fmt.Errorf("%w: element %#x: %w", ErrMalformed, t, err)
		}
		b = b[n:]
	}
	return known, nil
}

func checkSyncJoin(v []byte) error {
	return checkSeq(v, func(t uint64, v []byte) error {
		switch t {
		case typeProtocol, typeGroup, typeMulticastPrefix:
			return checkNameContainer(v)
		case typeHistorySnapshot:
			return checkSeq(v, func(t uint64, v []byte) error {
				if t == typeThreshold && len(v) > 8 {
					return fmt.Errorf("threshold of %d bytes", len(v))
				}
				return nil
			})
		}
		return nil
	})
}

func checkBlobFetch(v []byte) error {
	return checkSeq(v, func(t uint64, v []byte) error {
		if t == typeBlobName {
			return checkNameContainer(v)
		}
		return nil // Data: opaque bytes here, checked as a packet when used
	})
}

func checkNameContainer(v []byte) error {
	return checkSeq(v, func(t uint64, v []byte) error {
		if t == typeName {
			return checkName(v)
		}
		return nil
	})
}

// checkName checks a Name's value: whole components of a valid type
// (1..65535), each shorter than 253 bytes.
func checkName(v []byte) error {
	return checkSeq(v, func(t uint64, v []byte) error {
		if t == 0 || t > 0xFFFF {
			return fmt.Errorf("name component type %d", t)
		}
		if len(v) >= 253 {
			return fmt.Errorf("name component of %d bytes (ndnd v1.5.3 encodes >= 253 wrongly)", len(v))
		}
		return nil
	})
}

// checkSeq checks that v is a sequence of whole TLVs and calls each on
// every element.
func checkSeq(v []byte, each func(t uint64, v []byte) error) error {
	for len(v) > 0 {
		t, val, n, ok := readTLV(v)
		if !ok {
			return fmt.Errorf("truncated TLV")
		}
		if err := each(t, val); err != nil {
			return err
		}
		v = v[n:]
	}
	return nil
}

// readTLV splits the first TLV of b: type, value and total length n. ok is
// false if b is shorter than the TLV claims.
func readTLV(b []byte) (typ uint64, val []byte, n int, ok bool) {
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

// appendTLV appends a TLV of type t and value v to b.
func appendTLV(b []byte, t uint64, v []byte) []byte {
	b = appendVarNum(b, t)
	b = appendVarNum(b, uint64(len(v)))
	return append(b, v...)
}

func appendVarNum(b []byte, v uint64) []byte {
	switch {
	case v < 253:
		return append(b, byte(v))
	case v <= 0xFFFF:
		return append(b, 253, byte(v>>8), byte(v))
	case v <= 0xFFFFFFFF:
		return append(b, 254, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, 255, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// namesEncodable reports whether ndnd v1.5.3 encodes every component of
// the names correctly (it writes TLV-LENGTH as a NonNegativeInteger, wrong
// from 253 bytes on: std/encoding/component.go:114).
func namesEncodable(names ...enc.Name) bool {
	for _, n := range names {
		for _, c := range n {
			if len(c.Val) >= 253 {
				return false
			}
		}
	}
	return true
}
