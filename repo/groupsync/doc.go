// Package groupsync joins an SVS v3 sync group as a passive member and
// durably stores every publication, so the group's topics outlive their
// publishers. Its type is Member: Join starts it, Close leaves the group.
// It interoperates with publishers using ndnd's std/sync (SvSync + SvsALO,
// with or without SnapshotNodeHistory), which is what ndnd's own repo
// joins (repo/repo_svs.go).
//
//	cfg := groupsync.DefaultConfig()       // Verify: true
//	cfg.Group = group                       // SvsALO's GroupPrefix
//	cfg.Sink = sink                         // PutData / LoadState / SaveState
//	cfg.OnPublication = func(ctx context.Context, group, name enc.Name, content []byte) { ... }
//	m, err := groupsync.Join(ctx, node, cfg)
//	...
//	err = m.Close()                         // saves the state, unregisters
//
// # Naming
//
// As ndnd v1.5.3's SvsALO and SnapshotNodeHistory name things
// (std/sync/svs_alo.go, svs_alo_data.go, snapshot_node_history.go; <boot>
// is the publisher's bootstrap time in seconds, new at each restart unless
// it restores its ALO state):
//
//	Sync Interest   [<multicast>]/<group>/32=svs/v=3/<params-sha256>, ApplicationParameters = Sync Data
//	Sync Data       <group>/<publisher>/t=<boot>/32=svs/v=<µs>, content = SVS v3 StateVector
//	publication     <group>/<publisher>/t=<boot>/seq=<n>/v=0/seg=<k>, FinalBlockId = last segment
//	snapshot        <group>/<publisher>/t=<boot>/32=HIST/v=<n>/seg=<k>   (publications n'+1..n, HistorySnap TLV)
//	snapshot index  <group>/<publisher>/t=<boot>/32=HIDX/v=<n>/seg=<k>   (snapshot versions, HistoryIndex TLV)
//	index metadata  <group>/<publisher>/t=<boot>/32=HIDX/32=metadata/v=<n>/seg=0 (RDR, FreshnessPeriod 10ms)
//
// Publications are immutable (version 0) and segmented by ndnd's
// object.Produce (8000 bytes each). A publisher with SnapshotNodeHistory
// takes a snapshot at its first publication and then every Threshold
// publications, and evicts from its store the publications older than its
// third-newest snapshot once the index lists more than four: after that,
// they exist only inside the snapshots.
//
// # What is stored
//
// Through Sink.PutData, each Data packet exactly as received (wire bytes,
// signature included, so it stays verifiable and can be served as is):
// every segment of every publication; with Config.HistorySnapshot, also
// every snapshot, the snapshot index and its metadata. With Config.Verify
// (the default) every packet is verified with node.VerifyData (chain to
// the node's trust anchors) before it is stored; so is every Sync Data
// before its state vector is believed. A publication whose packets fail
// verification Config.Retries times is skipped (Stats.Skipped): it is not
// stored and not handed to OnPublication. A publication that cannot be
// fetched (publisher away) is retried with backoff for as long as the
// member runs, or recovered from a history snapshot if its publisher
// evicted it. Publications recovered from a snapshot have no Data packet
// of their own; the snapshot packets that hold them are stored and
// OnPublication gets their content under the name they had. The RDR
// metadata of individual publications is not fetched (ALO consumers fetch
// publications by their versioned name).
//
// OnPublication is called once a publication is durably stored, in
// sequence order for each publisher instance.
//
// # Restart
//
// The state saved through Sink.SaveState (at most every SaveInterval, and
// by Close) holds, for each publisher instance, the sequence number up to
// which every publication is stored and was handed to OnPublication, the
// highest sequence number announced, and the newest snapshot stored; plus
// up to MaxSyncWires Sync Data packets of the publishers. Join resumes
// from it: it fetches what was announced but not stored, and re-sends the
// kept Sync Data (a passive member has no state vector of its own to sign,
// as ndnd's passive SvSync does). Publishers that are ahead answer, per
// SVS, with their current state, so what was published while the member
// was away is fetched without waiting for a new publication. The re-send
// is repeated a few times, 1.5s apart, until the group answers, because
// the forwarder drops a Sync Interest identical to one still pending.
// Delivery is at least once: after a crash, publications stored but not
// yet handed to OnPublication are fetched, stored (again) and handed over
// (again).
//
// # Sync
//
// The member handles Sync Interests itself over the Node (not with ndnd's
// SvSync, whose Stop does not wait for its goroutines and timers, whose
// passive state lives in the client's in-memory store, and whose handler
// can block ndnd's engine goroutine). It follows SVS v3 as a passive node:
// it merges every verified state vector, and when one is outdated it waits
// a suppression timeout, merging what else it hears, and if the group is
// still behind re-sends the newest Sync Data it kept. Join sets the
// forwarder's multicast strategy on the sync prefix (with the default
// best-route strategy a Sync Interest reaches a single member) and
// registers it; Close unregisters it. Serving the stored publications is
// the caller's job (the repo core registers the group prefix).
//
// # Goroutines
//
// Sync Interests are handled on the Node's handler goroutines (parsing and
// verification there, then a short critical section). The member owns:
// one planning loop (starts fetches within Config.Window, retries on
// backoff, sends Sync Interests when suppression ends), one goroutine per
// fetch in flight (publication: fetch, verify, PutData; or one per
// publisher for its snapshot index and snapshots), one delivery goroutine
// that calls OnPublication, and one saver that calls SaveState. All run
// under a context that Close cancels; Close returns after every one has
// exited, then saves the state a last time. Member.mu is the only lock;
// it is never held while calling the network, the Sink or OnPublication.
// The protocol core (tracker.go) does no I/O and reads no clock.
package groupsync
