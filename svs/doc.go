// Package svs runs groups on State Vector Sync: members that know each
// other (alive, suspect, failed, left), events sent to every member, and
// queries that members answer, as in HashiCorp Serf, over NDN. Its type is
// Group: Join starts one, Leave or Close ends it.
//
//	cfg := svs.DefaultConfig()
//	cfg.Group, cfg.Node = group, node          // node has an identity and trust anchors
//	cfg.OnEvent = func(ctx context.Context, e svs.Event) { ... }
//	cfg.QueryHandler = svs.QueryHandlerFunc(func(ctx context.Context, q *svs.Query) ([]byte, error) { ... })
//	g, err := svs.Join(ctx, cfg)
//	err = g.SendEvent(ctx, "deploy", []byte("v1.2"))
//	answers, err := g.Query(ctx, "load", nil, svs.QueryOptions{Timeout: time.Second, Filter: "/example/workers/<...>"})
//	members := g.Members()
//	err = g.Leave(ctx)                          // members see this one as left
//
// # Callbacks and goroutines
//
// OnEvent and OnMemberChange run on the group's notification goroutine,
// one call at a time; QueryHandler on Config.QueryWorkers query workers.
// None runs with a lock held or on ndnd's engine goroutine, so they may
// block (for a while) and may call SendEvent, Query and Members; they must
// not call Leave or Close, which wait for them. Their ctx ends at Close.
//
// The group owns: the planner (failure detection, fetch scheduling,
// heartbeats), the publisher, the notifier, the query workers, two
// validators of Sync Data, and one goroutine per fetch in flight (at most
// FetchWindow). Close cancels them all and returns after each has exited.
// It also stops ndnd's SvSync and waits for its loop to exit and for the
// Sync Interests its own goroutines are sending (see "ndnd" below).
//
// Group.mu guards the group's state and is never held while calling the
// network, SvSync or user code. Group.gate (an RWMutex) keeps SvSync's
// callback out once Close began; it is never taken with mu held.
//
// # Protocol
//
// The sync protocol is ndnd's SvSync (std/sync/svs.go), SVS v3: each
// member announces its own sequence numbers in signed Sync Interests
// multicast under <group>/32=svs/v=3 (Join sets the forwarder's multicast
// strategy there), and SvSync tells us when another member's number
// advances. We do not use ndnd's SvsALO on top: each member fetches the
// others' publications itself, so one publication costs one Sync Interest
// and one Data per member, nothing signs a metadata packet nobody reads, a
// callback that publishes cannot deadlock, and failed fetches back off from
// 100ms instead of a fixed 2s.
//
//	Sync Interest   <group>/32=svs/v=3/<digest>, ApplicationParameters = Sync Data
//	Sync Data       <member>/<group>/32=svs/v=<µs>, signed by <member>, content = StateVector
//	publication     <member>/<group>/t=<boot>/seq=<n>, signed by <member>, content = Publication TLV
//	answer          <querier>/<group>/32=ans/<query-id>/<digest>, Interest signed by the answerer
//
// <member> is a member's identity name; <boot> its bootstrap time in
// seconds, new at each Join. A publication holds records: a heartbeat
// (Alive), Leave, events and queries (the TLV types are in wire.go). The
// member keeps its last Retain publications and answers older ones with a
// signed Gone record, so a member that fell far behind skips them
// (Stats.Missed) instead of retrying. Whatever is pending when the
// publisher wakes goes into one publication, so publications batch under
// load without adding delay.
//
// A query is published like an event; members that match its Filter and
// have a handler answer with a signed Interest to the querier (Serf's
// direct response), which it acknowledges with an empty Data. Answers are
// collected until the deadline or MaxAnswers; they may be incomplete.
//
// # Membership and heartbeats
//
// A member that published nothing for HeartbeatPeriod publishes a
// heartbeat, which advances its sequence number; every member fetches it
// like any publication. A member is heard from when one of its
// publications is fetched and verified (fetched with MustBeFresh: caches
// keep a copy fresh for HeartbeatPeriod, so a cached copy still proves it
// alive that recently), when a Sync Interest it signed arrives (if its
// timestamp is within SuspectAfter of now), or when it answers a query.
// Silence for SuspectAfter makes it suspect, for FailedAfter failed; heard
// again, it is alive. Leave publishes a Leave record and lingers
// LeaveLinger so members fetch it: they see the member left, not failed.
// Failed and left members are forgotten after ReapAfter.
//
// A member learns of another from the state vector and lists it once its
// first publication verified. On first sight it fetches only that
// member's latest publication, unless the member booted no earlier than
// one second before itself: events published before it joined are not
// delivered to it.
//
// Events carry a Lamport time. A member delivers its own events at once
// and others' in each sender's order. With coalescing (the default), an
// event waiting for delivery (or for publication) is replaced by a newer
// one with the same name, as Serf's coalescing does.
//
// # Security
//
// Every Sync Data, publication, answer and acknowledgement is signed with
// the member's identity. Sync Data and publications must be named under
// the signer's identity and are verified (signature, certificate chain to
// the node's trust anchors) and checked against Config.Policy
// (Authorize(key, group)) before anything in them is believed; answers
// (signed Interests) are verified with replay protection. A Sync Interest
// that fails is dropped before SvSync merges its state vector, so an
// outsider never enters the group's state. The name binding and the policy
// are checked on the claimed key before any signature is verified or
// certificate fetched, and a key that failed is refused for 5s without
// another try: an outsider's chain may need certificate fetches that time
// out, and it would otherwise tie up the two validators with each
// heartbeat. The acknowledgement of an answer carries nothing and is not
// checked.
//
// # Limits
//
// An event or a query carries a name of at most MaxNameLen bytes and a
// payload of at most Config.MaxPayload bytes (default 512, at most
// MaxPayloadLimit = 4096): each travels in one packet. A Sync Interest
// carries the whole state vector in one packet (8800 bytes), which bounds
// a group to about a hundred members with short names. Every member
// fetches every publication of every other member: a group of n members
// with heartbeat period p costs about n(n-1)/p fetches per second.
// Measured on one forwarder on a 2-core VM (BenchmarkMembership10): 10
// members joining at once all see each other alive within 0.17-0.27s; a
// member closed without Leave is seen suspect by all 9 others after about
// 1.0s and failed after about 2.0s with SuspectAfter 1s and FailedAfter 2s
// (silence counts from the last heartbeat heard, up to a HeartbeatPeriod
// before the close).
//
// # ndnd
//
// SvSync's Stop neither waits for its loop nor tolerates a second call,
// its goroutines and timers are untracked, its handler parses Sync Data on
// ndnd's engine goroutine with a parser that can panic or allocate
// gigabytes on hostile input, and its goroutines race on the sync prefix's
// spare capacity. internal/svsync (shared with pubsub) wraps the
// ndn.Client and ndn.Engine SvSync uses so that the group owns all of that; what remains is one short-lived
// goroutine per Sync Interest sent (svs.go:243, 265, 421), which Close
// waits for by counting them between signing and sending.
//
// A member rejoining within the same second as its previous incarnation
// gets the same boot time: SvSync then continues its sequence numbers
// from the old incarnation's, and the members may miss its first
// publications (not its later heartbeats).
package svs
