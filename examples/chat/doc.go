// Package chat is a terminal chat room on pub-sub (package pubsub): a Room
// is one participant, publishing what it Sends on the room's topic and
// receiving the others' messages on Messages.
//
//	r, err := chat.Join(ctx, chat.Config{Node: node, Room: room, Nick: "alice"})
//	defer r.Close()
//	err = r.Send(ctx, "hello")           // queued, signed, announced
//	for m := range r.Messages() {        // closed by Close
//		fmt.Printf("%s: %s\n", m.Nick, m.Text)
//	}
//
// A room is a topic (any name, like /example/chat/lobby) in a sync group,
// by default /<first component of Room>/pubsub: the group `ndn-invoke pub`
// and `ndn-invoke sub` use for that topic, so `ndn-invoke sub
// /example/chat/lobby --json` watches a room. A message is the JSON
// object {"nick":..., "text":...} (Encode, Decode).
//
// Each participant joins under a session identity, <node identity>/_chat/
// <random>, certified by the node's key: members of a group do not receive
// their own publications, and the session name lets one user be in a room
// from several terminals. The nick is what a participant calls itself; the
// signed, verified sender is Message.From.
//
// # Goroutines
//
// The pubsub member owns every goroutine (its delivery goroutine sends on
// the Messages channel, blocking while the reader is behind); Close stops
// and waits for them, then closes the channel. The package starts none.
package chat
