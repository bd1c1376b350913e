package repo

import "errors"

// Repo errors. Store errors (store.ErrNotFound, store.ErrIO, ...) pass
// through wrapped.
var (
	// ErrInvalidConfig reports a Config that Validate rejects.
	ErrInvalidConfig = errors.New("repo: invalid config")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("repo: closed")
	// ErrNoJob reports an unknown (or expired) insert job id.
	ErrNoJob = errors.New("repo: no such job")
	// ErrBadRequest reports a command with missing or malformed arguments.
	ErrBadRequest = errors.New("repo: bad request")
	// ErrNotJoined reports a leave for a group the repo is not in.
	ErrNotJoined = errors.New("repo: not a member of the group")
)
