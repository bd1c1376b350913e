// Package coupons shows a persistent pub-sub topic (package pubsub) at
// work: a Registration publishes a "user registered" event for each new
// user and returns at once, and a Service subscribes and grants each new
// user one coupon. Registration never waits for coupons; registrations
// made while the Service was down are granted when it returns, because a
// repo archives the group (repo.GroupSpec{Kind: repo.KindPubSub}) and the
// Service subscribes ExactlyOnce with a durable checkpoint.
//
//	reg, err := coupons.NewRegistration(ctx, coupons.Config{Node: web})
//	err = reg.Register(ctx, "alice")   // queued and announced; no waiting for coupons
//	err = reg.Flush(ctx)               // before exiting: until the repo (or the service) has it
//	svc, err := coupons.StartService(ctx, coupons.ServiceConfig{Config: coupons.Config{Node: shop}, Dir: dir})
//	grants, err := svc.Grants()        // every coupon granted, in order, from Dir
//
// An event is the JSON object {"user": ...} (EncodeEvent, DecodeEvent) on
// Topic (default /example/users/registered) in Group (default
// /example/pubsub, the group `ndn-invoke pub` and `sub` use for that
// topic). A coupon's code is derived from the user name (CouponCode), so
// granting twice would be visible but never produce a second code.
//
// # Exactly once
//
// The Service keeps two bbolt files in Dir: the subscription's checkpoint
// (pubsub.Checkpoint, checkpoint.db) and the granted coupons (coupons.db).
// A grant is stored, then pubsub commits the position: a crash between
// the two re-delivers that one event, which the Service recognises (the
// user already holds a coupon) and skips, so each user is granted once.
//
// # Goroutines
//
// The pubsub members own every goroutine: the Service's handler runs on
// its subscription's delivery goroutine, as does ServiceConfig.OnGrant.
// Close stops and waits for them. The package starts none.
package coupons
