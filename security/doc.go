// Package security holds identities, certificates, trust anchors, signed-
// Interest signing and verification with replay protection, and the
// name-pattern authorization policy that every ndn-invoke component uses.
//
//	anchor, _ := security.NewAnchor(name("/example"), 365*24*time.Hour) // or LoadAnchors("example.cert")
//	alice, _ := anchor.Issue(name("/example/users/alice"), 30*24*time.Hour)
//	i, _ := security.NewInterestSigner(alice).MakeInterest(callName, cfg, params)
//
//	v, _ := security.NewVerifier(security.VerifierConfig{Anchors: [][]byte{anchor.CertWire()}, Fetch: node})
//	caller, err := v.VerifyInterest(ctx, interest, sigCovered) // chain, signature, replay
//	policy, _ := security.ParsePolicy("allow /example/users/<u> to call /kv/<u>/<...>")
//	err = policy.Authorize(caller, target)                      // default deny
//
// It stands on ndnd's std/security alone and imports no other package of
// ours, so ndn.Node can hold identities and trust without an import cycle.
// Nothing here starts a goroutine; Verifier, ReplayGuard, Policy and
// InterestSigner are safe for concurrent use. The Verifier calls its
// CertFetcher on the caller's goroutine and never under a lock.
//
// # Errors
//
// Every rejection matches exactly one class with errors.Is —
// ErrUnauthenticated (ErrNoSignature, ErrBadSignature, ErrUnknownIssuer,
// ErrCertExpired, ErrReplay, ErrTimeSkew) or ErrPermissionDenied
// (ErrPolicyDenied) — so the rpc layer maps them to status codes without
// reading text.
//
// # Design notes
//
// Signed Interests follow the NDN packet format v0.3: InterestSignatureInfo
// with SignatureNonce (8 random bytes) and SignatureTime (ms, never
// decreasing per signer), SignatureSeqNum optional; KeyLocator names the key.
// ndnd has no signed-Interest validator, so Verifier does the whole check:
// the ParametersSha256Digest and signed portion belong to the Interest, the
// key's certificate chains to an anchor within its validity periods, the
// signature verifies (parsed public keys are cached per certificate; ndnd
// re-parses them per packet, std/security/signer/validate_data.go:14-33), and
// the ReplayGuard accepts it.
//
// Replay window: SignatureTime within ±60 s of the verifier's clock and a
// nonce not seen for that key in the window, instead of ndn-cxx's "strictly
// newer than the last time", which rejects a client's concurrent calls when
// a multi-threaded forwarder reorders them. Memory is bounded and forgetting
// fails closed (see ReplayGuard). Retransmission: a client that retries a
// call signs it again (fresh nonce and time) with the same request id, and
// the rpc layer answers a repeated request id from its stored reply, so a
// retry neither looks like an attack nor runs a handler twice, while a
// byte-identical replay is rejected here.
//
// Policy format: one rule per line, "allow|deny CALLER to call TARGET",
// first match wins, default deny; patterns are NDN names with <x> (one
// component, captured and required equal across caller and target), * and a
// trailing <...>. See ParsePolicy. Parse errors name their line.
package security
