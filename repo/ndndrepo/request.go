package ndndrepo

import (
	"crypto/sha256"
	"fmt"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	tlvx "github.com/ndn-invoke/ndn-invoke/internal/tlv"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// maxParamsLen bounds the ApplicationParameters of a command Interest. An
// Interest travels in one NDN packet (8800 bytes on most faces); 64 KiB
// leaves room for any link while bounding the work on hostile input.
const maxParamsLen = 64 << 10

// Verbs: what a command asks, as passed to Backend.Authorize ("insert",
// "join", "leave") and Backend.Count ("blobfetch" for both BlobFetch forms,
// "unknown" for a command that could not be decoded).
const (
	verbJoin      = "join"
	verbLeave     = "leave"
	verbInsert    = "insert"
	verbBlobFetch = "blobfetch"
	verbUnknown   = "unknown"
)

// request is a decoded command Interest: the command Data from its
// ApplicationParameters and what it asks, checked for everything that
// needs no key and no I/O.
type request struct {
	data    ndn.Data
	raw     []byte   // the command Data's wire
	covered enc.Wire // its signed portion
	digest  [32]byte // SHA-256 of raw: the dedup key
	op      op
}

// op is one checked command.
type op struct {
	verb    string         // verbJoin, verbLeave or verbBlobFetch
	group   repo.GroupSpec // join
	leave   enc.Name       // leave: the group
	name    enc.Name       // blobfetch by name: the object
	packets []blobPacket   // blobfetch by value
}

// blobPacket is one Data packet carried by a BlobFetch.
type blobPacket struct {
	wire []byte
	name enc.Name
}

// decodeRequest decodes the ApplicationParameters of a command Interest
// as ndnd's ExpressCommand (std/object/client_cmd.go) makes them: exactly
// one Data packet whose content is a RepoCmd. It does no I/O and verifies
// no signature. The status is StatusOK or StatusBadRequest, with a message
// for the reply. req is nil when there is no command Data at all;
// otherwise req.op.verb says what the command asked, as far as it could
// tell (empty if not even that).
func decodeRequest(params []byte, maxPackets int) (req *request, status uint64, msg string) {
	data, covered, err := readCommandData(params)
	if err != nil {
		return nil, StatusBadRequest, err.Error()
	}
	req = &request{data: data, raw: params, covered: covered, digest: sha256.Sum256(params)}
	cmd, err := ParseCommand(data.Content().Join())
	if err != nil {
		return req, StatusBadRequest, err.Error()
	}
	req.op, err = checkOp(cmd, maxPackets)
	if err != nil {
		return req, StatusBadRequest, err.Error()
	}
	return req, StatusOK, ""
}

// readCommandData parses b as one whole Data packet, safely (structure
// checked with security.WellFormed first, panics recovered), and insists
// it carries a signature: ndnd's ExpressCommand always signs it. Errors
// wrap ErrMalformed.
func readCommandData(b []byte) (d ndn.Data, covered enc.Wire, err error) {
	switch {
	case len(b) == 0:
		return nil, nil, fmt.Errorf("%w: no ApplicationParameters (a signed command Data is required)", ErrMalformed)
	case len(b) > maxParamsLen:
		return nil, nil, fmt.Errorf("%w: ApplicationParameters of %d bytes", ErrMalformed, len(b))
	}
	d, covered, err = readData(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: ApplicationParameters is not a command Data: %w", ErrMalformed, err)
	}
	if d.Signature() == nil || d.Signature().SigType() == ndn.SignatureNone || len(d.Signature().SigValue()) == 0 {
		return nil, nil, fmt.Errorf("%w: command Data is not signed", ErrMalformed)
	}
	return d, covered, nil
}

// readData parses b as exactly one Data packet (type 6, no trailing bytes)
// whose name ndnd encodes correctly. The packet goes through
// security.ReadData: structure checked first, parser panics recovered.
func readData(b []byte) (d ndn.Data, covered enc.Wire, err error) {
	t, _, err := tlvx.Single(b)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("not one whole TLV: %w", err)
	case t != typeData:
		return nil, nil, fmt.Errorf("TLV type %d, not Data", t)
	}
	if d, covered, err = security.ReadData(b); err != nil {
		return nil, nil, err
	}
	if len(d.Name()) == 0 {
		return nil, nil, fmt.Errorf("command Data has an empty name")
	}
	if !tlvx.NdndEncodable(d.Name()) {
		return nil, nil, fmt.Errorf("command Data name has a component of 253 bytes or more")
	}
	return d, covered, nil
}

// checkOp checks what cmd asks: exactly one command, SVS v3 for sync
// commands, a group, a history snapshot threshold of at least 10 (ndnd's
// repo refuses less: repo/repo_svs.go Start), and a BlobFetch that names an
// object or carries 1..maxPackets well-formed Data packets.
func checkOp(cmd *Command, maxPackets int) (op, error) {
	n := 0
	for _, set := range []bool{cmd.SyncJoin != nil, cmd.BlobFetch != nil, cmd.SyncLeave != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return op{}, fmt.Errorf("%w: a command holds exactly one of SyncJoin, BlobFetch, SyncLeave (got %d)", ErrMalformed, n)
	}
	switch {
	case cmd.SyncJoin != nil:
		sj := cmd.SyncJoin
		if err := checkSync(sj, true); err != nil {
			return op{verb: verbJoin}, err
		}
		g := repo.GroupSpec{Group: sj.Group.Name}
		if sj.MulticastPrefix != nil && len(sj.MulticastPrefix.Name) > 0 {
			g.MulticastPrefix = sj.MulticastPrefix.Name
		}
		if sj.HistorySnapshot != nil {
			if t := sj.HistorySnapshot.Threshold; t < 10 {
				return op{verb: verbJoin}, fmt.Errorf("%w: history snapshot threshold %d, less than 10", ErrMalformed, t)
			}
			g.HistorySnapshot = sj.HistorySnapshot.Threshold
		}
		return op{verb: verbJoin, group: g}, nil
	case cmd.SyncLeave != nil:
		if err := checkSync(cmd.SyncLeave, false); err != nil {
			return op{verb: verbLeave}, err
		}
		return op{verb: verbLeave, leave: cmd.SyncLeave.Group.Name}, nil
	}
	bf := cmd.BlobFetch
	if bf.Name != nil && len(bf.Name.Name) > 0 {
		// ndnd's repo prefers Name when both are set (repo_svs.go
		// processIncomingPub); so do we.
		return op{verb: verbBlobFetch, name: bf.Name.Name}, nil
	}
	switch {
	case len(bf.Data) == 0:
		return op{verb: verbBlobFetch}, fmt.Errorf("%w: BlobFetch has neither Name nor Data", ErrMalformed)
	case len(bf.Data) > maxPackets:
		return op{verb: verbBlobFetch}, fmt.Errorf("%w: BlobFetch carries %d Data packets, more than %d", ErrMalformed, len(bf.Data), maxPackets)
	}
	o := op{verb: verbBlobFetch, packets: make([]blobPacket, 0, len(bf.Data))}
	for i, w := range bf.Data {
		p, err := readBlobPacket(w)
		if err != nil {
			return op{verb: verbBlobFetch}, fmt.Errorf("BlobFetch Data %d: %w", i, err)
		}
		o.packets = append(o.packets, p)
	}
	return o, nil
}

// readBlobPacket parses one BlobFetch.Data element. Errors wrap
// ErrMalformed.
func readBlobPacket(w []byte) (blobPacket, error) {
	d, _, err := readData(w)
	if err != nil {
		return blobPacket{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return blobPacket{wire: w, name: d.Name().Clone()}, nil
}

// checkSync checks a SyncJoin (or SyncLeave) body: protocol SVS v3 and a
// non-empty group. A SyncLeave may omit the protocol.
func checkSync(sj *tlv.SyncJoin, needProtocol bool) error {
	switch {
	case sj.Protocol == nil && needProtocol:
		return fmt.Errorf("%w: no sync protocol; want %s", ErrMalformed, tlv.SyncProtocolSvsV3)
	case sj.Protocol != nil && !sj.Protocol.Name.Equal(tlv.SyncProtocolSvsV3):
		return fmt.Errorf("%w: unsupported sync protocol %s; want %s", ErrMalformed, sj.Protocol.Name, tlv.SyncProtocolSvsV3)
	case sj.Group == nil || len(sj.Group.Name) == 0:
		return fmt.Errorf("%w: no group", ErrMalformed)
	}
	return nil
}

// objectPrefix is the name a stored packet is served under by default: its
// name without a trailing segment and version (InsertSpec.Register's rule).
func objectPrefix(n enc.Name) enc.Name {
	if len(n) > 1 && n[len(n)-1].IsSegment() {
		n = n[:len(n)-1]
	}
	if len(n) > 1 && n[len(n)-1].IsVersion() {
		n = n[:len(n)-1]
	}
	return n.Clone()
}
