package status

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
)

func TestError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   *Status
		want string
	}{
		{"not found", New(codes.NotFound, "key \"a\""), `rpc error: code = NotFound desc = key "a"`},
		{"empty message", New(codes.Internal, ""), "rpc error: code = Internal desc = "},
		{"undefined code", New(99, "x"), "rpc error: code = Code(99) desc = x"},
		{"nil", nil, "rpc error: code = OK desc = "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.in.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      *Status
		wantNil bool
	}{
		{"ok", New(codes.OK, "fine"), true},
		{"nil", nil, true},
		{"zero", &Status{}, true},
		{"canceled", New(codes.Canceled, ""), false},
		{"undefined", New(1234, ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.in.Err()
			if (err == nil) != tt.wantNil {
				t.Fatalf("Err() = %v, wantNil %v", err, tt.wantNil)
			}
			if err != nil && err != error(tt.in) {
				t.Errorf("Err() is not the Status itself")
			}
		})
	}
}

func TestErrorf(t *testing.T) {
	t.Parallel()
	if err := Errorf(codes.OK, "x %d", 1); err != nil {
		t.Errorf("Errorf(OK) = %v, want nil", err)
	}
	if err := Error(codes.OK, "x"); err != nil {
		t.Errorf("Error(OK) = %v, want nil", err)
	}
	err := Errorf(codes.InvalidArgument, "bad %s: %d", "n", 3)
	st, ok := FromError(err)
	if !ok || st.Code != codes.InvalidArgument || st.Message != "bad n: 3" {
		t.Errorf("FromError = %+v, %v", st, ok)
	}
	if got := Newf(codes.Aborted, "try %d", 2); got.Code != codes.Aborted || got.Message != "try 2" {
		t.Errorf("Newf = %+v", got)
	}
}

func TestWithDetails(t *testing.T) {
	t.Parallel()
	orig := New(codes.FailedPrecondition, "m")
	b := []byte(`{"field":"x"}`)
	got := orig.WithDetails(b)
	if orig.Details != nil {
		t.Errorf("WithDetails modified the receiver")
	}
	if got.Code != orig.Code || got.Message != orig.Message || !bytes.Equal(got.Details, b) {
		t.Errorf("WithDetails = %+v", got)
	}
	b[0] = 'X'
	if got.Details[0] != '{' {
		t.Errorf("WithDetails did not copy its argument")
	}
	if got := orig.WithDetails(nil); got.Details != nil {
		t.Errorf("WithDetails(nil).Details = %v", got.Details)
	}
	var nilSt *Status
	if got := nilSt.WithDetails([]byte("d")); got.Code != codes.OK || string(got.Details) != "d" {
		t.Errorf("nil.WithDetails = %+v", got)
	}
}

func TestIs(t *testing.T) {
	t.Parallel()
	notFound := New(codes.NotFound, "")
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same code", New(codes.NotFound, "a"), notFound, true},
		{"other message and details", New(codes.NotFound, "b").WithDetails([]byte("d")), notFound, true},
		{"other code", New(codes.Internal, "a"), notFound, false},
		{"wrapped", fmt.Errorf("load: %w", New(codes.NotFound, "a")), notFound, true},
		{"double wrapped", fmt.Errorf("x: %w", fmt.Errorf("y: %w", New(codes.NotFound, "a"))), notFound, true},
		{"joined", errors.Join(io.EOF, New(codes.NotFound, "a")), notFound, true},
		{"plain error", io.EOF, notFound, false},
		{"non-status target", New(codes.NotFound, "a"), io.EOF, false},
		{"nil target status", New(codes.NotFound, "a"), (*Status)(nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFromError(t *testing.T) {
	t.Parallel()
	details := []byte("d")
	tests := []struct {
		name    string
		in      error
		want    Status
		wantOK  bool
		wantErr error // expected result of Err(); nil for OK
	}{
		{name: "nil", in: nil, want: Status{Code: codes.OK}, wantOK: true},
		{name: "status", in: New(codes.NotFound, "k"), want: Status{Code: codes.NotFound, Message: "k"}, wantOK: true},
		{
			name:   "status with details",
			in:     New(codes.InvalidArgument, "v").WithDetails(details),
			want:   Status{Code: codes.InvalidArgument, Message: "v", Details: details},
			wantOK: true,
		},
		{
			name:   "wrapped status keeps context",
			in:     fmt.Errorf("load %q: %w", "cfg", New(codes.NotFound, "no such key")),
			want:   Status{Code: codes.NotFound, Message: `load "cfg": no such key`},
			wantOK: true,
		},
		{
			name:   "joined",
			in:     errors.Join(io.EOF, New(codes.Aborted, "a")),
			want:   Status{Code: codes.Aborted, Message: "EOF\na"},
			wantOK: true,
		},
		{name: "plain error", in: io.EOF, want: Status{Code: codes.Unknown, Message: "EOF"}, wantOK: false},
		{
			name:   "context error is not mapped",
			in:     context.Canceled,
			want:   Status{Code: codes.Unknown, Message: "context canceled"},
			wantOK: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := FromError(tt.in)
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			if got == nil {
				t.Fatal("FromError returned nil Status")
			}
			if got.Code != tt.want.Code || got.Message != tt.want.Message || !bytes.Equal(got.Details, tt.want.Details) {
				t.Errorf("FromError = %+v, want %+v", *got, tt.want)
			}
			if c := Convert(tt.in); c.Code != got.Code || c.Message != got.Message {
				t.Errorf("Convert = %+v, want %+v", *c, *got)
			}
			if c := Code(tt.in); c != tt.want.Code {
				t.Errorf("Code = %v, want %v", c, tt.want.Code)
			}
		})
	}
}

func TestFromErrorReturnsCopy(t *testing.T) {
	t.Parallel()
	orig := New(codes.NotFound, "k")
	got, _ := FromError(orig)
	got.Message = "changed"
	if orig.Message != "k" {
		t.Errorf("FromError returned the original Status")
	}
}

func TestFromContextError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   error
		want codes.Code
	}{
		{"nil", nil, codes.OK},
		{"canceled", context.Canceled, codes.Canceled},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded},
		{"wrapped canceled", fmt.Errorf("fetch: %w", context.Canceled), codes.Canceled},
		{"wrapped deadline", fmt.Errorf("fetch: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{"cause", context.Cause(canceledCtx(t)), codes.Canceled},
		{"other", io.EOF, codes.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := FromContextError(tt.in)
			if got.Code != tt.want {
				t.Errorf("Code = %v, want %v", got.Code, tt.want)
			}
			if tt.in != nil && got.Message != tt.in.Error() {
				t.Errorf("Message = %q, want %q", got.Message, tt.in.Error())
			}
		})
	}
}

func canceledCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}
