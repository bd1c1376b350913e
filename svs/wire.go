package svs

import (
	"errors"
	"fmt"
	"unicode/utf8"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// Names (<member> is a member's identity name, <group> Config.Group):
//
//	Sync Interest   <group>/32=svs/v=3/<params-sha256>, ApplicationParameters = Sync Data (ndnd SvSync)
//	Sync Data       <member>/<group>/32=svs/v=<unix-µs>, content = SVS v3 StateVector
//	publication     <member>/<group>/t=<boot>/seq=<n>, content = Publication
//	answer          <member>/<group>/32=ans/<query-id>/<params-sha256>, signed Interest,
//	                ApplicationParameters = Answer; <member> is the querier
//
// Every helper returns a freshly allocated name: ndnd's Name.Append writes
// into spare capacity of its receiver, so appending to a shared name would
// corrupt it.

// join returns a new name: a, then b, then comps, with no spare capacity.
func join(a, b enc.Name, comps ...enc.Component) enc.Name { return svsync.Join(a, b, comps...) }

var (
	svsKeyword = enc.NewKeywordComponent("svs")
	ansKeyword = enc.NewKeywordComponent("ans")
)

// syncGroupPrefix is SvSync's GroupPrefix: <group>/32=svs (SvSync appends
// v=3, as ndnd's SvsALO does).
func syncGroupPrefix(group enc.Name) enc.Name { return svsync.GroupPrefix(group) }

// syncPrefix is where Sync Interests go: <group>/32=svs/v=3.
func syncPrefix(group enc.Name) enc.Name { return svsync.SyncPrefix(group) }

// syncDataName is SvSync's SyncDataName for member: <member>/<group>/32=svs.
func syncDataName(member, group enc.Name) enc.Name { return svsync.SyncDataName(member, group) }

// dataPrefix is where member serves its publications and takes answers.
func dataPrefix(member, group enc.Name) enc.Name { return join(member, group) }

// pubName names member's publication seq of incarnation boot.
func pubName(member, group enc.Name, boot, seq uint64) enc.Name {
	return join(member, group, enc.NewTimestampComponent(boot), enc.NewSequenceNumComponent(seq))
}

// answerName is where answers to query id go (before the digest the
// signed Interest adds).
func answerName(querier, group enc.Name, id queryID) enc.Name {
	return join(querier, group, ansKeyword, enc.NewGenericBytesComponent(id[:]))
}

// servedKind is what an Interest under a member's data prefix asks for.
type servedKind uint8

const (
	servedNone servedKind = iota
	servedPublication
	servedAnswer
)

// parseServed reads the part of an Interest name after the data prefix
// (which the caller has matched): t=<boot>/seq=<n> or 32=ans/<id>/<digest>.
func parseServed(rest enc.Name) (kind servedKind, boot, seq uint64, id queryID) {
	switch {
	case len(rest) == 2 && rest[0].Typ == enc.TypeTimestampNameComponent && rest[1].Typ == enc.TypeSequenceNumNameComponent &&
		natComponent(rest[0]) && natComponent(rest[1]):
		return servedPublication, rest[0].NumberVal(), rest[1].NumberVal(), id
	case len(rest) == 3 && rest[0].Equal(ansKeyword) && rest[1].Typ == enc.TypeGenericNameComponent && len(rest[1].Val) == len(id) &&
		rest[2].Typ == enc.TypeParametersSha256DigestComponent:
		copy(id[:], rest[1].Val)
		return servedAnswer, 0, 0, id
	}
	return servedNone, 0, 0, id
}

// natComponent reports whether c's value is a NonNegativeInteger as ndnd
// encodes one (1, 2, 4 or 8 bytes); ndnd's NumberVal reads any length.
func natComponent(c enc.Component) bool { return svsync.NatComponent(c) }

// parseSyncDataName splits a Sync Data name <member>/<group>/32=svs/v=<µs>
// into the member name and the version (microseconds since the epoch).
func parseSyncDataName(name, group enc.Name) (member enc.Name, micros uint64, ok bool) {
	return svsync.ParseSyncDataName(name, group)
}

// identityOf strips a trailing KEY/<key-id> from a key name; other names
// are returned whole. The result shares name's backing array.
func identityOf(key enc.Name) enc.Name { return svsync.IdentityOf(key) }

// nameKey is a map key for a name: its TLV encoding (correct for every
// component length, unlike ndnd's TlvStr).
func nameKey(n enc.Name) string { return svsync.NameKey(n) }

// usableName reports whether n can be a member name: not empty and every
// component short enough for ndnd to encode (tlv.NdndEncodable).
func usableName(n enc.Name) bool { return svsync.UsableName(n) }

// Publication TLV types (ours, in content only).
//
//	Publication  = 0xE0 TLV-LENGTH FormatVersion PublishTime *Record
//	FormatVersion= 0xE1 nat                ; 1
//	PublishTime  = 0xE2 nat                ; Unix milliseconds
//	Record       = Alive / Leave / Gone / Event / Query
//	Alive        = 0xE3 TLV-LENGTH         ; heartbeat (and join announcement)
//	Leave        = 0xE4 TLV-LENGTH         ; the member leaves the group
//	Gone         = 0xE5 TLV-LENGTH         ; this sequence number is no longer kept
//	Event        = 0xE6 TLV-LENGTH LTime Label Payload
//	Query        = 0xE7 TLV-LENGTH QueryID LTime Label Payload [Filter] Deadline
//	Answer       = 0xE8 TLV-LENGTH QueryID Payload    ; ApplicationParameters of an answer
//	LTime        = 0xF0 nat                ; Lamport time
//	Label        = 0xF1 UTF-8              ; event or query name, 1..MaxNameLen bytes
//	Payload      = 0xF2 bytes              ; at most MaxPayloadLimit
//	QueryID      = 0xF3 8 bytes
//	Filter       = 0xF4 UTF-8              ; member name pattern, at most MaxFilterLen
//	Deadline     = 0xF5 nat                ; Unix milliseconds
//
// Unknown records and unknown fields inside records are skipped, so a
// later version may add some; a known field may appear once.
const (
	typePublication = 0xE0
	typeFormat      = 0xE1
	typePublishTime = 0xE2
	typeAlive       = 0xE3
	typeLeave       = 0xE4
	typeGone        = 0xE5
	typeEvent       = 0xE6
	typeQuery       = 0xE7
	typeAnswer      = 0xE8

	typeLTime    = 0xF0
	typeLabel    = 0xF1
	typePayload  = 0xF2
	typeQueryID  = 0xF3
	typeFilter   = 0xF4
	typeDeadline = 0xF5

	wireFormat = 1
)

// maxContent bounds the content of one publication we make, so that the
// signed Data (name, signature info, signature) stays within an NDN packet
// (8800 bytes). A record is at most MaxPayloadLimit + MaxNameLen +
// MaxFilterLen + 40 bytes, so one always fits.
const maxContent = 6000

// maxPacket is the largest NDN packet; larger input is refused before
// decoding.
const maxPacket = svsync.MaxPacket

// errMalformed is wrapped by every decoding error.
var errMalformed = errors.New("malformed")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errMalformed}, a...)...)
}

// queryID identifies a query.
type queryID [8]byte

// recordKind is a publication record's type.
type recordKind uint8

const (
	recAlive recordKind = iota + 1
	recLeave
	recGone
	recEvent
	recQuery
)

// record is one entry of a publication. Fields beyond kind are used by
// events (ltime, label, payload) and queries (all).
type record struct {
	kind     recordKind
	ltime    uint64
	label    string
	payload  []byte
	id       queryID
	filter   string
	deadline uint64 // Unix ms
}

// publication is the content of one publication Data.
type publication struct {
	time    uint64 // Unix ms
	records []record
}

// recordSize is an upper bound of r's encoded size.
func recordSize(r record) int {
	return 64 + len(r.label) + len(r.payload) + len(r.filter)
}

func appendRecord(b []byte, r record) []byte {
	var v []byte
	switch r.kind {
	case recAlive:
		return tlv.AppendTLV(b, typeAlive, nil)
	case recLeave:
		return tlv.AppendTLV(b, typeLeave, nil)
	case recGone:
		return tlv.AppendTLV(b, typeGone, nil)
	case recEvent:
		v = tlv.AppendNat(v, typeLTime, r.ltime)
		v = tlv.AppendTLV(v, typeLabel, []byte(r.label))
		v = tlv.AppendTLV(v, typePayload, r.payload)
		return tlv.AppendTLV(b, typeEvent, v)
	case recQuery:
		v = tlv.AppendTLV(v, typeQueryID, r.id[:])
		v = tlv.AppendNat(v, typeLTime, r.ltime)
		v = tlv.AppendTLV(v, typeLabel, []byte(r.label))
		v = tlv.AppendTLV(v, typePayload, r.payload)
		if r.filter != "" {
			v = tlv.AppendTLV(v, typeFilter, []byte(r.filter))
		}
		v = tlv.AppendNat(v, typeDeadline, r.deadline)
		return tlv.AppendTLV(b, typeQuery, v)
	}
	return b
}

// encodePublication encodes p. It never fails.
func encodePublication(p *publication) []byte {
	var v []byte
	v = tlv.AppendNat(v, typeFormat, wireFormat)
	v = tlv.AppendNat(v, typePublishTime, p.time)
	for _, r := range p.records {
		v = appendRecord(v, r)
	}
	return tlv.AppendTLV(nil, typePublication, v)
}

// decodePublication decodes a publication's content. Errors wrap
// errMalformed. The result does not alias b.
func decodePublication(b []byte) (*publication, error) {
	if len(b) > maxPacket {
		return nil, malformed("publication of %d bytes", len(b))
	}
	t, v, err := tlv.Single(b)
	if err != nil {
		return nil, malformed("%v", err)
	}
	if t != typePublication {
		return nil, malformed("not a publication (type %#x)", t)
	}
	p := &publication{}
	var haveFormat, haveTime bool
	r := tlv.NewReader(v)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, malformed("%v", err)
		}
		switch t {
		case typeFormat:
			f, err := tlv.ReadNat(v)
			if err != nil || haveFormat {
				return nil, malformed("bad or repeated format version")
			}
			if f != wireFormat {
				return nil, malformed("format version %d, want %d", f, wireFormat)
			}
			haveFormat = true
		case typePublishTime:
			if p.time, err = tlv.ReadNat(v); err != nil || haveTime {
				return nil, malformed("bad or repeated publish time")
			}
			haveTime = true
		case typeAlive:
			p.records = append(p.records, record{kind: recAlive})
		case typeLeave:
			p.records = append(p.records, record{kind: recLeave})
		case typeGone:
			p.records = append(p.records, record{kind: recGone})
		case typeEvent, typeQuery:
			rec, err := decodeRecord(t, v)
			if err != nil {
				return nil, err
			}
			p.records = append(p.records, rec)
		}
	}
	if !haveFormat || !haveTime {
		return nil, malformed("publication without format version or publish time")
	}
	return p, nil
}

// decodeRecord decodes an Event or Query record's value.
func decodeRecord(typ uint64, b []byte) (record, error) {
	rec := record{kind: recEvent, payload: []byte{}}
	if typ == typeQuery {
		rec.kind = recQuery
	}
	seen := map[uint64]bool{}
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return rec, malformed("%v", err)
		}
		switch t {
		case typeLTime, typeLabel, typePayload, typeQueryID, typeFilter, typeDeadline:
			if seen[t] {
				return rec, malformed("field %#x repeated", t)
			}
			seen[t] = true
		default:
			continue
		}
		switch t {
		case typeLTime:
			if rec.ltime, err = tlv.ReadNat(v); err != nil {
				return rec, malformed("LTime: %v", err)
			}
		case typeLabel:
			if !validLabel(v) {
				return rec, malformed("bad name of %d bytes", len(v))
			}
			rec.label = string(v)
		case typePayload:
			if len(v) > MaxPayloadLimit {
				return rec, malformed("payload of %d bytes", len(v))
			}
			rec.payload = append([]byte{}, v...)
		case typeQueryID:
			if len(v) != len(rec.id) {
				return rec, malformed("query id of %d bytes", len(v))
			}
			copy(rec.id[:], v)
		case typeFilter:
			if len(v) == 0 || len(v) > MaxFilterLen || !utf8.Valid(v) {
				return rec, malformed("bad filter of %d bytes", len(v))
			}
			rec.filter = string(v)
		case typeDeadline:
			if rec.deadline, err = tlv.ReadNat(v); err != nil {
				return rec, malformed("deadline: %v", err)
			}
		}
	}
	if !seen[typeLTime] || !seen[typeLabel] {
		return rec, malformed("record without LTime or name")
	}
	if rec.kind == recQuery && (!seen[typeQueryID] || !seen[typeDeadline]) {
		return rec, malformed("query without id or deadline")
	}
	if rec.kind == recEvent {
		rec.id, rec.filter, rec.deadline = queryID{}, "", 0 // not event fields
	}
	return rec, nil
}

// validLabel reports whether b is a usable event or query name.
func validLabel(b []byte) bool {
	return len(b) > 0 && len(b) <= MaxNameLen && utf8.Valid(b)
}

// encodeAnswer encodes an answer to query id.
func encodeAnswer(id queryID, payload []byte) []byte {
	var v []byte
	v = tlv.AppendTLV(v, typeQueryID, id[:])
	v = tlv.AppendTLV(v, typePayload, payload)
	return tlv.AppendTLV(nil, typeAnswer, v)
}

// decodeAnswer decodes an answer. Errors wrap errMalformed; the payload
// does not alias b.
func decodeAnswer(b []byte) (id queryID, payload []byte, err error) {
	if len(b) > maxPacket {
		return id, nil, malformed("answer of %d bytes", len(b))
	}
	t, v, err := tlv.Single(b)
	if err != nil {
		return id, nil, malformed("%v", err)
	}
	if t != typeAnswer {
		return id, nil, malformed("not an answer (type %#x)", t)
	}
	var haveID, havePayload bool
	r := tlv.NewReader(v)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return id, nil, malformed("%v", err)
		}
		switch t {
		case typeQueryID:
			if haveID || len(v) != len(id) {
				return id, nil, malformed("bad or repeated query id")
			}
			copy(id[:], v)
			haveID = true
		case typePayload:
			if havePayload || len(v) > MaxPayloadLimit {
				return id, nil, malformed("bad or repeated payload")
			}
			payload = append([]byte{}, v...)
			havePayload = true
		}
	}
	if !haveID {
		return id, nil, malformed("answer without query id")
	}
	if payload == nil {
		payload = []byte{}
	}
	return id, payload, nil
}
