package rpc

import (
	"reflect"
	"sort"
	"strings"

	enc "github.com/named-data/ndnd/std/encoding"
)

// Description is what <svc>/_describe returns (as JSON).
type Description struct {
	Service string              `json:"service"`
	Version string              `json:"version,omitempty"`
	Methods []MethodDescription `json:"methods"`
	// Operations tells where a service with long-running methods keeps
	// their records.
	Operations *OpsDescription `json:"operations,omitempty"`
}

// OpsDescription is where a service keeps its operations: the ops prefix
// and, when its OpStore is a repo (implements OpsRepo), the repo's prefix,
// whose list command lists them (Client.ListOps).
type OpsDescription struct {
	Prefix string `json:"prefix"`
	Repo   string `json:"repo,omitempty"`
}

// OpsRepo is implemented by an OpStore backed by a repo (repo.OpStore):
// RepoName is the repo's command prefix.
type OpsRepo interface {
	RepoName() enc.Name
}

// MethodDescription describes one method.
type MethodDescription struct {
	Name           string `json:"name"`
	Description    string `json:"description,omitempty"`
	Public         bool   `json:"public"`
	CacheTTLMillis int64  `json:"cacheable_ttl_ms,omitempty"`
	Idempotent     bool   `json:"idempotent"`
	TimeoutMillis  int64  `json:"timeout_ms,omitempty"`
	Notification   bool   `json:"notification,omitempty"`  // fire-and-forget: acknowledged, no result
	Stream         bool   `json:"stream,omitempty"`        // server stream: Response describes each item
	ClientStream   bool   `json:"client_stream,omitempty"` // the client streams items (Upstream), the server answers once (Response)
	BidiStream     bool   `json:"bidi_stream,omitempty"`   // both stream: Upstream describes the client's items, Response the server's
	LongRunning    bool   `json:"long_running,omitempty"`  // answers with an operation; Response describes its result
	Request        any    `json:"request,omitempty"`
	Response       any    `json:"response,omitempty"`
	Upstream       any    `json:"upstream,omitempty"` // the shape of a client's stream items
}

func (s *Server) describe() Description {
	d := Description{Service: s.cfg.Service.String(), Version: s.cfg.Version, Methods: []MethodDescription{}}
	for _, m := range s.list() {
		if strings.HasPrefix(m.name, "_") {
			continue // internal (_ops.cancel)
		}
		d.Methods = append(d.Methods, MethodDescription{
			Name: m.name, Description: m.opts.Description, Public: m.opts.Public,
			CacheTTLMillis: m.opts.CacheTTL.Milliseconds(), Idempotent: m.opts.Idempotent,
			TimeoutMillis: m.opts.Timeout.Milliseconds(), Notification: m.opts.Notification, Stream: m.stream != nil, LongRunning: m.op != nil,
			Request: shape(reflect.TypeOf(m.opts.RequestType), 0), Response: shape(reflect.TypeOf(m.opts.ResponseType), 0),
			ClientStream: m.upload != nil, BidiStream: m.bidi != nil, Upstream: shape(reflect.TypeOf(m.opts.UpstreamType), 0),
		})
	}
	if s.cfg.Ops != nil {
		d.Operations = &OpsDescription{Prefix: s.opsPrefix().String()}
		if r, ok := s.cfg.Ops.Store.(OpsRepo); ok {
			d.Operations.Repo = r.RepoName().String()
		}
	}
	return d
}

// shape renders a Go type as a JSON-like sketch of its encoding: field
// names (from json tags) mapped to type names, e.g. {"a":"number","b":"number"}.
func shape(t reflect.Type, depth int) any {
	if t == nil {
		return nil
	}
	if depth > 6 {
		return "…"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		out := map[string]any{}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := f.Name
			if tag, ok := f.Tag.Lookup("json"); ok {
				n, _, _ := strings.Cut(tag, ",")
				if n == "-" {
					continue
				}
				if n != "" {
					name = n
				}
			}
			out[name] = shape(f.Type, depth+1)
		}
		return out
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return []any{shape(t.Elem(), depth+1)}
	case reflect.Map:
		return map[string]any{"<" + t.Key().Kind().String() + ">": shape(t.Elem(), depth+1)}
	case reflect.Bool:
		return "bool"
	case reflect.String:
		return "string"
	case reflect.Interface:
		return "any"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	default:
		return t.Kind().String()
	}
}

func sortedKeys(md Metadata) []string {
	ks := make([]string, 0, len(md))
	for k := range md {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
