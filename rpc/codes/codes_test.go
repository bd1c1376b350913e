package codes

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestValues(t *testing.T) {
	t.Parallel()
	// The numbers are on the wire and must match gRPC's.
	tests := []struct {
		c    Code
		want uint32
		name string
	}{
		{OK, 0, "OK"},
		{Canceled, 1, "Canceled"},
		{Unknown, 2, "Unknown"},
		{InvalidArgument, 3, "InvalidArgument"},
		{DeadlineExceeded, 4, "DeadlineExceeded"},
		{NotFound, 5, "NotFound"},
		{AlreadyExists, 6, "AlreadyExists"},
		{PermissionDenied, 7, "PermissionDenied"},
		{ResourceExhausted, 8, "ResourceExhausted"},
		{FailedPrecondition, 9, "FailedPrecondition"},
		{Aborted, 10, "Aborted"},
		{OutOfRange, 11, "OutOfRange"},
		{Unimplemented, 12, "Unimplemented"},
		{Internal, 13, "Internal"},
		{Unavailable, 14, "Unavailable"},
		{DataLoss, 15, "DataLoss"},
		{Unauthenticated, 16, "Unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if uint32(tt.c) != tt.want {
				t.Errorf("value = %d, want %d", uint32(tt.c), tt.want)
			}
			if got := tt.c.String(); got != tt.name {
				t.Errorf("String() = %q, want %q", got, tt.name)
			}
			if !tt.c.Valid() {
				t.Errorf("Valid() = false")
			}
		})
	}
}

func TestStringInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c    Code
		want string
	}{
		{17, "Code(17)"},
		{1000, "Code(1000)"},
		{^Code(0), "Code(4294967295)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.c.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if tt.c.Valid() {
				t.Errorf("Valid() = true")
			}
		})
	}
}

func TestUnmarshalText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    Code
		wantErr bool
	}{
		{name: "grpc spelling", in: "DeadlineExceeded", want: DeadlineExceeded},
		{name: "proto spelling", in: "DEADLINE_EXCEEDED", want: DeadlineExceeded},
		{name: "ok", in: "OK", want: OK},
		{name: "cancelled", in: "CANCELLED", want: Canceled},
		{name: "canceled upper", in: "CANCELED", want: Canceled},
		{name: "canceled", in: "Canceled", want: Canceled},
		{name: "unauthenticated", in: "UNAUTHENTICATED", want: Unauthenticated},
		{name: "decimal", in: "5", want: NotFound},
		{name: "zero", in: "0", want: OK},
		{name: "undefined number", in: "99", want: 99},
		{name: "max uint32", in: "4294967295", want: ^Code(0)},
		{name: "overflow", in: "4294967296", wantErr: true},
		{name: "negative", in: "-1", wantErr: true},
		{name: "plus sign", in: "+1", wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "lower case", in: "not_found", wantErr: true},
		{name: "unknown word", in: "Bogus", wantErr: true},
		{name: "space", in: " OK", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Internal
			err := c.UnmarshalText([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidCode) {
					t.Fatalf("err = %v, want ErrInvalidCode", err)
				}
				if c != Internal {
					t.Errorf("code changed to %v on error", c)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if c != tt.want {
				t.Errorf("got %v, want %v", c, tt.want)
			}
		})
	}
}

func TestTextRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []Code{OK, NotFound, Unauthenticated, 17, 12345, ^Code(0)} {
		b, err := c.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%v): %v", c, err)
		}
		var got Code
		if err := got.UnmarshalText(b); err != nil {
			t.Fatalf("UnmarshalText(%q): %v", b, err)
		}
		if got != c {
			t.Errorf("round trip %v -> %q -> %v", c, b, got)
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	type reply struct {
		Code Code `json:"code"`
	}
	b, err := json.Marshal(reply{Code: NotFound})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"code":"NotFound"}` {
		t.Errorf("Marshal = %s", b)
	}
	var r reply
	if err := json.Unmarshal([]byte(`{"code":"PERMISSION_DENIED"}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.Code != PermissionDenied {
		t.Errorf("Unmarshal = %v", r.Code)
	}
}

func FuzzUnmarshalText(f *testing.F) {
	for _, s := range []string{"OK", "DeadlineExceeded", "DEADLINE_EXCEEDED", "CANCELED", "7", "4294967295", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c Code
		if err := c.UnmarshalText([]byte(s)); err != nil {
			return
		}
		b, err := c.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%v): %v", c, err)
		}
		var again Code
		if err := again.UnmarshalText(b); err != nil || again != c {
			t.Fatalf("round trip %q -> %v -> %q -> %v, %v", s, c, b, again, err)
		}
	})
}
