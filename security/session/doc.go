// Package session is the I/O-free core of session-signed and sealed calls
// (issue 4): a one-round-trip X25519 handshake authenticated by the usual
// Ed25519 signed Interest and Data, an HKDF key schedule, per-packet
// HMAC-SHA256 signatures with a sliding anti-replay window, ChaCha20-Poly1305
// sealing of payloads, and a bounded session Table with a per-identity
// handshake rate limit. Ed25519 on every packet costs about 270 µs of CPU per
// call; a session pays it once, then a few µs per packet.
//
// The main type is Session, one per end. Nothing here does I/O, reads a
// clock or starts a goroutine: time is passed in, and the rpc layer does the
// networking. Session and Table are safe for concurrent use; ClientHandshake
// is not.
//
//	// client                                   // service
//	hs, ch, _ := session.ClientStart(nil)
//	// send ch.Encode() in an Ed25519-signed Interest ─────▶
//	                                            tbl.AllowHandshake(caller, now) // after verifying
//	                                            k, sh, _ := session.ServerAccept(nil, ch, now, tbl.Config().Lifetime)
//	                                            srv, _ := session.New(session.RoleServer, session.Name(svc, sh.SessionID), k)
//	                                            tbl.Put(sh.SessionID, srv, caller, now)
//	// ◀───── sh.Encode() in an Ed25519-signed Data
//	k, _ := hs.Finish(sh, now)
//	cli, _ := session.New(session.RoleClient, session.Name(svc, sh.SessionID), k)
//	cfg.SigSeqNo, cfg.SigNonce = optional.Some(cli.NextSeq()), nonce
//	i, _ := spec.Spec{}.MakeInterest(callName, cfg, params, cli.Signer())
//	                                            s, ok := tbl.Get(id, now) // id from session.IDFromName(KeyLocator)
//	                                            err := s.VerifyInterest(now, sigCovered, i.Signature())
//
// # Handshake messages
//
// Both are strict TLVs with types from the application range 0xA0..0xAF.
// Types and lengths are NDN VAR-NUMBERs in shortest form; fields come in
// the order shown, each exactly once; nothing else is allowed (no unknown
// fields, no trailing bytes), so each message has one encoding and a
// decoder never has to guess. A later version uses new outer types and a
// new KDFInfo.
//
//	ClientHello  = 0xA0 TLV-LENGTH EphemeralPub
//	ServerHello  = 0xA1 TLV-LENGTH EphemeralPub SessionID Lifetime
//	EphemeralPub = 0xA2 0x20 32OCTET       ; X25519 public key
//	SessionID    = 0xA3 0x10 16OCTET       ; random
//	Lifetime     = 0xA4 TLV-LENGTH NonNegativeInteger ; milliseconds, >= 1
//
// The ClientHello is the ApplicationParameters of an Ed25519-signed
// Interest; the ServerHello is the Content of the Ed25519-signed Data
// answering it. The client must check that the Data's name equals its
// Interest's full name: the ParametersSha256DigestComponent covers the
// InterestSignatureInfo and value, so the service's signature over that
// name attests which client key it accepted, and nobody can re-sign a
// client's hello under another identity and pass the answer back
// (unknown-key-share).
//
// # Key schedule
//
//	ikm  = X25519(own ephemeral private, peer EphemeralPub)  ; all zero: ErrBadKeyShare
//	salt = SHA-256(ClientHello.Encode() || ServerHello.Encode())
//	okm  = HKDF-SHA256(ikm, salt, info = "ndn-invoke session v1", L = 128)
//	ClientMAC  = okm[0:32]    ; HMAC key, client → service
//	ServerMAC  = okm[32:64]   ; HMAC key, service → client
//	ClientSeal = okm[64:96]   ; ChaCha20-Poly1305 key, client → service
//	ServerSeal = okm[96:128]  ; ChaCha20-Poly1305 key, service → client
//
// The salt binds the whole transcript (both keys, the session id and the
// lifetime), so a hello altered in flight yields different keys and the
// first MAC fails. Ephemeral private keys are erased as soon as the keys
// are derived; Session.Close, Table eviction and Keys.Erase zero the
// session keys (forward secrecy: a later theft of the Ed25519 identity keys
// reveals nothing about past sessions). Go cannot guarantee that no copy
// survives elsewhere in memory (crypto/ecdh and HKDF internals, the
// garbage collector); the package erases every copy it owns.
//
// # State machines
//
// Client: ClientStart → (send hello, await reply) → Finish → New(RoleClient)
// → open → (Expired | Close) → closed. Finish runs at most once; a failed
// or abandoned handshake is erased.
//
// Service: AllowHandshake → ServerAccept → New(RoleServer) → Table.Put →
// open → (expired | idle | evicted | Close) → closed. Closed sessions
// answer ErrSessionClosed and expired ones ErrSessionExpired; both match
// security.ErrUnauthenticated, which tells the client to handshake again.
//
// # Session packets
//
// Calls are signed Interests with SignatureType HmacWithSha256 (4),
// KeyLocator = the session name (<service>/_session/<hex id>, see Name),
// SignatureSeqNum = NextSeq(), a random SignatureNonce and SignatureTime as
// usual, and SignatureValue = HMAC-SHA256(ClientMAC, signed portion).
// Replies are Data signed the same way with ServerMAC.
//
// Replay: each Session keeps a window of the last WindowSize (1024)
// sequence numbers. VerifyInterest accepts seq iff seq > highest-1024 and
// seq was not accepted before, so calls reordered by a multi-threaded
// forwarder still pass, and records seq only once the MAC has verified.
// Replies carry no window: their name is that of one pending Interest.
//
// Sealed payloads: Seal(aad = packet name without its digest, plaintext,
// seq) = seq (8 bytes) || ChaCha20-Poly1305(key = this direction's seal
// key, nonce = direction tag (4 bytes: 1 client→service, 2 service→client)
// || seq (8 bytes), plaintext, aad). Sequence numbers never repeat per
// Session, so nonces never repeat per key. Open rejects any change with
// ErrOpen.
//
// # Threat model
//
//   - A forwarder or anyone on the path sees names, KeyLocators (hence
//     session ids), sequence numbers, sizes and timing, and the plaintext of
//     unsealed payloads. It cannot forge or alter a call or reply (HMAC),
//     read or alter a sealed payload, or learn session keys from the
//     handshake (X25519 with Ed25519-signed hellos; a tampered hello makes
//     the two sides' keys differ). It can drop, delay and reorder packets.
//   - A cache can serve a stored reply only to an Interest with the same
//     name, whose digest covers a fresh nonce and sequence number; so it can
//     only answer the exact call that was made. Sealed replies stay sealed
//     in the cache.
//   - A replayer resending a captured call within the session is rejected by
//     the sequence window (or, below it, as too old); after the session ends
//     every packet of it is rejected. Dropping the handshake Data or flooding
//     hellos costs the attacker the Table's per-identity rate limit and
//     bounds (the service verifies Ed25519 before any key agreement).
//   - Someone holding a stolen session key (e.g. a memory dump of one end)
//     can impersonate that end, and read what was sealed, only for the rest
//     of that session and in that session only: keys are per session and
//     per direction, expire with the session, and reveal nothing about
//     other sessions, the identity keys, or traffic after Close. A stolen
//     identity key lets its holder open new sessions, but not decrypt past
//     ones (forward secrecy).
//
// # Locks
//
// Session.mu and Table.mu are never held together: a Table closes the
// sessions it drops after releasing its lock, and reads only the immutable
// expiry of a Session under it.
package session
