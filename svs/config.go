package svs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Limits on what one event or query carries. An event, a query and an
// answer each travel in one NDN packet (at most 8800 bytes), so they are
// small by design: send a name (and fetch the object) for anything bigger.
const (
	// MaxNameLen is the longest event or query name, in bytes.
	MaxNameLen = 128
	// MaxPayloadLimit is the largest Config.MaxPayload may be, in bytes.
	MaxPayloadLimit = 4096
	// MaxFilterLen is the longest QueryOptions.Filter, in bytes.
	MaxFilterLen = 512
	// DefaultQueryTimeout is how long Query collects answers when
	// QueryOptions.Timeout is zero (and ctx allows).
	DefaultQueryTimeout = 2 * time.Second
)

// EventFunc receives an event sent to the group. It runs on the group's
// notification goroutine, one call at a time, and may block (later events
// wait, and are coalesced meanwhile); it may call SendEvent, Query and
// Members but not Leave or Close, which wait for it. ctx ends when the
// group closes. The callee owns e.
type EventFunc func(ctx context.Context, e Event)

// MemberFunc receives a change of a member's status. It runs on the same
// goroutine as EventFunc, under the same rules; changes queued at the same
// time as events are delivered first.
type MemberFunc func(ctx context.Context, e MemberEvent)

// Config configures a Group. A zero field means its default; DefaultConfig
// returns the defaults filled in.
type Config struct {
	// Group is the group's name prefix, e.g. /example/chat. Required.
	Group enc.Name
	// Node is the node to join through. Required. It must have trust
	// anchors (ErrNoVerifier); one Node may join a group prefix once.
	Node *ndnx.Node
	// Identity signs this member's packets and names it in the group.
	// Default: the node's identity (ErrNoIdentity if it has none). When it
	// differs from the node's, the group also serves its certificate
	// (unless a handler of the node already answers its key name).
	Identity *security.Identity
	// Policy narrows who may take part: a member whose key K signs the
	// group's packets is accepted only if Policy.Authorize(K, Group)
	// allows it, e.g. "allow /example/users/<u> to call /example/chat".
	// Nil: any identity whose certificate chains to the node's trust
	// anchors. Packets from others are dropped and counted (Stats).
	Policy *security.Policy

	// HeartbeatPeriod is how often a member that published nothing else
	// publishes a heartbeat. Default 1s.
	HeartbeatPeriod time.Duration
	// SuspectAfter is how long a member may stay silent before it is
	// suspect; FailedAfter, before it is failed. SuspectAfter must be at
	// least twice HeartbeatPeriod and FailedAfter more than SuspectAfter.
	// Defaults 5s and 15s.
	SuspectAfter, FailedAfter time.Duration
	// ReapAfter is how long a failed or left member stays listed before it
	// is forgotten (a MemberEvent with Status StatusNone). Default 24h.
	ReapAfter time.Duration
	// MaxMembers bounds the members (and unverified names) tracked; others
	// are ignored and counted. Default 1024.
	MaxMembers int

	// MaxPayload is the largest event or query payload (and answer) in
	// bytes, at most MaxPayloadLimit. Default 512.
	MaxPayload int
	// Retain is how many of its latest publications a member keeps to
	// serve; a member further behind than that misses the older ones
	// (Stats.Missed). Default 1024.
	Retain int
	// FetchTimeout is the lifetime of each fetch Interest. Default 1s.
	FetchTimeout time.Duration
	// FetchWindow bounds the publications fetched at once. Default 32.
	FetchWindow int
	// SyncPeriod is SVS's periodic Sync Interest timeout; SuppressionPeriod
	// its suppression period. Defaults 30s and 200ms (SVS's).
	SyncPeriod, SuppressionPeriod time.Duration
	// LeaveLinger is how long Leave keeps serving the departure notice
	// before it closes, so that members fetch it (at most until Leave's
	// ctx ends). Default 1s.
	LeaveLinger time.Duration
	// DisableCoalescing delivers every event; by default a newer event
	// with the same name supersedes one not yet delivered (or sent).
	DisableCoalescing bool
	// MaxPendingEvents bounds events waiting for OnEvent; past it the
	// oldest is dropped (Stats.EventsDropped). Default 1024.
	MaxPendingEvents int
	// QueryWorkers bounds the queries answered at once; more wait in a
	// queue of 64 and past that are dropped. Default 4.
	QueryWorkers int

	// OnEvent, if set, receives events (see EventFunc).
	OnEvent EventFunc
	// OnMemberChange, if set, receives status changes (see MemberFunc).
	OnMemberChange MemberFunc
	// QueryHandler, if set, answers queries; without it the member never
	// answers.
	QueryHandler QueryHandler
	// Logger receives the group's log. Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every default filled in. Group and
// Node must still be set.
func DefaultConfig() Config {
	return Config{
		HeartbeatPeriod:   time.Second,
		SuspectAfter:      5 * time.Second,
		FailedAfter:       15 * time.Second,
		ReapAfter:         24 * time.Hour,
		MaxMembers:        1024,
		MaxPayload:        512,
		Retain:            1024,
		FetchTimeout:      time.Second,
		FetchWindow:       32,
		SyncPeriod:        30 * time.Second,
		SuppressionPeriod: 200 * time.Millisecond,
		LeaveLinger:       time.Second,
		MaxPendingEvents:  1024,
		QueryWorkers:      4,
		Logger:            slog.Default(),
	}
}

// Validate reports a configuration that cannot work; errors wrap
// ErrBadConfig. It checks the fields as given, so zero (default) values
// pass; Join validates again with the defaults filled in.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadConfig}, a...)...)
	}
	switch {
	case len(c.Group) == 0:
		return bad("Group is required")
	case !tlv.NdndEncodable(c.Group):
		return bad("Group has a component longer than %d bytes", tlv.NdndMaxComponentLen)
	case c.Node == nil:
		return bad("Node is required")
	case c.HeartbeatPeriod < 0, c.SuspectAfter < 0, c.FailedAfter < 0, c.ReapAfter < 0,
		c.FetchTimeout < 0, c.SyncPeriod < 0, c.SuppressionPeriod < 0, c.LeaveLinger < 0:
		return bad("durations must not be negative")
	case c.MaxMembers < 0, c.MaxPayload < 0, c.Retain < 0, c.FetchWindow < 0, c.MaxPendingEvents < 0, c.QueryWorkers < 0:
		return bad("counts must not be negative")
	case c.MaxPayload > MaxPayloadLimit:
		return bad("MaxPayload %d is over MaxPayloadLimit (%d)", c.MaxPayload, MaxPayloadLimit)
	}
	d := c.withDefaults()
	switch {
	case d.SuspectAfter < 2*d.HeartbeatPeriod:
		return bad("SuspectAfter (%v) must be at least twice HeartbeatPeriod (%v)", d.SuspectAfter, d.HeartbeatPeriod)
	case d.FailedAfter <= d.SuspectAfter:
		return bad("FailedAfter (%v) must be more than SuspectAfter (%v)", d.FailedAfter, d.SuspectAfter)
	}
	return nil
}

// withDefaults fills zero fields and clones the group name.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setDur(&c.HeartbeatPeriod, d.HeartbeatPeriod)
	setDur(&c.SuspectAfter, d.SuspectAfter)
	setDur(&c.FailedAfter, d.FailedAfter)
	setDur(&c.ReapAfter, d.ReapAfter)
	setDur(&c.FetchTimeout, d.FetchTimeout)
	setDur(&c.SyncPeriod, d.SyncPeriod)
	setDur(&c.SuppressionPeriod, d.SuppressionPeriod)
	setDur(&c.LeaveLinger, d.LeaveLinger)
	setInt(&c.MaxMembers, d.MaxMembers)
	setInt(&c.MaxPayload, d.MaxPayload)
	setInt(&c.Retain, d.Retain)
	setInt(&c.FetchWindow, d.FetchWindow)
	setInt(&c.MaxPendingEvents, d.MaxPendingEvents)
	setInt(&c.QueryWorkers, d.QueryWorkers)
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	c.Group = c.Group.Clone()
	return c
}
