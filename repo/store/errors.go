package store

import "errors"

// Errors returned by the store. Callers test for them with errors.Is; most
// are wrapped with detail.
var (
	// ErrNotFound means no stored packet matches the query.
	ErrNotFound = errors.New("store: not found")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("store: closed")
	// ErrIO wraps a failure of the underlying database or file system:
	// the directory cannot be created or opened, the disk is full, the file
	// system is read-only, or a commit failed. A Put or Delete that returns
	// ErrIO did not take effect; the store on disk is left consistent.
	ErrIO = errors.New("store: i/o error")
	// ErrLocked means another process (or another Store) holds the
	// database open; Open gave up after Config.LockTimeout.
	ErrLocked = errors.New("store: database locked by another process")
	// ErrCorrupt means a stored record could not be decoded.
	ErrCorrupt = errors.New("store: corrupt record")
	// ErrBadKey means a database key is not a valid NameKey encoding.
	ErrBadKey = errors.New("store: bad key")
	// ErrInvalidData means the wire given to Put is not a well-formed NDN
	// Data packet, is larger than Config.MaxPacketSize, or carries a name
	// other than the one given.
	ErrInvalidData = errors.New("store: invalid data")
	// ErrInvalidName means a name cannot be stored (it is empty or its key
	// is longer than the database allows).
	ErrInvalidName = errors.New("store: invalid name")
	// ErrBadPageToken means the page token given to List was not returned
	// by an earlier List with the same prefix.
	ErrBadPageToken = errors.New("store: bad page token")
	// ErrInvalidConfig is wrapped by Config.Validate errors.
	ErrInvalidConfig = errors.New("store: invalid config")
)
