package pyrepo

import (
	"errors"
	"fmt"
)

// Errors returned by this package.
var (
	// ErrMalformed is matched by every decoding error: truncated or
	// overlong TLV, unknown TLV-TYPE, missing required field, repeated
	// field.
	ErrMalformed = errors.New("pyrepo: malformed TLV")
	// ErrTopicMismatch means a fetched message Data is not the one the
	// notification names: another topic (an insert message offered for a
	// delete notification), publisher or nonce.
	ErrTopicMismatch = errors.New("pyrepo: message Data does not match the notification")
	// ErrClosed is returned by a closed Server or Client.
	ErrClosed = errors.New("pyrepo: closed")
	// ErrNoIdentity is returned by Serve and NewClient for a node without
	// an identity (to sign) or trust anchors (to verify).
	ErrNoIdentity = errors.New("pyrepo: the node needs an identity and trust anchors")
	// ErrNoAck is returned by Client.Publish when no repo acknowledged the
	// notify Interest.
	ErrNoAck = errors.New("pyrepo: the repo did not acknowledge the command")
	// ErrCommandFailed is matched by every *StatusError.
	ErrCommandFailed = errors.New("pyrepo: command failed")
)

// StatusError reports a command that ended with a status of 400 or above
// (FAILED, MALFORMED, NOT-FOUND). It matches ErrCommandFailed.
type StatusError struct {
	// Result is the repo's last answer.
	Result *CommandRes
}

// Error names the status and the objects that did not complete.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("pyrepo: command ended with %d %s", uint64(e.Result.Status), e.Result.Status)
	for _, o := range e.Result.Objects {
		if o.Status != StatusCompleted {
			msg += fmt.Sprintf("; %s: %s", o.Name, o.Status)
		}
	}
	for _, g := range e.Result.SyncGroups {
		if g.Status != StatusCompleted {
			msg += fmt.Sprintf("; %s: %s", g.Name, g.Status)
		}
	}
	return msg
}

// Is reports whether target is ErrCommandFailed.
func (e *StatusError) Is(target error) bool { return target == ErrCommandFailed }
