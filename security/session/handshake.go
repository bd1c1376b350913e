package session

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"time"
)

// KDFInfo is the HKDF info string of the key schedule. A future protocol
// version changes it, so keys of different versions never coincide.
const KDFInfo = "ndn-invoke session v1"

// DefaultLifetime is the session lifetime ServerAccept grants when asked
// for 0.
const DefaultLifetime = time.Hour

// Keys is the output of the key schedule: the session id, when the session
// ends, and four independent 32-byte keys, one per purpose and direction.
// A Keys value is secret; New copies it into a Session and erases it.
type Keys struct {
	// SessionID is the ServerHello's session id.
	SessionID [16]byte
	// Expires is the handshake time (each side's own clock) plus the
	// ServerHello's Lifetime.
	Expires time.Time
	// ClientMAC is the HMAC-SHA256 key of packets the client sends.
	ClientMAC [32]byte
	// ServerMAC is the HMAC-SHA256 key of packets the service sends.
	ServerMAC [32]byte
	// ClientSeal is the ChaCha20-Poly1305 key of payloads the client seals.
	ClientSeal [32]byte
	// ServerSeal is the ChaCha20-Poly1305 key of payloads the service seals.
	ServerSeal [32]byte
}

// Erase zeroes the key material in k. Go may have left copies the program
// cannot reach (in the HKDF and X25519 internals, or moved by the runtime);
// Erase removes the ones this package owns. Safe to call more than once.
func (k *Keys) Erase() {
	if k == nil {
		return
	}
	clear(k.ClientMAC[:])
	clear(k.ServerMAC[:])
	clear(k.ClientSeal[:])
	clear(k.ServerSeal[:])
}

// ClientHandshake is the client's state between sending its ClientHello and
// receiving the ServerHello: just the ephemeral private key. It is not safe
// for concurrent use.
type ClientHandshake struct {
	priv  [32]byte
	hello ClientHello
	done  bool
}

// ClientStart begins a handshake: it draws an ephemeral X25519 key from
// rnd (nil means crypto/rand) and returns the state to Finish with and the
// ClientHello to send. It fails only if rnd fails. It does no I/O besides
// reading rnd.
func ClientStart(rnd io.Reader) (*ClientHandshake, ClientHello, error) {
	h := &ClientHandshake{}
	pub, err := ephemeral(rnd, &h.priv)
	if err != nil {
		return nil, ClientHello{}, err
	}
	h.hello.EphemeralPub = pub
	return h, h.hello, nil
}

// Hello returns the ClientHello that ClientStart returned.
func (h *ClientHandshake) Hello() ClientHello { return h.hello }

// Finish completes the handshake with the service's ServerHello, which the
// caller has already authenticated (Ed25519 signature of the reply Data,
// whose name must equal the handshake Interest's full name). It derives the
// session keys, with Expires = now + sh.Lifetime, and erases the ephemeral
// private key whatever the outcome: a handshake finishes at most once.
//
// Errors: ErrHandshakeDone on a second call or after Erase; ErrMalformed
// for a Lifetime that is not positive; ErrBadKeyShare if sh.EphemeralPub is
// a low-order point.
func (h *ClientHandshake) Finish(sh ServerHello, now time.Time) (*Keys, error) {
	if h.done {
		return nil, ErrHandshakeDone
	}
	defer h.Erase()
	if sh.Lifetime < time.Millisecond {
		return nil, fmt.Errorf("%w: lifetime %v", ErrMalformed, sh.Lifetime)
	}
	sh.Lifetime = sh.Lifetime.Truncate(time.Millisecond) // what the wire carries
	return derive(&h.priv, sh.EphemeralPub, h.hello, sh, now)
}

// Erase zeroes the ephemeral private key without finishing, for a client
// that gives up on a handshake. Later Finish calls return ErrHandshakeDone.
func (h *ClientHandshake) Erase() {
	clear(h.priv[:])
	h.done = true
}

// ServerAccept answers a ClientHello that the caller has already
// authenticated (Ed25519 signature of the handshake Interest, policy, and
// the per-identity rate limit): it draws an ephemeral X25519 key and a
// random session id from rnd (nil means crypto/rand), derives the session
// keys with Expires = now + lifetime, erases the ephemeral private key, and
// returns the keys and the ServerHello to send back. lifetime 0 means
// DefaultLifetime; it is truncated to whole milliseconds (the wire unit).
//
// Errors: a negative or sub-millisecond lifetime; a failing rnd;
// ErrBadKeyShare if hello.EphemeralPub is a low-order point.
func ServerAccept(rnd io.Reader, hello ClientHello, now time.Time, lifetime time.Duration) (*Keys, ServerHello, error) {
	if lifetime == 0 {
		lifetime = DefaultLifetime
	}
	lifetime = lifetime.Truncate(time.Millisecond)
	if lifetime <= 0 {
		return nil, ServerHello{}, fmt.Errorf("session: lifetime %v must be at least 1ms", lifetime)
	}
	var priv [32]byte
	defer clear(priv[:])
	pub, err := ephemeral(rnd, &priv)
	if err != nil {
		return nil, ServerHello{}, err
	}
	sh := ServerHello{EphemeralPub: pub, Lifetime: lifetime}
	if rnd == nil {
		rnd = rand.Reader
	}
	if _, err := io.ReadFull(rnd, sh.SessionID[:]); err != nil {
		return nil, ServerHello{}, fmt.Errorf("session: session id: %w", err)
	}
	k, err := derive(&priv, hello.EphemeralPub, hello, sh, now)
	if err != nil {
		return nil, ServerHello{}, err
	}
	return k, sh, nil
}

// ephemeral fills priv with a fresh X25519 private key from rnd and returns
// its public key.
func ephemeral(rnd io.Reader, priv *[32]byte) ([32]byte, error) {
	var pub [32]byte
	if rnd == nil {
		rnd = rand.Reader
	}
	if _, err := io.ReadFull(rnd, priv[:]); err != nil {
		return pub, fmt.Errorf("session: ephemeral key: %w", err)
	}
	k, err := ecdh.X25519().NewPrivateKey(priv[:])
	if err != nil { // unreachable: every 32-byte string is an X25519 key
		return pub, fmt.Errorf("session: ephemeral key: %w", err)
	}
	copy(pub[:], k.PublicKey().Bytes())
	return pub, nil
}

// derive runs the key schedule (see the package doc):
//
//	ikm  = X25519(priv, peer)            (all zero: ErrBadKeyShare)
//	salt = SHA-256(ch.Encode() || sh.Encode())
//	okm  = HKDF-SHA256(ikm, salt, KDFInfo, 128)
//	ClientMAC, ServerMAC, ClientSeal, ServerSeal = okm[0:32], [32:64], [64:96], [96:128]
func derive(priv *[32]byte, peer [32]byte, ch ClientHello, sh ServerHello, now time.Time) (*Keys, error) {
	curve := ecdh.X25519()
	sk, err := curve.NewPrivateKey(priv[:])
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	pk, err := curve.NewPublicKey(peer[:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKeyShare, err)
	}
	shared, err := sk.ECDH(pk)
	if err != nil { // crypto/ecdh refuses the all-zero output itself
		return nil, fmt.Errorf("%w: %v", ErrBadKeyShare, err)
	}
	defer clear(shared)
	var zero [32]byte
	if subtle.ConstantTimeCompare(shared, zero[:]) == 1 {
		return nil, ErrBadKeyShare
	}

	t := sha256.New()
	t.Write(ch.Encode())
	t.Write(sh.Encode())
	salt := t.Sum(nil)

	okm, err := hkdf.Key(sha256.New, shared, salt, KDFInfo, 4*32)
	if err != nil {
		return nil, fmt.Errorf("session: hkdf: %w", err)
	}
	defer clear(okm)
	if len(okm) != 4*32 {
		return nil, errors.New("session: hkdf: short output")
	}
	k := &Keys{SessionID: sh.SessionID, Expires: now.Add(sh.Lifetime)}
	copy(k.ClientMAC[:], okm[0:32])
	copy(k.ServerMAC[:], okm[32:64])
	copy(k.ClientSeal[:], okm[64:96])
	copy(k.ServerSeal[:], okm[96:128])
	return k, nil
}
