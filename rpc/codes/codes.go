package codes

import (
	"errors"
	"fmt"
	"strconv"
)

// Code is a status code, as in gRPC. Its numeric value is part of the wire
// format. Values outside the 17 defined codes may arrive from a newer peer;
// Valid reports false for them and callers should treat them as Unknown.
type Code uint32

// The status codes. The comments follow gRPC's documentation of each code.
const (
	// OK is returned on success.
	OK Code = 0

	// Canceled indicates the operation was canceled, typically by the caller.
	Canceled Code = 1

	// Unknown indicates an unknown error, for example a status from another
	// address space that this one does not know, or an error from a handler
	// that carried no status.
	Unknown Code = 2

	// InvalidArgument indicates the client specified an invalid argument,
	// one that is wrong whatever the state of the system (unlike
	// FailedPrecondition).
	InvalidArgument Code = 3

	// DeadlineExceeded means the operation expired before completion. For
	// operations that change state it may be returned even if the operation
	// completed successfully.
	DeadlineExceeded Code = 4

	// NotFound means some requested entity (a file, a key, a method) was not
	// found.
	NotFound Code = 5

	// AlreadyExists means an attempt to create an entity failed because one
	// already exists.
	AlreadyExists Code = 6

	// PermissionDenied indicates the caller does not have permission to
	// execute the operation. It is not used when the caller could not be
	// identified (use Unauthenticated) or when a resource is exhausted (use
	// ResourceExhausted).
	PermissionDenied Code = 7

	// ResourceExhausted indicates some resource has been exhausted, perhaps a
	// per-user quota, or the entire file system is out of space.
	ResourceExhausted Code = 8

	// FailedPrecondition indicates the operation was rejected because the
	// system is not in a state required for its execution, for example a
	// directory to delete is not empty. The client should not retry until
	// the system state has been explicitly fixed.
	FailedPrecondition Code = 9

	// Aborted indicates the operation was aborted, typically due to a
	// concurrency issue such as a sequencer check failure or a transaction
	// abort. The client may retry at a higher level.
	Aborted Code = 10

	// OutOfRange means the operation was attempted past the valid range, for
	// example seeking or reading past end of file. Unlike InvalidArgument,
	// it indicates a problem that may be fixed if the system state changes.
	OutOfRange Code = 11

	// Unimplemented indicates the operation is not implemented or not
	// supported/enabled in this service.
	Unimplemented Code = 12

	// Internal means some invariant expected by the underlying system has
	// been broken. This code is reserved for serious errors.
	Internal Code = 13

	// Unavailable indicates the service is currently unavailable, most
	// likely a transient condition that a retry with backoff may correct.
	// A Nack NoRoute maps to this code. It is not always safe to retry
	// non-idempotent operations.
	Unavailable Code = 14

	// DataLoss indicates unrecoverable data loss or corruption.
	DataLoss Code = 15

	// Unauthenticated indicates the request does not have valid
	// authentication credentials for the operation; on the client, a reply
	// whose signature does not verify.
	Unauthenticated Code = 16
)

// maxCode is one past the last defined code.
const maxCode = 17

// names holds the gRPC spelling of each code, indexed by value. It is never
// modified.
var names = [maxCode]string{
	OK:                 "OK",
	Canceled:           "Canceled",
	Unknown:            "Unknown",
	InvalidArgument:    "InvalidArgument",
	DeadlineExceeded:   "DeadlineExceeded",
	NotFound:           "NotFound",
	AlreadyExists:      "AlreadyExists",
	PermissionDenied:   "PermissionDenied",
	ResourceExhausted:  "ResourceExhausted",
	FailedPrecondition: "FailedPrecondition",
	Aborted:            "Aborted",
	OutOfRange:         "OutOfRange",
	Unimplemented:      "Unimplemented",
	Internal:           "Internal",
	Unavailable:        "Unavailable",
	DataLoss:           "DataLoss",
	Unauthenticated:    "Unauthenticated",
}

// upperNames holds the proto enum spelling of each code (the form in
// google.rpc.Code and in gRPC's JSON), indexed by value. It is never modified.
var upperNames = [maxCode]string{
	OK:                 "OK",
	Canceled:           "CANCELLED",
	Unknown:            "UNKNOWN",
	InvalidArgument:    "INVALID_ARGUMENT",
	DeadlineExceeded:   "DEADLINE_EXCEEDED",
	NotFound:           "NOT_FOUND",
	AlreadyExists:      "ALREADY_EXISTS",
	PermissionDenied:   "PERMISSION_DENIED",
	ResourceExhausted:  "RESOURCE_EXHAUSTED",
	FailedPrecondition: "FAILED_PRECONDITION",
	Aborted:            "ABORTED",
	OutOfRange:         "OUT_OF_RANGE",
	Unimplemented:      "UNIMPLEMENTED",
	Internal:           "INTERNAL",
	Unavailable:        "UNAVAILABLE",
	DataLoss:           "DATA_LOSS",
	Unauthenticated:    "UNAUTHENTICATED",
}

// ErrInvalidCode is returned, wrapped with the offending text, by
// UnmarshalText when the text names no code.
var ErrInvalidCode = errors.New("codes: invalid code")

// Valid reports whether c is one of the 17 defined codes.
func (c Code) Valid() bool { return c < maxCode }

// String returns the gRPC spelling of c, e.g. "DeadlineExceeded", or
// "Code(N)" for a value outside the defined codes.
func (c Code) String() string {
	if c.Valid() {
		return names[c]
	}
	return "Code(" + strconv.FormatUint(uint64(c), 10) + ")"
}

// MarshalText implements encoding.TextMarshaler. A defined code marshals to
// its String form; any other value marshals to its decimal number, so that
// UnmarshalText round-trips every Code. It never returns an error.
func (c Code) MarshalText() ([]byte, error) {
	if c.Valid() {
		return []byte(names[c]), nil
	}
	return strconv.AppendUint(nil, uint64(c), 10), nil
}

// UnmarshalText implements encoding.TextUnmarshaler. It accepts the gRPC
// spelling ("DeadlineExceeded"), the proto enum spelling
// ("DEADLINE_EXCEEDED"; both "CANCELLED" and "CANCELED" for Canceled) and a
// decimal number that fits in 32 bits (which need not be a defined code, so
// codes from a newer peer survive). Other text returns an error wrapping
// ErrInvalidCode and leaves *c unchanged.
func (c *Code) UnmarshalText(text []byte) error {
	s := string(text)
	for i := Code(0); i < maxCode; i++ {
		if s == names[i] || s == upperNames[i] {
			*c = i
			return nil
		}
	}
	if s == "CANCELED" {
		*c = Canceled
		return nil
	}
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			*c = Code(n)
			return nil
		}
	}
	return fmt.Errorf("%w %q", ErrInvalidCode, s)
}
