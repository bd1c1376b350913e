// Package codec turns call payloads into bytes and back.
//
// A Codec has a name, which travels on the wire as the Request's content type,
// so the server picks the same codec the caller used. Three are built in and
// always registered: JSON ("json", encoding/json), Raw ("raw", payloads that
// already are bytes) and Proto ("proto", protocol buffers). Others may be
// added with Register and are found with Get:
//
//	c, ok := codec.Get(req.ContentType)
//	if !ok {
//		return status.Errorf(codes.InvalidArgument, "unknown content type %q", req.ContentType)
//	}
//	var args AddArgs
//	if err := c.Unmarshal(req.Payload, &args); err != nil {
//		return status.Error(codes.InvalidArgument, err.Error())
//	}
//
// # Deterministic encoding
//
// Public, cacheable methods put the SHA-256 of the encoded arguments in the
// Interest name, so that identical calls share one name and the forwarder
// answers repeats from its Content Store. That only works if equal values
// encode to equal bytes, so every built-in Marshal is deterministic for a
// given value and program version: JSON emits struct fields in declaration
// order and sorts map keys (encoding/json guarantees both), Proto marshals
// with proto.MarshalOptions{Deterministic: true}, which sorts map entries, and
// Raw returns the bytes it was given. A registered codec for cacheable
// methods must keep this property too. (Proto's deterministic output is not
// canonical across protobuf library versions; pin the module, as go.mod does.)
//
// # The registry
//
// The registry is package-level state, the one exception to the project's
// rule against it (STYLE C5). Codec names are a wire vocabulary shared by
// every Server and Client in a process, like encoding/gob's type registry or
// grpc's encoding.RegisterCodec, and passing a registry through every Config
// would let two components in one process disagree on what "json" means. It
// is read-mostly, guarded by a mutex, and Register reports a clash as an
// error rather than replacing or panicking.
//
// All Codecs, Get and Register are safe for concurrent use; nothing in this
// package starts goroutines or calls back into user code other than the
// marshal methods of the values it encodes.
package codec
