package groupsync

import "errors"

// Errors returned by Join, Close and Config.Validate. Match them with
// errors.Is; they are wrapped with detail.
var (
	// ErrBadConfig is returned by Config.Validate and Join for a
	// configuration that cannot work.
	ErrBadConfig = errors.New("groupsync: bad config")
	// ErrBadState is returned by Join when the state the Sink saved for the
	// group cannot be decoded. Delete it to start over (every publication
	// is then fetched and stored again, which is harmless).
	ErrBadState = errors.New("groupsync: saved state is corrupt")
	// ErrNoVerifier is returned by Join when Config.Verify is set and the
	// node has no trust anchors to verify with.
	ErrNoVerifier = errors.New("groupsync: Verify needs a node with trust anchors")
	// ErrSink wraps an error returned by the Sink.
	ErrSink = errors.New("groupsync: sink failed")
)
