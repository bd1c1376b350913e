package ndn

import (
	"errors"
	"fmt"

	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
)

// Errors returned by Node methods. ndnd's own outcomes (timeout, Nack, face
// down) are translated into these once, here, so upper layers map them to
// status codes with errors.Is.
var (
	// ErrClosed is returned by every method of a closed Node.
	ErrClosed = errors.New("ndn: node closed")
	// ErrNoForwarder is returned by Connect when nothing answers at the
	// transport address. The error text says how to start one.
	ErrNoForwarder = errors.New("ndn: no NDN forwarder")
	// ErrBadTransport is returned by Connect for a transport URI it cannot use.
	ErrBadTransport = errors.New("ndn: bad transport")
	// ErrFaceDown means the connection to the forwarder is down (it is being
	// re-established in the background).
	ErrFaceDown = errors.New("ndn: connection to forwarder is down")
	// ErrTimeout means an Interest got no answer within its lifetime.
	ErrTimeout = errors.New("ndn: interest timed out")
	// ErrNack is matched by every *NackError.
	ErrNack = errors.New("ndn: interest nacked")
	// ErrRegister is returned when the forwarder refuses or does not answer a
	// prefix registration or another management command (SetStrategy).
	ErrRegister = errors.New("ndn: prefix registration failed")
	// ErrBadReply means a Data packet failed verification.
	ErrBadReply = errors.New("ndn: reply failed verification")
)

// NackError reports a network Nack; it matches ErrNack with errors.Is.
type NackError struct {
	// Reason is the NDNLPv2 Nack reason code (spec.NackReasonNoRoute, ...).
	Reason uint64
}

// Error names the Nack reason.
func (e *NackError) Error() string {
	return fmt.Sprintf("ndn: interest nacked: %s", nackReasonString(e.Reason))
}

// Is reports whether target is ErrNack.
func (e *NackError) Is(target error) bool { return target == ErrNack }

// NoRoute reports whether the Nack means no route to the name.
func (e *NackError) NoRoute() bool { return e.Reason == spec.NackReasonNoRoute }

func nackReasonString(r uint64) string {
	switch r {
	case spec.NackReasonCongestion:
		return "congestion"
	case spec.NackReasonDuplicate:
		return "duplicate"
	case spec.NackReasonNoRoute:
		return "no route"
	default:
		return fmt.Sprintf("reason %d", r)
	}
}
