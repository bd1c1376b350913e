package repo

import (
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

// InsertSpec names an object for the repo to fetch from its producer and
// store.
type InsertSpec struct {
	// Name is the object's name. A name ending in a version (v=N) is
	// fetched as <Name>/seg=0..last; a name without one is resolved to the
	// newest version through RDR metadata (<Name>/32=metadata) and, if no
	// metadata answers, fetched as a single packet (exact name, or the
	// segments under it when its Data carries a FinalBlockId).
	Name enc.Name
	// StartSeg and EndSeg, when set, limit the segments fetched (inclusive),
	// as ndn-python-repo's start/end block ids do.
	StartSeg, EndSeg *uint64
	// ForwardingHint is attached to the fetch Interests when the producer
	// is reachable only through it.
	ForwardingHint enc.Name
	// Register is the prefix the repo registers on the forwarder to serve
	// the object; nil means the object name without version and segment.
	Register enc.Name
	// Caller is the key that authorized the insert (kept in the job).
	Caller enc.Name
}

// JobState is where an insert job is.
type JobState int

const (
	// JobRunning: the object is being fetched and stored.
	JobRunning JobState = iota
	// JobDone: every packet of the object is durably stored.
	JobDone
	// JobFailed: the job ended with an error (Job.Err); what it stored
	// before the error stays stored.
	JobFailed
)

func (s JobState) String() string {
	switch s {
	case JobRunning:
		return "running"
	case JobDone:
		return "done"
	case JobFailed:
		return "failed"
	}
	return "unknown"
}

// Job is the state of one insert, as returned by Repo.Insert and Repo.Job.
type Job struct {
	ID      string    // random, 32 hex digits
	Name    enc.Name  // object name as requested
	Version enc.Name  // versioned name resolved (nil until known)
	State   JobState  //
	Packets uint64    // packets stored so far
	Total   uint64    // packets expected; 0 until known
	Bytes   uint64    // wire bytes stored so far
	Err     string    // why it failed (JobFailed)
	Caller  enc.Name  // key that authorized it
	Started time.Time //
	Ended   time.Time // zero while running
}

// GroupSpec names an SVS v3 sync group whose publications the repo stores.
type GroupSpec struct {
	// Group is the sync group prefix (SyncJoin's Group).
	Group enc.Name
	// MulticastPrefix, if set, is where sync Interests are multicast
	// (SyncJoin's MulticastPrefix).
	MulticastPrefix enc.Name
	// HistorySnapshot, when positive, is the history snapshot threshold
	// publishers use (ndnd repo's HistorySnapshotConfig); at least 10.
	HistorySnapshot uint64
	// Kind is the group's kind: "" for ndnd's SvsALO groups (the repo's
	// own member, repo/groupsync), or a key of Config.Archivers, such as
	// KindPubSub, whose archiver the repo runs for the group.
	// MulticastPrefix and HistorySnapshot apply to "" only.
	Kind string
}
