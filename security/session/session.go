package session

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/ndn-invoke/ndn-invoke/security"
)

// Role says which end of a session a Session is; it picks the send and
// receive keys.
type Role uint8

// Roles.
const (
	// RoleClient is the end that sent the ClientHello: it signs and seals
	// with the client keys and verifies and opens with the server keys.
	RoleClient Role = 1
	// RoleServer is the end that answered with the ServerHello.
	RoleServer Role = 2
)

// String returns "client", "server" or "Role(n)".
func (r Role) String() string {
	switch r {
	case RoleClient:
		return "client"
	case RoleServer:
		return "server"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// NameMarker is the name component between a service prefix and the
// session id in a session name: <service>/_session/<32 hex digits>.
const NameMarker = "_session"

// Name returns the conventional session name under prefix,
// <prefix>/_session/<id in lower-case hex>, which the KeyLocator of every
// session-signed packet carries. prefix is not modified.
func Name(prefix enc.Name, id [16]byte) enc.Name {
	n := make(enc.Name, 0, len(prefix)+2)
	n = append(n, prefix...)
	return append(n, enc.NewGenericComponent(NameMarker), enc.NewGenericComponent(hex.EncodeToString(id[:])))
}

// IDFromName extracts the session id from a name built by Name (typically a
// packet's KeyLocator), so a service can look the session up. ok is false
// if the name does not end in _session/<32 hex digits>.
func IDFromName(name enc.Name) (id [16]byte, ok bool) {
	if len(name) < 2 {
		return id, false
	}
	m, c := name[len(name)-2], name[len(name)-1]
	if m.Typ != enc.TypeGenericNameComponent || string(m.Val) != NameMarker ||
		c.Typ != enc.TypeGenericNameComponent || len(c.Val) != 32 {
		return id, false
	}
	for _, b := range c.Val { // lower-case only: one spelling per id
		if (b < '0' || b > '9') && (b < 'a' || b > 'f') {
			return id, false
		}
	}
	if _, err := hex.Decode(id[:], c.Val); err != nil {
		return [16]byte{}, false
	}
	return id, true
}

// Direction tags: the first 4 bytes of every AEAD nonce. The keys already
// differ per direction; the tag keeps nonces distinct even if they did not.
const (
	tagClientToServer = 0x00000001
	tagServerToClient = 0x00000002
)

// SealOverhead is how many bytes Seal adds to a plaintext: the 8-byte
// sequence number and the 16-byte Poly1305 tag.
const SealOverhead = 8 + chacha20poly1305.Overhead

// Session is one end of an established session: its id, name, expiry and
// the four directional keys, a send sequence counter and a receive
// anti-replay window. It is a pure state machine: the caller passes the
// current time in, and nothing happens between calls.
//
// A Session is safe for concurrent use.
type Session struct {
	role    Role
	id      [16]byte
	name    enc.Name
	expires time.Time
	sendTag uint32
	recvTag uint32
	seq     atomic.Uint64 // last sequence number NextSeq handed out
	signer  sessionSigner

	// mu guards the fields below. No other lock is taken while it is held.
	mu       sync.Mutex
	closed   bool
	sendMAC  [32]byte
	recvMAC  [32]byte
	sendSeal [32]byte
	recvSeal [32]byte
	win      window
	lastUsed time.Time
}

// New returns the Session of role for keys k (from ServerAccept or
// ClientHandshake.Finish), named name (see Name; it is the KeyLocator of
// every packet the session signs, and the one it accepts). New copies the
// keys and erases k, so the Session holds the only copy; it copies name
// too. The session starts unused, with lastUsed = zero time.
//
// It returns an error for a nil k, an empty name or an unknown role.
func New(role Role, name enc.Name, k *Keys) (*Session, error) {
	if k == nil {
		return nil, errors.New("session: nil Keys")
	}
	if len(name) == 0 {
		return nil, errors.New("session: empty session name")
	}
	s := &Session{role: role, id: k.SessionID, name: name.Clone(), expires: k.Expires}
	switch role {
	case RoleClient:
		s.sendMAC, s.recvMAC = k.ClientMAC, k.ServerMAC
		s.sendSeal, s.recvSeal = k.ClientSeal, k.ServerSeal
		s.sendTag, s.recvTag = tagClientToServer, tagServerToClient
	case RoleServer:
		s.sendMAC, s.recvMAC = k.ServerMAC, k.ClientMAC
		s.sendSeal, s.recvSeal = k.ServerSeal, k.ClientSeal
		s.sendTag, s.recvTag = tagServerToClient, tagClientToServer
	default:
		return nil, fmt.Errorf("session: unknown role %v", role)
	}
	k.Erase()
	s.signer.s = s
	return s, nil
}

// ID returns the session id.
func (s *Session) ID() [16]byte { return s.id }

// Role returns which end of the session s is.
func (s *Session) Role() Role { return s.role }

// Name returns a copy of the session name (the KeyLocator).
func (s *Session) Name() enc.Name { return s.name.Clone() }

// Expires returns when the session ends.
func (s *Session) Expires() time.Time { return s.expires }

// Expired reports whether the session has ended at now.
func (s *Session) Expired(now time.Time) bool { return !now.Before(s.expires) }

// LastUsed returns the latest now at which a packet verified on s, or the
// zero time if none has.
func (s *Session) LastUsed() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastUsed
}

// NextSeq returns a fresh sequence number: 1, 2, 3, ... per Session, never
// repeated. The caller puts it in InterestConfig.SigSeqNo (with a random
// SigNonce and a SigTime, as for any signed Interest) and, for a sealed
// call, passes the same number to Seal. Safe for concurrent use; it works
// on a closed session too (the Signer then refuses to sign).
func (s *Session) NextSeq() uint64 { return s.seq.Add(1) }

// Signer returns the ndn.Signer of packets this end sends: SignatureType
// HmacWithSha256 (4), KeyLocator = the session name, a 32-byte
// HMAC-SHA256 under this direction's MAC key. Its Sign returns
// ErrSessionClosed after Close; it does not check expiry (no clock), so
// callers check Expired first. Safe for concurrent use.
func (s *Session) Signer() ndn.Signer { return &s.signer }

// VerifyInterest checks a session-signed Interest from the peer, in this
// order: the session is open (ErrSessionClosed) and not expired at now
// (ErrSessionExpired); sig exists (security.ErrNoSignature), has type
// HmacWithSha256 and a KeyLocator equal to the session name
// (security.ErrBadSignature); SignatureSeqNum and a 1..64-byte
// SignatureNonce are present (security.ErrReplay); the HMAC over
// sigCovered verifies under the peer's MAC key, compared in constant time
// (security.ErrBadSignature); the sequence number is inside the replay
// window and unseen (security.ErrReplay). Only an Interest that passes
// everything is recorded in the window, so a forgery cannot burn a
// sequence number. All errors match security.ErrUnauthenticated.
//
// The nonce is required (it keeps otherwise identical Interests distinct
// in PITs and caches, as v0.3 demands) but not remembered: the sequence
// window already rejects every replay. SignatureTime is not checked; the
// session lifetime bounds how long a captured Interest could matter.
// Checking the ParametersSha256DigestComponent is the caller's job, as for
// any Interest. sigCovered and sig are not retained. Safe for concurrent
// use.
func (s *Session) VerifyInterest(now time.Time, sigCovered enc.Wire, sig ndn.Signature) error {
	if err := s.checkSig(now, sig); err != nil {
		return err
	}
	seqp := sig.SigSeqNum()
	if seqp == nil {
		return fmt.Errorf("session: Interest has no SignatureSeqNum: %w", security.ErrReplay)
	}
	if n := len(sig.SigNonce()); n == 0 || n > 64 {
		return fmt.Errorf("session: Interest has a %d-byte SignatureNonce, want 1..64: %w", n, security.ErrReplay)
	}
	seq := *seqp

	// Reject replays of valid packets before spending a MAC on them, and
	// compute the MAC outside the lock so concurrent calls run in parallel.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	if err := s.win.check(seq); err != nil {
		s.mu.Unlock()
		return err
	}
	key := s.recvMAC
	s.mu.Unlock()
	ok := checkMAC(&key, sigCovered, sig.SigValue())
	clear(key[:])
	if !ok {
		return fmt.Errorf("session: Interest HMAC does not verify: %w", security.ErrBadSignature)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSessionClosed
	}
	// Check again: a concurrent call may have taken seq since.
	if err := s.win.check(seq); err != nil {
		return err
	}
	s.win.accept(seq)
	if now.After(s.lastUsed) {
		s.lastUsed = now
	}
	return nil
}

// VerifyData checks a session-signed reply Data from the peer: the session
// is open and not expired at now, sig has type HmacWithSha256 with the
// session name as KeyLocator, and its HMAC verifies under the peer's MAC
// key (constant time). Errors as for VerifyInterest, minus ErrReplay.
//
// Replies need no replay window: a reply answers a pending Interest whose
// name is unique (it ends in the digest of a fresh SignatureNonce and
// SeqNum), so a replayed reply either matches no pending Interest or is the
// very reply the caller asked for. sigCovered and sig are not retained.
// Safe for concurrent use.
func (s *Session) VerifyData(now time.Time, sigCovered enc.Wire, sig ndn.Signature) error {
	if err := s.checkSig(now, sig); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	key := s.recvMAC
	s.mu.Unlock()
	ok := checkMAC(&key, sigCovered, sig.SigValue())
	clear(key[:])
	if !ok {
		return fmt.Errorf("session: Data HMAC does not verify: %w", security.ErrBadSignature)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.After(s.lastUsed) {
		s.lastUsed = now
	}
	return nil
}

// checkSig does the checks of VerifyInterest and VerifyData that need no
// key: expiry, signature type and KeyLocator.
func (s *Session) checkSig(now time.Time, sig ndn.Signature) error {
	if s.Expired(now) {
		return ErrSessionExpired
	}
	if sig == nil || sig.SigType() == ndn.SignatureNone {
		return fmt.Errorf("session: %w", security.ErrNoSignature)
	}
	if t := sig.SigType(); t != ndn.SignatureHmacWithSha256 {
		return fmt.Errorf("session: signature type %v is not HmacWithSha256: %w", t, security.ErrBadSignature)
	}
	if !sig.KeyName().Equal(s.name) {
		return fmt.Errorf("session: KeyLocator %v is not this session (%v): %w", sig.KeyName(), s.name, security.ErrBadSignature)
	}
	return nil
}

// Seal encrypts plaintext for the peer with ChaCha20-Poly1305 under this
// direction's seal key, binding aad (the packet name without its digest
// component, e.g. name.Bytes()) as associated data. The result is
//
//	seq (8 bytes, big endian) || ciphertext || tag (16 bytes)
//
// and the nonce is the 4-byte direction tag || seq. seq must come from
// NextSeq and be used for one Seal only (normally the same number as the
// packet's SignatureSeqNum): a repeated seq repeats the nonce, which breaks
// ChaCha20-Poly1305. Errors: ErrInvalidSeq for 0, ErrSessionClosed. The
// result is fresh; aad and plaintext are not retained. Safe for concurrent
// use.
func (s *Session) Seal(aad, plaintext []byte, seq uint64) ([]byte, error) {
	if seq == 0 {
		return nil, ErrInvalidSeq
	}
	aead, tag, err := s.aead(true)
	if err != nil {
		return nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	binary.BigEndian.PutUint32(nonce[:4], tag)
	binary.BigEndian.PutUint64(nonce[4:], seq)
	out := make([]byte, 8, SealOverhead+len(plaintext))
	binary.BigEndian.PutUint64(out, seq)
	return aead.Seal(out, nonce[:], plaintext, aad), nil
}

// aead returns the cipher for our sending (send) or the peer's sending
// direction and that direction's nonce tag. The key is copied under the
// lock and erased once the cipher holds it. Errors: ErrSessionClosed.
func (s *Session) aead(send bool) (cipher.AEAD, uint32, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, 0, ErrSessionClosed
	}
	key, tag := s.recvSeal, s.recvTag
	if send {
		key, tag = s.sendSeal, s.sendTag
	}
	s.mu.Unlock()
	defer clear(key[:])
	a, err := chacha20poly1305.New(key[:])
	if err != nil { // unreachable: the key is 32 bytes
		return nil, 0, fmt.Errorf("session: %w", err)
	}
	return a, tag, nil
}

// Open decrypts a payload the peer sealed with Seal and the same aad. It
// returns ErrOpen (which matches security.ErrBadSignature) if sealed is
// shorter than SealOverhead or does not authenticate, and ErrSessionClosed
// after Close. It does not check replay: a sealed payload travels inside a
// packet that VerifyInterest or VerifyData has already checked. The
// plaintext is fresh; sealed and aad are not retained. Safe for concurrent
// use.
func (s *Session) Open(aad, sealed []byte) ([]byte, error) {
	if len(sealed) < SealOverhead {
		return nil, ErrOpen
	}
	aead, tag, err := s.aead(false)
	if err != nil {
		return nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	binary.BigEndian.PutUint32(nonce[:4], tag)
	copy(nonce[4:], sealed[:8])
	pt, err := aead.Open(nil, nonce[:], sealed[8:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Close ends the session: it zeroes the keys, after which signing, verifying,
// sealing and opening return ErrSessionClosed. Idempotent; safe for
// concurrent use.
func (s *Session) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	clear(s.sendMAC[:])
	clear(s.recvMAC[:])
	clear(s.sendSeal[:])
	clear(s.recvSeal[:])
}

// Closed reports whether Close has been called.
func (s *Session) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// checkMAC reports whether mac is HMAC-SHA256(key, covered), in constant
// time.
func checkMAC(key *[32]byte, covered enc.Wire, mac []byte) bool {
	return hmac.Equal(computeMAC(key, covered), mac)
}

func computeMAC(key *[32]byte, covered enc.Wire) []byte {
	m := hmac.New(sha256.New, key[:])
	for _, b := range covered {
		m.Write(b)
	}
	return m.Sum(nil)
}

// sessionSigner is the ndn.Signer Session.Signer returns.
type sessionSigner struct{ s *Session }

// Type is ndn.SignatureHmacWithSha256.
func (g *sessionSigner) Type() ndn.SigType { return ndn.SignatureHmacWithSha256 }

// KeyName is the session name. Callers must not modify it.
func (g *sessionSigner) KeyName() enc.Name { return g.s.name }

// KeyLocator is the session name. Callers must not modify it.
func (g *sessionSigner) KeyLocator() enc.Name { return g.s.name }

// EstimateSize is the HMAC-SHA256 length, 32.
func (g *sessionSigner) EstimateSize() uint { return sha256.Size }

// Sign returns HMAC-SHA256 of covered under this end's MAC key, or
// ErrSessionClosed.
func (g *sessionSigner) Sign(covered enc.Wire) ([]byte, error) {
	s := g.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrSessionClosed
	}
	key := s.sendMAC
	s.mu.Unlock()
	defer clear(key[:])
	return computeMAC(&key, covered), nil
}

// Public returns ndn.ErrNoPubKey: an HMAC key has no public half.
func (g *sessionSigner) Public() ([]byte, error) { return nil, ndn.ErrNoPubKey }
