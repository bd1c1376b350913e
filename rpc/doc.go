// Package rpc is service invocation over NDN: a call is a signed Interest
// named <service>/<method>/<params-sha256> answered by a signed Data. The
// wire protocol is docs/PROTOCOL.md.
//
// Server:
//
//	s, _ := rpc.NewServer(node, rpc.ServerConfig{Service: svc, Policy: policy})
//	rpc.Unary(s.Mux, "add", func(ctx context.Context, r AddReq) (AddResp, error) { ... },
//		rpc.MethodOptions{Idempotent: true})
//	rpc.Unary(s.Mux, "square", square, rpc.MethodOptions{Public: true, CacheTTL: time.Minute, Idempotent: true})
//	err := s.Start(ctx)     // returns once the forwarder routes the prefix
//	defer s.Shutdown(ctx)   // drains in-flight calls
//
// Client:
//
//	c, _ := rpc.NewClient(node, rpc.ClientConfig{})
//	err := c.Call(ctx, "/example/calc/add", AddReq{2, 3}, &resp, nil)
//	status.Code(err) // codes.OK, codes.PermissionDenied, codes.DeadlineExceeded, ...
//
// What happens on a call: the client encodes the request (JSON by default),
// signs the Interest with its identity (unless the call is Public), and
// sends it with the ctx deadline as lifetime. The server verifies the
// signature chain, replay window and policy (Unauthenticated /
// PermissionDenied), runs the handler at most once per (caller, request id)
// for non-idempotent methods, and signs the reply; the client verifies the
// reply's chain and that its signer may answer for the service. Failed
// attempts are retried per RetryPolicy within a retry budget; a circuit
// breaker per service stops calls to a failing one and a Fallback may answer
// instead. Payloads beyond one packet travel as segmented signed objects.
// Public cacheable methods take unsigned, deterministic requests, so the
// forwarder aggregates identical calls (PIT) and answers repeats from its
// Content Store.
//
// # Beyond unary calls
//
//   - Notifications (MethodOptions.Notification, Client.Notify): acknowledged
//     at once, run after; at-least-once retransmission on request.
//   - Server streams (ServerStream, Client.Stream): items pulled in order
//     with a window, packed many to a signed packet, with backpressure.
//   - Client and bidirectional streams (ClientStream, BidiStream,
//     Client.ClientStream, Client.BidiStream): the server pulls the items
//     the client serves under its own prefix, signed by the caller's key.
//   - Long-running operations (LongRunning with ServerConfig.Ops,
//     Client.Start/GetOp/WaitOp/CancelOp/DeleteOp/ListOps): the call answers
//     with an operation whose signed, versioned records a repo keeps, so they
//     outlive the service; Resumable ones continue after a restart.
//
// # Goroutines and locks
//
// Handlers run on the Node's worker goroutines (ndn.Config.Workers) and may
// block; their ctx ends at the earliest of the caller's deadline, the
// method's Timeout and the node's Close. Stream, notification and operation
// handlers run on goroutines of their own, which the Server owns and
// Shutdown waits for (their ctx ends then), as it does for its janitors
// (idle streams; OpsConfig.Retention). The Client starts no goroutine of
// its own except, for the duration of one call, the fetchers of a large
// reply's segments. Server.mu, Mux.mu, replyCache.mu and Client.mu are leaf
// locks: none is held while another is taken or while user code runs.
package rpc
