package ndndrepo

import (
	"bytes"
	"fmt"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"

	tlvx "github.com/ndn-invoke/ndn-invoke/internal/tlv"
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
// command element that is broken: a length past its parent, TLV-TYPE 0, a
// NonNegativeInteger of other than 1, 2, 4 or 8 bytes (packet format v0.3;
// ndnd's generated parser would read any length), a name component of 253
// bytes or more (ndnd v1.5.3 re-encodes those with a wrong TLV-LENGTH), or
// an unknown critical field. Unknown non-critical elements are skipped, as
// ndnd does. Var-numbers may use any of the packet format's forms, as for
// ndnd. Parsing does not check what the command asks (protocol, group,
// threshold): the Server and PublicationHook do.
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
		for r := tlvx.NewReader(content); r.More(); {
			t, v, err := r.Next() // no error: checkCommand read it all
			if err != nil {
				return err
			}
			if t == TypeSyncLeave {
				if cmd.SyncLeave, err = tlv.ParseSyncJoin(enc.NewBufferView(v), false); err != nil {
					return err
				}
			}
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
		out = tlvx.AppendTLV(out, TypeSyncLeave, c.SyncLeave.Encode().Join())
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
		if t == typeStatus {
			return checkNat("status", v)
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
//
// security.WellFormed does not fit here: it knows the containers of
// packets (Interest, Data, Name, ...), not those of RepoCmd, so it would
// not look inside SyncJoin or BlobFetch. The Data packets a BlobFetch
// carries are checked with security.ReadData when used (readData).
func checkCommand(b []byte) (known bool, err error) {
	for r := tlvx.NewReader(b); r.More(); {
		t, v, err := r.Next()
		if err != nil {
			if known {
				return true, fmt.Errorf("%w: %w", ErrMalformed, err)
			}
			return false, fmt.Errorf("%w: not a sequence of TLVs: %w", ErrNotCommand, err)
		}
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
				if t == typeThreshold {
					return checkNat("threshold", v)
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

// checkNameContainer checks the Names in v: whole components of a valid
// type (1..65535), none of 253 bytes or more (ndnd v1.5.3 encodes those
// wrongly).
func checkNameContainer(v []byte) error {
	return checkSeq(v, func(t uint64, v []byte) error {
		if t == tlvx.TypeName {
			return tlvx.CheckName(v, tlvx.NdndMaxComponentLen)
		}
		return nil
	})
}

// checkNat checks that v is a NonNegativeInteger (1, 2, 4 or 8 bytes)
// before ndnd's parser reads it (it reads any length, and more than 8
// bytes overflows).
func checkNat(what string, v []byte) error {
	if _, err := tlvx.ReadNat(v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// checkSeq checks that v is a sequence of whole TLVs and calls each on
// every element.
func checkSeq(v []byte, each func(t uint64, v []byte) error) error {
	for r := tlvx.NewReader(v); r.More(); {
		t, val, err := r.Next()
		if err != nil {
			return err
		}
		if err := each(t, val); err != nil {
			return err
		}
	}
	return nil
}
