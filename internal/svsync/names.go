package svsync

import (
	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// Names of SVS v3 as our layers use them (<group> is the group prefix,
// <member> a member's identity name):
//
//	Sync Interest   <group>/32=svs/v=3/<params-sha256>, ApplicationParameters = Sync Data
//	Sync Data       <member>/<group>/32=svs/v=<unix-µs>, content = StateVector
//
// Every helper returns a freshly allocated name: ndnd's Name.Append writes
// into spare capacity of its receiver, so appending to a shared name would
// corrupt it.

// svsKeyword is the 32=svs component.
var svsKeyword = enc.NewKeywordComponent("svs")

// Join returns a new name: a, then b, then comps, with no spare capacity.
func Join(a, b enc.Name, comps ...enc.Component) enc.Name {
	out := make(enc.Name, 0, len(a)+len(b)+len(comps))
	out = append(out, a...)
	out = append(out, b...)
	return append(out, comps...)
}

// GroupPrefix is SvSync's GroupPrefix: <group>/32=svs (SvSync appends
// v=3, as ndnd's SvsALO does).
func GroupPrefix(group enc.Name) enc.Name { return Join(group, nil, svsKeyword) }

// SyncPrefix is where Sync Interests go: <group>/32=svs/v=3.
func SyncPrefix(group enc.Name) enc.Name {
	return Join(group, nil, svsKeyword, enc.NewVersionComponent(3))
}

// SyncDataName is SvSync's SyncDataName for member: <member>/<group>/32=svs.
func SyncDataName(member, group enc.Name) enc.Name { return Join(member, group, svsKeyword) }

// ParseSyncDataName splits a Sync Data name <member>/<group>/32=svs/v=<µs>
// into the member name (sharing name's array, capacity clipped) and the
// version (microseconds since the epoch).
func ParseSyncDataName(name, group enc.Name) (member enc.Name, micros uint64, ok bool) {
	n := len(name)
	if n < len(group)+3 || !name[n-1].IsVersion() || !NatComponent(name[n-1]) || !name[n-2].Equal(svsKeyword) {
		return nil, 0, false
	}
	m := n - 2 - len(group)
	if !group.Equal(name[m : n-2]) {
		return nil, 0, false
	}
	return name[:m:m], name[n-1].NumberVal(), true
}

// NatComponent reports whether c's value is a NonNegativeInteger as ndnd
// encodes one (1, 2, 4 or 8 bytes); ndnd's NumberVal reads any length.
func NatComponent(c enc.Component) bool {
	_, err := tlv.ReadNat(c.Val)
	return err == nil
}

// IdentityOf strips a trailing KEY/<key-id> from a key name; other names
// are returned whole. The result shares key's backing array.
func IdentityOf(key enc.Name) enc.Name {
	if n := len(key); n >= 2 && key[n-2].Typ == enc.TypeGenericNameComponent && string(key[n-2].Val) == "KEY" {
		return key[: n-2 : n-2]
	}
	return key
}

// NameKey is a map key for a name: its TLV encoding (correct for every
// component length, unlike ndnd's TlvStr).
func NameKey(n enc.Name) string { return string(tlv.AppendName(nil, n)) }
