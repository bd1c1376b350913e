package pubsub

import (
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// Content of a publication Data (TLV types ours, in content only):
//
//	Batch         = 0xE0 TLV-LENGTH FormatVersion *Message
//	FormatVersion = 0xE1 nat                  ; 1
//	Message       = 0xE2 TLV-LENGTH PublishTime (Payload / Large)
//	PublishTime   = 0xE3 nat                  ; Unix microseconds
//	Payload       = 0xE4 bytes                ; the message, inline
//	Large         = 0xE5 nat                  ; size in bytes; segmented object <publication>/32=msg/<i>
//	Gone          = 0xE9 TLV-LENGTH           ; instead of Batch: no longer kept
const (
	typeBatch       = 0xE0
	typeVersion     = 0xE1
	typeMessage     = 0xE2
	typePublishTime = 0xE3
	typePayload     = 0xE4
	typeLarge       = 0xE5
	typeGone        = 0xE9

	wireVersion = 1
)

// Limits of the decoder: a publication is one packet; a batch holds at
// most maxBatchMessages messages; a large message at most MaxMessageLimit
// bytes.
const (
	maxBatchMessages = 4096
	// MaxMessageLimit is the largest Config.MaxMessage may be: 64 MiB.
	MaxMessageLimit = 64 << 20
)

// wireMsg is one message of a batch: inline (payload) or large (size>0,
// payload nil).
type wireMsg struct {
	micros  uint64
	payload []byte
	large   uint64
}

// batch is a decoded publication.
type batch struct {
	gone bool
	msgs []wireMsg
}

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
}

func encodeBatch(b *batch) []byte {
	if b.gone {
		return tlv.AppendTLV(nil, typeGone, nil)
	}
	inner := tlv.AppendNat(nil, typeVersion, wireVersion)
	for _, m := range b.msgs {
		v := tlv.AppendNat(nil, typePublishTime, m.micros)
		if m.large > 0 {
			v = tlv.AppendNat(v, typeLarge, m.large)
		} else {
			v = tlv.AppendTLV(v, typePayload, m.payload)
		}
		inner = tlv.AppendTLV(inner, typeMessage, v)
	}
	return tlv.AppendTLV(nil, typeBatch, inner)
}

// decodeBatch decodes a publication's content. Payloads are copied. Errors
// wrap ErrMalformed.
func decodeBatch(b []byte) (*batch, error) {
	if len(b) > svsync.MaxPacket {
		return nil, malformed("%d bytes", len(b))
	}
	t, v, err := tlv.Single(b)
	if err != nil {
		return nil, malformed("%v", err)
	}
	switch t {
	case typeGone:
		return &batch{gone: true}, nil
	case typeBatch:
	default:
		return nil, malformed("type %#x", t)
	}
	out := &batch{}
	r := tlv.NewReader(v)
	version := false
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, malformed("%v", err)
		}
		switch t {
		case typeVersion:
			n, err := tlv.ReadNat(v)
			if err != nil || n != wireVersion || version {
				return nil, malformed("format version")
			}
			version = true
		case typeMessage:
			m, err := decodeMessage(v)
			if err != nil {
				return nil, err
			}
			if len(out.msgs) == maxBatchMessages {
				return nil, malformed("more than %d messages", maxBatchMessages)
			}
			out.msgs = append(out.msgs, m)
		}
	}
	if !version {
		return nil, malformed("no format version")
	}
	return out, nil
}

func decodeMessage(b []byte) (wireMsg, error) {
	var m wireMsg
	var hasTime, hasBody bool
	r := tlv.NewReader(b)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return m, malformed("%v", err)
		}
		switch t {
		case typePublishTime:
			if hasTime {
				return m, malformed("two publish times")
			}
			if m.micros, err = tlv.ReadNat(v); err != nil {
				return m, malformed("%v", err)
			}
			hasTime = true
		case typePayload, typeLarge:
			if hasBody {
				return m, malformed("two bodies")
			}
			hasBody = true
			if t == typePayload {
				m.payload = append([]byte{}, v...)
				continue
			}
			if m.large, err = tlv.ReadNat(v); err != nil || m.large == 0 || m.large > MaxMessageLimit {
				return m, malformed("large message size")
			}
		}
	}
	if !hasTime || !hasBody {
		return m, malformed("message without time or body")
	}
	return m, nil
}

// Names (<pub> is a publisher's identity, <group> Config.Group, <topic>
// a topic name):
//
//	state vector entry  <pub>/32=topic/<topic>
//	publication         <pub>/<group>/32=ps/<topic>/t=<boot>/seq=<n>, content = Batch
//	large message       <publication>/32=msg/<i>/seg=<k>
var (
	topicKeyword = enc.NewKeywordComponent("topic")
	psKeyword    = enc.NewKeywordComponent("ps")
	msgKeyword   = enc.NewKeywordComponent("msg")
)

// entryName is the state vector entry of pub's topic.
func entryName(pub, topic enc.Name) enc.Name {
	return svsync.Join(pub, nil, append(enc.Name{topicKeyword}, topic...)...)
}

// parseEntry splits an entry name into publisher and topic (sharing its
// array, capacity clipped).
func parseEntry(n enc.Name) (pub, topic enc.Name, ok bool) {
	for i, c := range n {
		if c.Equal(topicKeyword) {
			if i == 0 || i == len(n)-1 {
				return nil, nil, false
			}
			return n[:i:i], n[i+1:], true
		}
	}
	return nil, nil, false
}

// servePrefix is where pub serves its publications.
func servePrefix(pub, group enc.Name) enc.Name { return svsync.Join(pub, group, psKeyword) }

// pubName names publication seq of pub's topic in incarnation boot.
func pubName(pub, group, topic enc.Name, boot, seq uint64) enc.Name {
	return svsync.Join(servePrefix(pub, group), topic, enc.NewTimestampComponent(boot), enc.NewSequenceNumComponent(seq))
}

// largeName names large message i of a publication.
func largeName(publication enc.Name, i int) enc.Name {
	return svsync.Join(publication, nil, msgKeyword, enc.NewNumberComponent(enc.TypeGenericNameComponent, uint64(i)))
}

// parsePubName reads the part of a publication name after servePrefix:
// <topic>/t=<boot>/seq=<n>.
func parsePubName(rest enc.Name) (topic enc.Name, boot, seq uint64, ok bool) {
	n := len(rest)
	if n < 3 || rest[n-2].Typ != enc.TypeTimestampNameComponent || rest[n-1].Typ != enc.TypeSequenceNumNameComponent ||
		!svsync.NatComponent(rest[n-2]) || !svsync.NatComponent(rest[n-1]) {
		return nil, 0, 0, false
	}
	return rest[: n-2 : n-2], rest[n-2].NumberVal(), rest[n-1].NumberVal(), true
}
