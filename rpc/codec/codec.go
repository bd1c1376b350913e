package codec

import (
	"errors"
	"fmt"
	"sync"
)

// Codec converts values to and from payload bytes.
//
// Implementations must be safe for concurrent use. Marshal must be
// deterministic (equal values give equal bytes) if the codec is used for
// cacheable methods; see the package doc. Unmarshal must not keep data after
// it returns, since the caller may reuse the buffer.
type Codec interface {
	// Name is the codec's wire name (the content type), e.g. "json". It is
	// non-empty and constant for the codec's lifetime.
	Name() string
	// Marshal encodes v. The caller owns the result unless the codec's doc
	// says it aliases v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, which is usually a pointer.
	Unmarshal(data []byte, v any) error
}

// Names of the built-in codecs.
const (
	NameJSON  = "json"
	NameRaw   = "raw"
	NameProto = "proto"
)

// Errors returned by the codecs and the registry. Codecs wrap them with %w
// and add the type or name involved; match them with errors.Is.
var (
	// ErrUnsupportedType means the codec cannot handle v's type (for
	// example a non-proto value given to Proto), or v is a nil pointer or a
	// non-pointer where Unmarshal needs somewhere to decode into.
	ErrUnsupportedType = errors.New("codec: unsupported type")

	// ErrMalformed means Unmarshal was given data that does not decode into
	// v. A server maps it to codes.InvalidArgument.
	ErrMalformed = errors.New("codec: malformed data")

	// ErrDuplicate means Register was given a codec whose name is already
	// registered.
	ErrDuplicate = errors.New("codec: duplicate name")

	// ErrInvalidCodec means Register was given a nil codec or one with an
	// empty name.
	ErrInvalidCodec = errors.New("codec: invalid codec")
)

// registry maps names to codecs. See "The registry" in the package doc for
// why this is package-level state.
var registry = struct {
	mu     sync.RWMutex
	codecs map[string]Codec
}{
	codecs: map[string]Codec{
		NameJSON:  JSON{},
		NameRaw:   Raw{},
		NameProto: Proto{},
	},
}

// Get returns the codec registered under name, and whether there is one.
// The built-in "json", "raw" and "proto" are always present. Get does not
// block except briefly against a concurrent Register.
func Get(name string) (Codec, bool) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	c, ok := registry.codecs[name]
	return c, ok
}

// Register adds c to the registry under c.Name(). It returns an error
// wrapping ErrInvalidCodec if c is nil or its name is empty, and one wrapping
// ErrDuplicate if the name is taken (including by a built-in); the registry
// is unchanged on error. Registrations last for the life of the process, so
// call Register during initialization. It is safe for concurrent use.
func Register(c Codec) error {
	if c == nil {
		return ErrInvalidCodec
	}
	name := c.Name()
	if name == "" {
		return fmt.Errorf("%w: %T has an empty name", ErrInvalidCodec, c)
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, ok := registry.codecs[name]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicate, name)
	}
	registry.codecs[name] = c
	return nil
}
