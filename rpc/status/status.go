package status

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
)

// Status is the outcome of a call: the code and message carried in the
// Response TLV, plus optional details.
//
// A *Status implements error. The zero Status, like a nil *Status, means
// codes.OK. A Status is not safe to modify while other goroutines read it;
// treat a *Status you did not create as read-only.
type Status struct {
	// Code classifies the outcome. Values outside the defined codes may come
	// from a newer peer and should be treated like codes.Unknown.
	Code codes.Code

	// Message is a developer-facing description of the error, in English.
	// It is not meant for end users and callers must not parse it.
	Message string

	// Details holds opaque bytes (for example JSON) carried on the wire
	// unchanged; their format is agreed between service and caller. Nil
	// means none.
	Details []byte
}

// New returns a Status with code c and message msg, and no details. It does
// not return an error: use Err, or Error/Errorf, for that.
func New(c codes.Code, msg string) *Status {
	return &Status{Code: c, Message: msg}
}

// Newf is like New with the message formatted by fmt.Sprintf.
func Newf(c codes.Code, format string, a ...any) *Status {
	return New(c, fmt.Sprintf(format, a...))
}

// Error returns an error with code c and message msg, or nil if c is
// codes.OK. It is New(c, msg).Err().
func Error(c codes.Code, msg string) error {
	return New(c, msg).Err()
}

// Errorf returns an error with code c and the message formatted by
// fmt.Sprintf, or nil if c is codes.OK. As in gRPC, the message is plain
// text: the result wraps none of a's errors, and go vet rejects %w here.
func Errorf(c codes.Code, format string, a ...any) error {
	return Error(c, fmt.Sprintf(format, a...))
}

// Err returns s as an error, or nil if s is nil or its code is codes.OK, so
// that `return st.Err()` is correct for every outcome. The returned error is
// s itself.
func (s *Status) Err() error {
	if s == nil || s.Code == codes.OK {
		return nil
	}
	return s
}

// Error implements error, formatting s as
// "rpc error: code = NotFound desc = <message>". A nil *Status formats as OK.
// The text is for people; compare codes with Code or errors.Is instead.
func (s *Status) Error() string {
	c, msg := codes.OK, ""
	if s != nil {
		c, msg = s.Code, s.Message
	}
	return fmt.Sprintf("rpc error: code = %s desc = %s", c, msg)
}

// WithDetails returns a copy of s whose Details are a copy of b; s is not
// modified and the caller keeps ownership of b. A nil s is treated as an OK
// Status.
func (s *Status) WithDetails(b []byte) *Status {
	var c Status
	if s != nil {
		c = *s
	}
	c.Details = bytes.Clone(b)
	return &c
}

// Is reports whether target is a *Status with the same code as s; messages
// and details are ignored. It makes errors.Is(err, status.New(codes.NotFound, ""))
// true for any NotFound status in err's chain. A nil s has code OK.
func (s *Status) Is(target error) bool {
	t, ok := target.(*Status)
	if !ok {
		return false
	}
	return codeOf(s) == codeOf(t)
}

func codeOf(s *Status) codes.Code {
	if s == nil {
		return codes.OK
	}
	return s.Code
}

// FromError returns the Status carried by err and true, finding it with
// errors.As so wrapped statuses are found too. If err is nil it returns an
// OK Status and true. If err carries no Status it returns a Status with
// codes.Unknown and err.Error() as message, and false.
//
// When the Status is found inside a wrapping error, the returned Status has
// the wrapping error's full text as its Message (so context added by
// fmt.Errorf("...: %w", st) is kept), and the original code and details. The
// returned Status is a fresh value the caller may modify, except that Details
// shares the original's backing array.
func FromError(err error) (*Status, bool) {
	if err == nil {
		return New(codes.OK, ""), true
	}
	var st *Status
	if errors.As(err, &st) {
		c := New(codeOf(st), "")
		if st != nil {
			c.Message = st.Message
			c.Details = st.Details
		}
		if err != error(st) {
			c.Message = wrappedMessage(err, st)
		}
		return c, true
	}
	return New(codes.Unknown, err.Error()), false
}

// wrappedMessage returns the text of err with the inner status's
// "rpc error: ..." text replaced by its bare message, so that
// fmt.Errorf("load: %w", st) yields "load: <message>" and the status format
// does not nest when the Status is sent on and formatted again.
func wrappedMessage(err error, st *Status) string {
	msg := ""
	if st != nil {
		msg = st.Message
	}
	return strings.Replace(err.Error(), st.Error(), msg, 1)
}

// Code returns the code of the Status carried by err: codes.OK if err is
// nil, codes.Unknown if err carries no Status. Wrapped statuses are found
// with errors.As. Context errors are not mapped here; see FromContextError.
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	var st *Status
	if errors.As(err, &st) {
		return codeOf(st)
	}
	return codes.Unknown
}

// Convert is FromError without the boolean: it always returns a non-nil
// Status, codes.Unknown for an error that carries none.
func Convert(err error) *Status {
	st, _ := FromError(err)
	return st
}

// FromContextError maps a context error to a Status: nil to OK,
// context.Canceled to Canceled and context.DeadlineExceeded to
// DeadlineExceeded (also when wrapped, checked with errors.Is), and any other
// error to Unknown. The message is err.Error().
func FromContextError(err error) *Status {
	switch {
	case err == nil:
		return New(codes.OK, "")
	case errors.Is(err, context.DeadlineExceeded):
		return New(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return New(codes.Canceled, err.Error())
	default:
		return New(codes.Unknown, err.Error())
	}
}
