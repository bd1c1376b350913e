package pyrepo

import (
	"fmt"
	"strconv"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// TLV-TYPE numbers of the protocol (encoding.rst and pub_sub.rst).
const (
	TypeStartBlockID       = 0xCC  // StartBlockId, NonNegativeInteger
	TypeEndBlockID         = 0xCD  // EndBlockId, NonNegativeInteger
	TypeRequestNo          = 0xCE  // RequestNo, 1*OCTET
	TypeStatusCode         = 0xD0  // StatusCode, NonNegativeInteger
	TypeInsertNum          = 0xD1  // InsertNum, NonNegativeInteger
	TypeDeleteNum          = 0xD2  // DeleteNum, NonNegativeInteger
	TypeForwardingHint     = 0xD3  // ForwardingHint (Names) and PublisherFwdHint (one Name)
	TypeRegisterPrefix     = 0xD4  // RegisterPrefix, one Name
	TypeObjectParam        = 0x12D // ObjParam inside RepoCommandParam
	TypeObjectResult       = 0x12E // ObjStatus inside RepoCommandRes
	TypeSyncParam          = 0x191 // SyncParam inside RepoCommandParam
	TypeSyncResult         = 0x192 // SyncStatus inside RepoCommandRes
	TypeSyncDataNameDedupe = 0x193 // DataNameDedupe flag, empty value
	TypeSyncReset          = 0x194 // Reset flag, empty value
	TypeSyncPrefix         = 0x195 // SyncPrefix, one Name
	TypeNotifyNonce        = 0x80  // NotifyNonce in NotifyAppParam
)

// Status is a RepoCommandRes or ObjStatus status code. The values are
// ndn-python-repo's RepoStatCode; they travel on the wire.
type Status uint64

// Status codes (encoding.rst, "Status Code Definition").
const (
	// StatusRoger: the command was received; the operation on this object
	// has not started yet.
	StatusRoger Status = 100
	// StatusCompleted: the command, or the operation on this object,
	// completed.
	StatusCompleted Status = 200
	// StatusInProgress: the command is being executed.
	StatusInProgress Status = 300
	// StatusFailed: the command or part of it failed. This repo also
	// answers it, with no object results, for a command its caller may not
	// run (the spec: "=0 [results] means the command is malformed or not
	// allowed").
	StatusFailed Status = 400
	// StatusMalformed: the command or an object's parameters are malformed.
	StatusMalformed Status = 403
	// StatusNotFound: no command with this request number is known (never
	// received, not yet fetched, forgotten 60 s after it finished, or not
	// visible to the caller).
	StatusNotFound Status = 404
)

// String returns the spec's name of s (ROGER, COMPLETED, ...) or its number.
func (s Status) String() string {
	switch s {
	case StatusRoger:
		return "ROGER"
	case StatusCompleted:
		return "COMPLETED"
	case StatusInProgress:
		return "IN-PROGRESS"
	case StatusFailed:
		return "FAILED"
	case StatusMalformed:
		return "MALFORMED"
	case StatusNotFound:
		return "NOT-FOUND"
	}
	return strconv.FormatUint(uint64(s), 10)
}

// Final reports whether s ends a command: COMPLETED or any code of 400 and
// above.
func (s Status) Final() bool { return s == StatusCompleted || s >= 400 }

// ObjectParam is one object of an insert or delete command (the spec's
// ObjParam). Nil pointer and slice fields are absent on the wire.
type ObjectParam struct {
	// Name is a Data name, or the prefix of segmented Data (required).
	Name enc.Name
	// ForwardingHint is where the repo sends its fetch Interests when the
	// producer is reachable only through it (python-ndn Links: any number
	// of names; NDNts sends one).
	ForwardingHint []enc.Name
	// StartBlockID and EndBlockID select segments Name/seg=N, inclusive.
	// Both absent: the single packet Name. Only EndBlockID: start at 0.
	// Only StartBlockID: until the first segment that cannot be fetched.
	StartBlockID, EndBlockID *uint64
	// RegisterPrefix is a prefix the repo should register (insert) or may
	// withdraw (delete) to serve the object.
	RegisterPrefix enc.Name
}

// SyncParam is one sync group of a sync join or leave command.
type SyncParam struct {
	// SyncPrefix is the SVS group prefix (required).
	SyncPrefix enc.Name
	// RegisterPrefix is a prefix for the repo to register; it must differ
	// from SyncPrefix.
	RegisterPrefix enc.Name
	// DataNameDedupe asks the repo to deduplicate data names in the group.
	DataNameDedupe bool
	// Reset asks the repo to rebuild its state vectors from storage.
	Reset bool
}

// CommandParam is the payload of a command message (RepoCommandParam):
// objects for insert and delete, sync groups for sync join and leave.
type CommandParam struct {
	Objects    []ObjectParam
	SyncGroups []SyncParam
}

// ObjectStatus reports one object of a command (the spec's ObjStatus).
type ObjectStatus struct {
	Name   enc.Name
	Status Status
	// InsertNum counts packets stored so far (insert); DeleteNum packets
	// deleted (delete). Nil means absent.
	InsertNum, DeleteNum *uint64
}

// SyncStatus reports one sync group of a command.
type SyncStatus struct {
	Name   enc.Name
	Status Status
}

// CommandRes is the content of a check reply (RepoCommandRes).
type CommandRes struct {
	Status     Status
	Objects    []ObjectStatus
	SyncGroups []SyncStatus
}

// StatQuery is the ApplicationParameters of a check Interest
// (RepoStatQuery). RequestNo is the SHA-256 of the command message's
// content.
type StatQuery struct {
	RequestNo []byte
}

// NotifyAppParam is the ApplicationParameters of a PubSub notify Interest.
type NotifyAppParam struct {
	// Publisher is the publisher's prefix; the message is at
	// <Publisher>/msg/<topic>/<Nonce>.
	Publisher enc.Name
	// Nonce is random bytes naming the message (python-ndn: 4 bytes,
	// NDNts: 8 bytes).
	Nonce []byte
	// PublisherFwdHint, if set, is the forwarding hint to reach Publisher.
	PublisherFwdHint enc.Name
}

// Encode returns p's wire encoding (the fields without an outer TLV).
func (p *ObjectParam) Encode() []byte {
	b := tlv.AppendName(nil, p.Name)
	if p.ForwardingHint != nil {
		var hv []byte
		for _, n := range p.ForwardingHint {
			hv = tlv.AppendName(hv, n)
		}
		b = tlv.AppendTLV(b, TypeForwardingHint, hv)
	}
	if p.StartBlockID != nil {
		b = tlv.AppendNat(b, TypeStartBlockID, *p.StartBlockID)
	}
	if p.EndBlockID != nil {
		b = tlv.AppendNat(b, TypeEndBlockID, *p.EndBlockID)
	}
	if p.RegisterPrefix != nil {
		b = appendNested(b, TypeRegisterPrefix, p.RegisterPrefix)
	}
	return b
}

func decodeObjectParam(b []byte) (ObjectParam, error) {
	var p ObjectParam
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return p, malformed(err)
		}
		switch t {
		case tlv.TypeName:
			if p.Name != nil {
				return p, dupErr("ObjParam Name")
			}
			if p.Name, err = decodeName(v, "ObjParam Name"); err != nil {
				return p, err
			}
		case TypeForwardingHint:
			if p.ForwardingHint != nil {
				return p, dupErr("ForwardingHint")
			}
			if p.ForwardingHint, err = decodeNames(v, "ForwardingHint"); err != nil {
				return p, err
			}
		case TypeStartBlockID:
			if p.StartBlockID != nil {
				return p, dupErr("StartBlockId")
			}
			n, err := decodeNat(v, "StartBlockId")
			if err != nil {
				return p, err
			}
			p.StartBlockID = &n
		case TypeEndBlockID:
			if p.EndBlockID != nil {
				return p, dupErr("EndBlockId")
			}
			n, err := decodeNat(v, "EndBlockId")
			if err != nil {
				return p, err
			}
			p.EndBlockID = &n
		case TypeRegisterPrefix:
			if p.RegisterPrefix != nil {
				return p, dupErr("RegisterPrefix")
			}
			if p.RegisterPrefix, err = decodeNested(v, "RegisterPrefix"); err != nil {
				return p, err
			}
		default:
			return p, unknownErr("ObjParam", t)
		}
	}
	if p.Name == nil {
		return p, fmt.Errorf("%w: ObjParam without Name", ErrMalformed)
	}
	return p, nil
}

// Encode returns p's wire encoding (the fields without an outer TLV).
func (p *SyncParam) Encode() []byte {
	b := appendNested(nil, TypeSyncPrefix, p.SyncPrefix)
	if p.RegisterPrefix != nil {
		b = appendNested(b, TypeRegisterPrefix, p.RegisterPrefix)
	}
	if p.DataNameDedupe {
		b = tlv.AppendTLV(b, TypeSyncDataNameDedupe, nil)
	}
	if p.Reset {
		b = tlv.AppendTLV(b, TypeSyncReset, nil)
	}
	return b
}

func decodeSyncParam(b []byte) (SyncParam, error) {
	var p SyncParam
	var dedupe, reset bool
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return p, malformed(err)
		}
		switch t {
		case TypeSyncPrefix:
			if p.SyncPrefix != nil {
				return p, dupErr("SyncPrefix")
			}
			if p.SyncPrefix, err = decodeNested(v, "SyncPrefix"); err != nil {
				return p, err
			}
		case TypeRegisterPrefix:
			if p.RegisterPrefix != nil {
				return p, dupErr("RegisterPrefix")
			}
			if p.RegisterPrefix, err = decodeNested(v, "RegisterPrefix"); err != nil {
				return p, err
			}
		case TypeSyncDataNameDedupe, TypeSyncReset:
			if len(v) != 0 {
				return p, fmt.Errorf("%w: flag %#x has a %d-byte value, want none", ErrMalformed, t, len(v))
			}
			flag := &dedupe
			if t == TypeSyncReset {
				flag = &reset
			}
			if *flag {
				return p, dupErr(fmt.Sprintf("flag %#x", t))
			}
			*flag = true
		default:
			return p, unknownErr("SyncParam", t)
		}
	}
	if p.SyncPrefix == nil {
		return p, fmt.Errorf("%w: SyncParam without SyncPrefix", ErrMalformed)
	}
	p.DataNameDedupe, p.Reset = dedupe, reset
	return p, nil
}

// Encode returns p's wire encoding: the message content of a command.
func (p *CommandParam) Encode() []byte {
	var b []byte
	for i := range p.Objects {
		b = tlv.AppendTLV(b, TypeObjectParam, p.Objects[i].Encode())
	}
	for i := range p.SyncGroups {
		b = tlv.AppendTLV(b, TypeSyncParam, p.SyncGroups[i].Encode())
	}
	return b
}

// DecodeCommandParam decodes a command message's content. Errors match
// ErrMalformed. It does not retain b.
func DecodeCommandParam(b []byte) (*CommandParam, error) {
	p := &CommandParam{}
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, malformed(err)
		}
		switch t {
		case TypeObjectParam:
			o, err := decodeObjectParam(v)
			if err != nil {
				return nil, fmt.Errorf("ObjParam %d: %w", len(p.Objects), err)
			}
			p.Objects = append(p.Objects, o)
		case TypeSyncParam:
			s, err := decodeSyncParam(v)
			if err != nil {
				return nil, fmt.Errorf("SyncParam %d: %w", len(p.SyncGroups), err)
			}
			p.SyncGroups = append(p.SyncGroups, s)
		default:
			return nil, unknownErr("RepoCommandParam", t)
		}
	}
	return p, nil
}

// Encode returns s's wire encoding (the fields without an outer TLV).
func (s *ObjectStatus) Encode() []byte {
	b := tlv.AppendName(nil, s.Name)
	b = tlv.AppendNat(b, TypeStatusCode, uint64(s.Status))
	if s.InsertNum != nil {
		b = tlv.AppendNat(b, TypeInsertNum, *s.InsertNum)
	}
	if s.DeleteNum != nil {
		b = tlv.AppendNat(b, TypeDeleteNum, *s.DeleteNum)
	}
	return b
}

func decodeObjectStatus(b []byte) (ObjectStatus, error) {
	return decodeStatus(b, "ObjStatus", true)
}

// decodeStatus decodes an ObjStatus (withNums: InsertNum and DeleteNum
// allowed) or a SyncStatus (Name and StatusCode only), both required.
func decodeStatus(b []byte, what string, withNums bool) (ObjectStatus, error) {
	var s ObjectStatus
	hasStatus := false
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return s, malformed(err)
		}
		switch {
		case t == tlv.TypeName:
			if s.Name != nil {
				return s, dupErr(what + " Name")
			}
			if s.Name, err = decodeName(v, what+" Name"); err != nil {
				return s, err
			}
		case t == TypeStatusCode:
			if hasStatus {
				return s, dupErr("StatusCode")
			}
			n, err := decodeNat(v, "StatusCode")
			if err != nil {
				return s, err
			}
			s.Status, hasStatus = Status(n), true
		case withNums && (t == TypeInsertNum || t == TypeDeleteNum):
			field := &s.InsertNum
			if t == TypeDeleteNum {
				field = &s.DeleteNum
			}
			if *field != nil {
				return s, dupErr(fmt.Sprintf("TLV-TYPE %#x", t))
			}
			n, err := decodeNat(v, "InsertNum/DeleteNum")
			if err != nil {
				return s, err
			}
			*field = &n
		default:
			return s, unknownErr(what, t)
		}
	}
	if s.Name == nil || !hasStatus {
		return s, fmt.Errorf("%w: %s needs Name and StatusCode", ErrMalformed, what)
	}
	return s, nil
}

// Encode returns s's wire encoding (the fields without an outer TLV).
func (s *SyncStatus) Encode() []byte {
	return tlv.AppendNat(tlv.AppendName(nil, s.Name), TypeStatusCode, uint64(s.Status))
}

func decodeSyncStatus(b []byte) (SyncStatus, error) {
	s, err := decodeStatus(b, "SyncStatus", false)
	return SyncStatus{Name: s.Name, Status: s.Status}, err
}

// Encode returns r's wire encoding: the content of a check reply.
func (r *CommandRes) Encode() []byte {
	b := tlv.AppendNat(nil, TypeStatusCode, uint64(r.Status))
	for i := range r.Objects {
		b = tlv.AppendTLV(b, TypeObjectResult, r.Objects[i].Encode())
	}
	for i := range r.SyncGroups {
		b = tlv.AppendTLV(b, TypeSyncResult, r.SyncGroups[i].Encode())
	}
	return b
}

// DecodeCommandRes decodes a check reply's content. Errors match
// ErrMalformed. It does not retain b.
func DecodeCommandRes(b []byte) (*CommandRes, error) {
	res := &CommandRes{}
	hasStatus := false
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, malformed(err)
		}
		switch t {
		case TypeStatusCode:
			if hasStatus {
				return nil, dupErr("StatusCode")
			}
			n, err := decodeNat(v, "StatusCode")
			if err != nil {
				return nil, err
			}
			res.Status, hasStatus = Status(n), true
		case TypeObjectResult:
			o, err := decodeObjectStatus(v)
			if err != nil {
				return nil, fmt.Errorf("ObjStatus %d: %w", len(res.Objects), err)
			}
			res.Objects = append(res.Objects, o)
		case TypeSyncResult:
			s, err := decodeSyncStatus(v)
			if err != nil {
				return nil, fmt.Errorf("SyncStatus %d: %w", len(res.SyncGroups), err)
			}
			res.SyncGroups = append(res.SyncGroups, s)
		default:
			return nil, unknownErr("RepoCommandRes", t)
		}
	}
	if !hasStatus {
		return nil, fmt.Errorf("%w: RepoCommandRes without StatusCode", ErrMalformed)
	}
	return res, nil
}

// Encode returns q's wire encoding: a check Interest's ApplicationParameters.
func (q *StatQuery) Encode() []byte { return tlv.AppendTLV(nil, TypeRequestNo, q.RequestNo) }

// DecodeStatQuery decodes a check Interest's ApplicationParameters. Errors
// match ErrMalformed. It does not retain b.
func DecodeStatQuery(b []byte) (*StatQuery, error) {
	q := &StatQuery{}
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, malformed(err)
		}
		if t != TypeRequestNo {
			return nil, unknownErr("RepoStatQuery", t)
		}
		if q.RequestNo != nil {
			return nil, dupErr("RequestNo")
		}
		if len(v) == 0 {
			return nil, fmt.Errorf("%w: empty RequestNo", ErrMalformed)
		}
		q.RequestNo = append([]byte{}, v...)
	}
	if q.RequestNo == nil {
		return nil, fmt.Errorf("%w: RepoStatQuery without RequestNo", ErrMalformed)
	}
	return q, nil
}

// Encode returns p's wire encoding: a notify Interest's
// ApplicationParameters.
func (p *NotifyAppParam) Encode() []byte {
	b := tlv.AppendName(nil, p.Publisher)
	b = tlv.AppendTLV(b, TypeNotifyNonce, p.Nonce)
	if p.PublisherFwdHint != nil {
		b = appendNested(b, TypeForwardingHint, p.PublisherFwdHint)
	}
	return b
}

// DecodeNotifyAppParam decodes a notify Interest's ApplicationParameters.
// Publisher and Nonce are required. Errors match ErrMalformed. It does not
// retain b.
func DecodeNotifyAppParam(b []byte) (*NotifyAppParam, error) {
	p := &NotifyAppParam{}
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, malformed(err)
		}
		switch t {
		case tlv.TypeName:
			if p.Publisher != nil {
				return nil, dupErr("publisher Name")
			}
			if p.Publisher, err = decodeName(v, "publisher"); err != nil {
				return nil, err
			}
		case TypeNotifyNonce:
			if p.Nonce != nil {
				return nil, dupErr("NotifyNonce")
			}
			p.Nonce = append([]byte{}, v...)
		case TypeForwardingHint:
			if p.PublisherFwdHint != nil {
				return nil, dupErr("PublisherFwdHint")
			}
			if p.PublisherFwdHint, err = decodeNested(v, "PublisherFwdHint"); err != nil {
				return nil, err
			}
		default:
			return nil, unknownErr("NotifyAppParam", t)
		}
	}
	if p.Publisher == nil || p.Nonce == nil {
		return nil, fmt.Errorf("%w: NotifyAppParam needs a publisher Name and a NotifyNonce", ErrMalformed)
	}
	return p, nil
}
