// Package pubsub runs topics on State Vector Sync: members of a sync group
// advertise topics (any NDN names) and publish on them; subscribers follow
// a topic or a topic prefix and fetch only what they subscribed to. Its
// type is PubSub (New, Start, Close); Advertise gives a Topic (Publish,
// Flush), Subscribe a Subscription; an Archiver keeps a group's
// publications for late subscribers.
//
//	cfg := pubsub.DefaultConfig()
//	cfg.Group, cfg.Node = group, node        // node has an identity and trust anchors
//	ps, err := pubsub.New(cfg)
//	err = ps.Start(ctx)
//	chat, err := ps.Advertise(topic)
//	err = chat.Publish(ctx, []byte("hello")) // queued, batched, signed, announced
//	err = chat.Flush(ctx)                    // linger until a subscriber fetched it
//	sub, err := ps.Subscribe(pubsub.SubscribeConfig{Topic: prefix,
//		Handler: func(ctx context.Context, m *pubsub.Message) error { ...; return nil }})
//	defer ps.Close()
//
// # Callbacks and goroutines
//
// A Subscription's handler runs on its delivery goroutine, one call at a
// time, never with a lock held; it may Publish but not Close. The PubSub
// owns a publisher goroutine, svsync's validators and SvSync loop; each
// Subscription owns its delivery goroutine and one fetcher per (publisher,
// topic, incarnation) that is behind. Close stops and waits for them all.
// PubSub.mu guards the member's state; svsync's gate is never taken
// with it held. An Archiver's mu guards its own; it may be taken
// with PubSub.mu held, never the other way round. An Archiver's sink is called on the fetcher
// goroutines and its saver, with no lock held.
//
// # Design: one state vector entry per (publisher, topic)
//
// The group runs one SVS v3 instance (ndnd's SvSync through
// internal/svsync, as package svs does). A publisher announces each topic
// as its own state vector entry, <publisher>/32=topic/<topic>, with its
// own sequence numbers. Every member learns every entry's sequence number
// from the Sync Interests (which it cannot avoid), but fetches data only
// for the entries whose topic lies under one of its subscriptions: a
// subscriber sends no Interest at all for other topics
// (TestPublishSubscribeOnlySubscribedTopics counts them at the publisher).
// One sync group per topic was the alternative; it cannot serve a prefix
// subscription (the subscriber would have to know every topic under the
// prefix in advance) and costs a sync prefix, a route and a periodic Sync
// Interest per topic. The price of one group: a Sync Interest carries the
// whole state vector in one packet, so a group holds at most about a
// hundred (publisher, topic) pairs with short names; use several groups
// beyond that.
//
//	Sync Interest   <group>/32=svs/v=3/<digest>, ApplicationParameters = Sync Data (signed by the member)
//	entry           <publisher>/32=topic/<topic>
//	publication     <publisher>/<group>/32=ps/<topic>/t=<boot>/seq=<n>, content = Batch (wire.go)
//	large message   <publication>/32=msg/<i>/seg=<k>
//
// # Batching and large messages
//
// Publish queues; the publisher goroutine signs the messages a topic
// queued within BatchWindow of the first (default 2ms), or up to
// BatchBytes (default 7000), into one publication and announces it with
// one SetSeqNo (one Sync Interest). Subscribers unbatch. A message over
// BatchBytes (up to MaxMessage, default 4 MiB) is carried as a segmented
// object next to its publication and fetched with Node.FetchSegments;
// every segment is signed and checked.
//
// # Order and delivery modes
//
// A (publisher, topic) is fetched in sequence order by one fetcher and
// delivered in order. AtLeastOnce retries failed fetches while the
// publisher keeps the publication (Retain, default 1024 publications;
// older ones are answered Gone and counted Missed). LatestOnly fetches
// only the newest publication known and delivers its last message.
// ExactlyOnce commits (stream, seq, index) to a bbolt Checkpoint after
// each handler call, and a subscription with the same Durable name
// resumes after it: a restart neither loses nor repeats (a crash between
// the handler's return and the commit repeats that one message). Messages
// of a publisher's earlier incarnation are fetchable only while it still
// runs; a restarted publisher answers them Gone. A handler that returns an
// error refuses its message: it comes again after a backoff, before the
// messages after it, up to MaxRedeliveries times (then Stats.Abandoned),
// and the checkpoint does not move past it meanwhile.
//
// # A publisher that exits at once
//
// NDN has no push: a message exists only while someone serves it. We
// chose to linger: Topic.Flush waits until every message queued before it
// is published and some subscriber fetched the publication (and the last
// segment of its large messages); a `pub` command calls Flush with a
// bound, then Close. With no subscriber Flush waits until its ctx ends
// and reports it. Handing messages to a repo is the other way (next).
//
// # Persistent topics: the Archiver
//
// An Archiver (NewArchiver, usually run by a repo: repo.GroupSpec.Kind
// "pubsub") is a member that fetches every publication of every topic
// from the first one its publisher still keeps, verifies it, and hands
// the signed packets (publication, segments, and the publisher's
// certificate) to an ArchiveSink, which stores them and serves
// <pub>/<group>/32=ps and <pub>/KEY at a route cost above the publisher's
// own: the publisher answers while it runs, the archive once it left.
// The Archiver's SVS instance keeps the entries of publishers that left
// in the group's state vector and sends it to newcomers (any SVS member
// answers an outdated state vector). After a restart that instance starts
// empty (internal/svsync passes no initial state to SvSync), so the
// Archiver announces the entries it archived, saved through the sink, in
// a Sync Interest of its own to any member whose state vector lacks them.
// A subscriber that arrives late catches up with SubscribeConfig.Replay;
// one that was offline resumes with ExactlyOnce. PubSub.Start registers
// the sync prefix before SvSync sends its first Sync Interest, so that
// the answers to it reach the newcomer.
//
// # Security
//
// Sync Data must be named <member>/<group>/32=svs/v=<µs>, signed by a key
// of <member>'s with a chain to the node's trust anchors, and admitted by
// Config.Policy for the group; a publication or segment must be signed by
// a key of its publisher's admitted for its topic. The claimed key is
// checked before any signature is verified. Sync Data is structure-checked
// before ndnd's parser sees it (internal/svsync).
//
// # Limits and measurements
//
// Own publications are not delivered to the same PubSub's subscriptions.
// BenchmarkPubSub (1 publisher, 100-byte messages, all published at once,
// one forwarder on a 2-core VM) measured: 20000 messages, ~30k msgs/s to 1
// subscriber and ~24k/s to each of 3 (latency then is queueing: p50
// 0.4-0.6s); 200 messages, p50/p99 4/6ms to 1 subscriber, 12/14ms to 3.
package pubsub
