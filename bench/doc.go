// Package bench compares ndn-invoke with gRPC-go in one process run, so
// that the ratios between them mean something on a shared, noisy machine.
//
// Run starts a real ndnd forwarder (a child process), an ndn-invoke service
// /bench/echo with a signed method "echo" and a public cacheable method
// "cached", and a gRPC-go server with TLS (a self-signed ECDSA P-256
// certificate made in memory) and a unary echo method. For every payload
// size and concurrency it then measures, back to back:
//
//   - grpc-tls: gRPC unary echo over one TLS 1.3 HTTP/2 connection;
//   - ndn-signed: ndn-invoke echo, Ed25519-signed Interest verified by the
//     server, Ed25519-signed Data verified by the client;
//   - ndn-session: the same echo from a client with rpc.ClientConfig
//     Sessions: one Ed25519 handshake with the service (in the warm-up, not
//     measured, like TLS's handshake), then HMAC-SHA256 on every Interest
//     and Data;
//   - ndn-sealed: ndn-session with rpc.CallConfig Sealed, which also
//     encrypts request and reply payloads (ChaCha20-Poly1305);
//   - ndn-cached: ndn-invoke public call with the same argument every time,
//     answered by the forwarder's Content Store after the first call (the
//     client still verifies the Data's signature).
//
// RunStreams compares server streaming the same way (grpc-tls against
// ndn-signed streams pulled with rpc.StreamWindow): items/s, MB/s, time to
// first item, CPU per item, and a slow consumer showing that backpressure
// bounds how far the producer runs ahead and the memory it holds.
//
// RunPubSub compares pub-sub (package pubsub on the forwarder, every packet
// signed) with NATS core pub-sub (nats-server in-process, loopback, no
// TLS): delivered messages/s per subscriber, publish-to-delivery latency
// and CPU per delivery, for 1 publisher and 1 or 3 subscribers, at a
// steady rate and flat out. RunMembership times svs groups (no baseline):
// convergence of 10 members and failure detection (suspect, failed).
//
// Usage:
//
//	cfg := bench.DefaultConfig()
//	rep, err := bench.Run(ctx, cfg)
//	if err != nil { ... }
//	rep.WriteTable(os.Stdout)
//	err = rep.WriteJSONFile("results.json")
//
// Each case runs a warm-up and then a measured phase, each bounded both by
// a duration and by a number of calls. A case reports calls/s, latency
// percentiles and CPU per call: "proc" is this process (client and server
// both live here) from getrusage, "fwd" is the forwarder process from
// /proc/<pid>/stat (10 ms resolution). gRPC has no forwarder.
//
// # Goroutines
//
// Run owns every goroutine it starts (load workers, the gRPC server's Serve
// loop, the nodes' workers) and returns only after they have all ended and
// the forwarder has exited, on every path including errors and a cancelled
// ctx.
//
// This package lives in its own module (bench/go.mod) so that the main
// module does not depend on gRPC.
package bench
