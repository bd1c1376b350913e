// Package ndn is one process's attachment to Named Data Networking: a Node
// holds the face to the forwarder, ndnd's engine, the signing identity, the
// trust anchors and ndnd's object client, and an embedded forwarder launcher
// starts a real ndnd forwarder for demos, daemons and tests.
//
//	node, err := ndn.Connect(ctx, ndn.Config{Keychain: "dir:///home/me/.ndn/keys", AnchorFiles: []string{"anchor.cert"}})
//	if err != nil { ... }           // ndn.ErrNoForwarder says how to start one
//	defer node.Close()
//	node.Handle(prefix, func(ctx context.Context, in *ndn.Incoming) { in.Reply(wire) })
//	err = node.Register(ctx, prefix, nil)  // returns once the route is in place
//	data, err := node.Express(ctx, interest)
//
// # Goroutines
//
// ndnd's engine runs every Interest handler and Express callback on one
// goroutine behind a 256-slot queue that blocks the face reader when full
// (std/engine/basic/engine.go). The Node never runs user code there: Handle
// queues Interests (bounded by Config.QueueSize; overflow is dropped, the
// consumer retransmits) for Config.Workers worker goroutines, and Express
// hands results back through a 1-buffered channel. Handlers run on workers
// and may block; their ctx ends at the Interest's deadline or at Close.
//
// The face reconnects with backoff when the forwarder goes away (ndnd's
// stream face calls os.Exit instead) and the Node re-registers its routes.
// Close stops the workers, the reconnect loop, the face reader and the
// engine, and waits for them.
//
// # Locks
//
// Node.mu guards the Node's maps and flags; face.mu guards the connection
// and callbacks. Neither is held while calling out (callbacks, network I/O),
// and neither is taken while holding the other.
package ndn
