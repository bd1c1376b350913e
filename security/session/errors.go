package session

import (
	"errors"

	"github.com/ndn-invoke/ndn-invoke/security"
)

// Errors about handshake messages and local misuse. They are not
// authentication failures: a peer that sends a malformed hello is broken or
// hostile, and the caller decides how to answer.
var (
	// ErrMalformed means a handshake message is not the strict TLV encoding
	// described in the package doc (wrong type, bad length, unknown or
	// repeated field, non-minimal number, trailing bytes, zero lifetime).
	ErrMalformed = errors.New("session: malformed handshake message")
	// ErrBadKeyShare means the peer's X25519 key is a low-order point: the
	// shared secret would be all zero, which an attacker could predict.
	ErrBadKeyShare = errors.New("session: peer key share yields an all-zero secret")
	// ErrHandshakeDone means Finish was called on a ClientHandshake that
	// already finished or was erased; its private key is gone.
	ErrHandshakeDone = errors.New("session: handshake already finished")
	// ErrInvalidSeq means Seal was given sequence number 0, which NextSeq
	// never returns: the caller forgot to take a fresh one, and reusing a
	// sequence number would reuse an AEAD nonce.
	ErrInvalidSeq = errors.New("session: sequence number 0 is reserved (use NextSeq)")
)

// Errors for packets and payloads that fail on a session. Each matches
// security.ErrUnauthenticated with errors.Is, so the rpc layer answers
// codes.Unauthenticated and the client starts a new handshake. Signature and
// replay failures wrap security.ErrBadSignature, ErrNoSignature or ErrReplay
// directly (see Session.VerifyInterest).
var (
	// ErrSessionClosed means the session was closed (or evicted from a
	// Table) and its keys erased.
	ErrSessionClosed = classErr(security.ErrUnauthenticated, "session: closed")
	// ErrSessionExpired means the session's lifetime has passed.
	ErrSessionExpired = classErr(security.ErrUnauthenticated, "session: expired")
	// ErrOpen means a sealed payload does not authenticate: it was altered,
	// truncated, sealed under another session or direction, or opened with
	// different associated data (packet name). It matches
	// security.ErrBadSignature as well.
	ErrOpen = classErr(security.ErrBadSignature, "session: sealed payload does not authenticate")
)

// classedError is a sentinel that also matches its class (and the class's
// own classes) with errors.Is.
type classedError struct {
	class error
	msg   string
}

func classErr(class error, msg string) error { return &classedError{class: class, msg: msg} }

func (e *classedError) Error() string { return e.msg }

// Is reports whether target is e's class or one of its classes, so
// errors.Is(ErrOpen, security.ErrUnauthenticated) holds.
func (e *classedError) Is(target error) bool {
	return target == e.class || errors.Is(e.class, target)
}
