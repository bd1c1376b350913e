package groupsync

import (
	enc "github.com/named-data/ndnd/std/encoding"
)

// Naming, as ndnd v1.5.3's SvsALO and SnapshotNodeHistory build names
// (std/sync/svs_alo.go, svs_alo_data.go, snapshot_node_history.go):
//
//	sync Interests   [<multicast>]/<group>/32=svs/v=3/<params-sha256>
//	Sync Data        <group>/<publisher>/t=<boot>/32=svs/v=<unix-µs>
//	publication      <group>/<publisher>/t=<boot>/seq=<n>/v=0/seg=<k>
//	snapshot         <group>/<publisher>/t=<boot>/32=HIST/v=<n>/seg=<k>
//	snapshot index   <group>/<publisher>/t=<boot>/32=HIDX/v=<n>/seg=<k>
//	index metadata   <group>/<publisher>/t=<boot>/32=HIDX/32=metadata/v=<n>/seg=0
//
// Every helper returns a freshly allocated name: ndnd's Name.Append writes
// into spare capacity of its receiver, so appending to a shared name would
// corrupt it.

// join returns a new name: a, then b, then comps.
func join(a, b enc.Name, comps ...enc.Component) enc.Name {
	out := make(enc.Name, 0, len(a)+len(b)+len(comps))
	out = append(out, a...)
	out = append(out, b...)
	return append(out, comps...)
}

// syncPrefix is where Sync Interests for group go.
func syncPrefix(multicast, group enc.Name) enc.Name {
	return join(multicast, group, enc.NewKeywordComponent("svs"), enc.NewVersionComponent(3))
}

// dataPrefix is where one publisher instance's objects live.
func dataPrefix(group, node enc.Name, boot uint64) enc.Name {
	return join(group, node, enc.NewTimestampComponent(boot))
}

// pubName is a publication's versioned name (without segment).
func pubName(group, node enc.Name, boot, seq uint64) enc.Name {
	return join(dataPrefix(group, node, boot), nil, enc.NewSequenceNumComponent(seq), enc.NewVersionComponent(0))
}

// snapName is the versioned name of the history snapshot taken at seq.
func snapName(group, node enc.Name, boot, seq uint64) enc.Name {
	return join(dataPrefix(group, node, boot), nil, enc.NewKeywordComponent("HIST"), enc.NewVersionComponent(seq))
}

// idxPrefix is the unversioned name of a publisher's history index.
func idxPrefix(group, node enc.Name, boot uint64) enc.Name {
	return join(dataPrefix(group, node, boot), nil, enc.NewKeywordComponent("HIDX"))
}

// metadataKeyword marks RDR metadata (std/ndn/rdr_2024).
const metadataKeyword = "metadata"
