package codec

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type args struct {
	B    int               `json:"b"`
	A    string            `json:"a,omitempty"`
	Tags map[string]string `json:"tags,omitempty"`
}

func TestMarshal(t *testing.T) {
	t.Parallel()
	b := []byte("hello")
	tests := []struct {
		name    string
		codec   Codec
		in      any
		want    []byte
		wantErr error
	}{
		{name: "json struct", codec: JSON{}, in: args{B: 1, A: "x"}, want: []byte(`{"b":1,"a":"x"}`)},
		{name: "json map sorted", codec: JSON{}, in: map[string]int{"z": 1, "a": 2, "m": 3}, want: []byte(`{"a":2,"m":3,"z":1}`)},
		{name: "json nil", codec: JSON{}, in: nil, want: []byte("null")},
		{name: "json chan", codec: JSON{}, in: make(chan int), wantErr: ErrUnsupportedType},
		{name: "json func field", codec: JSON{}, in: struct{ F func() }{}, wantErr: ErrUnsupportedType},
		{name: "json NaN", codec: JSON{}, in: math.NaN(), wantErr: errAny},
		{name: "raw bytes", codec: Raw{}, in: b, want: b},
		{name: "raw pointer", codec: Raw{}, in: &b, want: b},
		{name: "raw nil pointer", codec: Raw{}, in: (*[]byte)(nil), want: nil},
		{name: "raw nil slice", codec: Raw{}, in: []byte(nil), want: nil},
		{name: "raw string", codec: Raw{}, in: "hello", wantErr: ErrUnsupportedType},
		{name: "raw nil", codec: Raw{}, in: nil, wantErr: ErrUnsupportedType},
		{name: "proto string value", codec: Proto{}, in: wrapperspb.String("hi"), want: []byte{0x0a, 0x02, 'h', 'i'}},
		{name: "proto nil message", codec: Proto{}, in: (*wrapperspb.StringValue)(nil), want: nil},
		{name: "proto non-message", codec: Proto{}, in: args{}, wantErr: ErrUnsupportedType},
		{name: "proto nil", codec: Proto{}, in: nil, wantErr: ErrUnsupportedType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.codec.Marshal(tt.in)
			if tt.wantErr != nil {
				if err == nil || (tt.wantErr != errAny && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("Marshal = %q, want %q", got, tt.want)
			}
		})
	}
}

// errAny in wantErr means any non-nil error.
var errAny = errors.New("any error")

func TestRawMarshalDoesNotCopy(t *testing.T) {
	t.Parallel()
	b := []byte("abc")
	got, err := Raw{}.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &b[0] {
		t.Errorf("Raw.Marshal copied its input")
	}
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		codec   Codec
		in      []byte
		into    func() any
		want    any // what into points at afterwards
		wantErr error
	}{
		{
			name: "json struct", codec: JSON{}, in: []byte(`{"a":"x","b":2,"tags":{"k":"v"}}`),
			into: func() any { return new(args) },
			want: &args{A: "x", B: 2, Tags: map[string]string{"k": "v"}},
		},
		{
			name: "json empty is no-op", codec: JSON{}, in: nil,
			into: func() any { return &args{B: 7} },
			want: &args{B: 7},
		},
		{
			name: "json map", codec: JSON{}, in: []byte(`{"n":1.5,"s":"x","l":[true,null]}`),
			into: func() any { return new(map[string]any) },
			want: &map[string]any{"n": 1.5, "s": "x", "l": []any{true, nil}},
		},
		{name: "json syntax error", codec: JSON{}, in: []byte(`{"a":`), into: func() any { return new(args) }, wantErr: ErrMalformed},
		{name: "json wrong type", codec: JSON{}, in: []byte(`{"b":"x"}`), into: func() any { return new(args) }, wantErr: ErrMalformed},
		{name: "json whitespace only", codec: JSON{}, in: []byte(" "), into: func() any { return new(args) }, wantErr: ErrMalformed},
		{name: "json non-pointer", codec: JSON{}, in: []byte(`{}`), into: func() any { return args{} }, wantErr: ErrUnsupportedType},
		{name: "json nil pointer", codec: JSON{}, in: []byte(`{}`), into: func() any { return (*args)(nil) }, wantErr: ErrUnsupportedType},
		{name: "json nil", codec: JSON{}, in: []byte(`{}`), into: func() any { return nil }, wantErr: ErrUnsupportedType},
		{
			name: "raw", codec: Raw{}, in: []byte("xyz"),
			into: func() any { return new([]byte) },
			want: func() *[]byte { b := []byte("xyz"); return &b }(),
		},
		{
			name: "raw empty", codec: Raw{}, in: nil,
			into: func() any { b := []byte("old"); return &b },
			want: func() *[]byte { b := []byte{}; return &b }(),
		},
		{name: "raw slice", codec: Raw{}, in: []byte("x"), into: func() any { return []byte{} }, wantErr: ErrUnsupportedType},
		{name: "raw nil pointer", codec: Raw{}, in: []byte("x"), into: func() any { return (*[]byte)(nil) }, wantErr: ErrUnsupportedType},
		{name: "raw string pointer", codec: Raw{}, in: []byte("x"), into: func() any { return new(string) }, wantErr: ErrUnsupportedType},
		{
			name: "proto", codec: Proto{}, in: []byte{0x0a, 0x02, 'h', 'i'},
			into: func() any { return new(wrapperspb.StringValue) },
			want: wrapperspb.String("hi"),
		},
		{
			name: "proto empty resets", codec: Proto{}, in: nil,
			into: func() any { return wrapperspb.String("old") },
			want: wrapperspb.String(""),
		},
		{name: "proto truncated", codec: Proto{}, in: []byte{0x0a, 0x05, 'h'}, into: func() any { return new(wrapperspb.StringValue) }, wantErr: ErrMalformed},
		{name: "proto bad utf8", codec: Proto{}, in: []byte{0x0a, 0x01, 0xff}, into: func() any { return new(wrapperspb.StringValue) }, wantErr: ErrMalformed},
		{name: "proto nil message", codec: Proto{}, in: nil, into: func() any { return (*wrapperspb.StringValue)(nil) }, wantErr: ErrUnsupportedType},
		{name: "proto non-message", codec: Proto{}, in: nil, into: func() any { return new(args) }, wantErr: ErrUnsupportedType},
		{name: "proto nil", codec: Proto{}, in: nil, into: func() any { return nil }, wantErr: ErrUnsupportedType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := tt.into()
			err := tt.codec.Unmarshal(tt.in, v)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if m, ok := v.(proto.Message); ok {
				if !proto.Equal(m, tt.want.(proto.Message)) {
					t.Errorf("got %v, want %v", m, tt.want)
				}
				return
			}
			if !reflect.DeepEqual(v, tt.want) {
				t.Errorf("got %#v, want %#v", v, tt.want)
			}
		})
	}
}

func TestRawUnmarshalCopies(t *testing.T) {
	t.Parallel()
	data := []byte("abc")
	var got []byte
	if err := (Raw{}).Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	data[0] = 'X'
	if string(got) != "abc" {
		t.Errorf("Raw.Unmarshal kept data: %q", got)
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	m := map[string]any{}
	tags := map[string]string{}
	for _, k := range []string{"q", "w", "e", "r", "t", "y", "u", "i", "o", "p", "a", "s", "d", "f"} {
		m[k] = len(k)
		tags[k] = k
	}
	st, err := structpb.NewStruct(map[string]any{"q": 1, "w": "x", "e": true, "r": nil, "t": []any{1, "2"}, "y": map[string]any{"b": 1, "a": 2}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		codec Codec
		v     func() any // builds an equal value afresh each call
	}{
		{"json map", JSON{}, func() any { return m }},
		{"json struct with map", JSON{}, func() any { return args{B: 1, Tags: tags} }},
		{"proto struct", Proto{}, func() any { return proto.Clone(st) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first, err := tt.codec.Marshal(tt.v())
			if err != nil {
				t.Fatal(err)
			}
			for range 50 {
				got, err := tt.codec.Marshal(tt.v())
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, first) {
					t.Fatalf("Marshal not deterministic:\n%q\n%q", got, first)
				}
			}
		})
	}
}

func TestProtoRoundTrip(t *testing.T) {
	t.Parallel()
	in, err := structpb.NewStruct(map[string]any{
		"name":  "calc",
		"n":     42.5,
		"ok":    true,
		"none":  nil,
		"list":  []any{"a", 1.0, false},
		"inner": map[string]any{"k": "v"},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Proto{}.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := new(structpb.Struct)
	if err := (Proto{}).Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in, out) {
		t.Errorf("round trip: got %v, want %v", out, in)
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		want   Codec
		wantOK bool
	}{
		{NameJSON, JSON{}, true},
		{NameRaw, Raw{}, true},
		{NameProto, Proto{}, true},
		{"JSON", nil, false},
		{"", nil, false},
		{"never-registered", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Get(tt.name)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("Get(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.wantOK)
			}
			if ok && got.Name() != tt.name {
				t.Errorf("Name() = %q", got.Name())
			}
		})
	}
}

// named is a test codec with a chosen name.
type named struct {
	JSON
	name string
}

func (n named) Name() string { return n.name }

func TestRegister(t *testing.T) {
	t.Parallel()
	// Names are unique to this test: the registry lives for the process.
	// The registry is process-wide: a fresh name per run keeps -count=N
	// (which reruns the test in one process) working.
	fresh := fmt.Sprintf("test-register-new-%d", registerRuns.Add(1))
	tests := []struct {
		name    string
		in      Codec
		wantErr error
	}{
		{name: "new", in: named{name: fresh}},
		{name: "builtin json", in: named{name: NameJSON}, wantErr: ErrDuplicate},
		{name: "builtin proto", in: Proto{}, wantErr: ErrDuplicate},
		{name: "nil", in: nil, wantErr: ErrInvalidCodec},
		{name: "empty name", in: named{}, wantErr: ErrInvalidCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Register(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Register = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if got, ok := Get(fresh); !ok || got.Name() != fresh {
		t.Errorf("Get after Register = %v, %v", got, ok)
	}
	if got, _ := Get(NameJSON); got != (JSON{}) {
		t.Errorf("duplicate Register replaced the built-in: %#v", got)
	}
	if err := Register(named{name: fresh}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second Register = %v, want ErrDuplicate", err)
	}
}

// registerRuns numbers the runs of the Register tests (see TestRegister).
var registerRuns atomic.Int64

func TestRegisterConcurrent(t *testing.T) {
	t.Parallel()
	const n = 16
	name := fmt.Sprintf("test-concurrent-%d", registerRuns.Add(1))
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = Register(named{name: name})
			_, _ = Get(NameJSON)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrDuplicate):
			t.Errorf("Register = %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent Registers of one name succeeded, want 1", ok)
	}
}
