package ndndrepo

import "errors"

// Errors returned by this package. Parse errors wrap ErrNotCommand or
// ErrMalformed with a detail; callers test them with errors.Is.
var (
	// ErrInvalidConfig reports a Config that Validate rejects, or a nil
	// node or Backend given to Serve.
	ErrInvalidConfig = errors.New("ndndrepo: invalid config")
	// ErrNoTrust is returned by Serve when the node has no trust anchors:
	// the server verifies every command against them, so it cannot run
	// without (unlike ndnd's repo, it never accepts unverified commands).
	ErrNoTrust = errors.New("ndndrepo: node has no trust anchors")
	// ErrNotCommand means the bytes are not a RepoCmd: not a sequence of
	// whole TLVs, or one holding no SyncJoin, BlobFetch or SyncLeave. In
	// a group publication this is ordinary application data.
	ErrNotCommand = errors.New("ndndrepo: not a repo command")
	// ErrMalformed means the bytes claim to be a command (or a command
	// Data, or a response) but break its format: a length beyond its
	// parent, a field of the wrong shape, a name component of 253 bytes
	// or more, a missing signature, or a field ndnd's parser rejects.
	ErrMalformed = errors.New("ndndrepo: malformed command")
)
