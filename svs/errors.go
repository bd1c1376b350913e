package svs

import "errors"

// Errors returned by this package. Match them with errors.Is; they are
// wrapped with detail.
var (
	// ErrBadConfig is returned by Config.Validate and Join for a
	// configuration that cannot work.
	ErrBadConfig = errors.New("svs: bad config")
	// ErrNoVerifier is returned by Join when the node has no trust anchors:
	// every packet of the group is verified, so it needs them.
	ErrNoVerifier = errors.New("svs: node has no trust anchors to verify the group with")
	// ErrNoIdentity is returned by Join when neither Config.Identity nor the
	// node has an identity: every packet of the group is signed.
	ErrNoIdentity = errors.New("svs: no identity to sign with")
	// ErrClosed is returned by the methods of a Group that left or closed.
	ErrClosed = errors.New("svs: group closed")
	// ErrPayloadTooLarge is returned by SendEvent and Query for a payload
	// over Config.MaxPayload.
	ErrPayloadTooLarge = errors.New("svs: payload too large")
	// ErrBadName is returned by SendEvent and Query for an event or query
	// name that is empty, longer than MaxNameLen or not valid UTF-8.
	ErrBadName = errors.New("svs: bad event or query name")
	// ErrBadFilter is returned by Query for a Filter that is not a name
	// pattern (see QueryOptions.Filter).
	ErrBadFilter = errors.New("svs: bad query filter")
	// ErrPublish is returned when a publication could not be signed or
	// announced.
	ErrPublish = errors.New("svs: publish failed")
)
