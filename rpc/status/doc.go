// Package status is the error type of ndn-invoke calls: a code from rpc/codes,
// a human-readable message and optional opaque details, as in gRPC.
//
// The main type is Status. A *Status is an error; handlers return one (or a
// context error) to choose the code the caller sees, and anything else reaches
// the caller as codes.Unknown. Callers inspect errors with Code, FromError or
// errors.Is, never by matching error text:
//
//	func (s *kv) get(ctx context.Context, key string) ([]byte, error) {
//		v, ok := s.m[key]
//		if !ok {
//			return nil, status.Errorf(codes.NotFound, "key %q", key)
//		}
//		return v, nil
//	}
//
//	if status.Code(err) == codes.NotFound { ... }
//	if errors.Is(err, status.New(codes.NotFound, "")) { ... }
//
// Status values are plain data: functions in this package do no I/O, start no
// goroutines and are safe for concurrent use. A *Status shared between
// goroutines must not be modified; WithDetails returns a copy for that reason.
package status
