package vm_test

import (
	"encoding/json"
	"testing"

	"github.com/ndn-invoke/ndn-invoke/examples/vm"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

// FuzzCreateRequest: any request body, decoded as the rpc server does and
// validated, is either refused with InvalidArgument or a request within
// the limits, never a panic.
func FuzzCreateRequest(f *testing.F) {
	f.Add([]byte(`{"name":"web","seconds":30}`))
	f.Add([]byte(`{"name":"","seconds":0}`))
	f.Add([]byte(`{"name":"a-b-c","seconds":3600}`))
	f.Add([]byte(`{"name":"\u00e9","seconds":-1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var r vm.CreateRequest
		if json.Unmarshal(body, &r) != nil {
			return
		}
		err := r.Validate()
		if err != nil {
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("%+v: %v is not InvalidArgument", r, err)
			}
			return
		}
		if r.Name == "" || len(r.Name) > vm.MaxNameLen || r.Seconds < 1 || r.Seconds > 3600 {
			t.Fatalf("accepted %+v", r)
		}
		for _, c := range r.Name {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				t.Fatalf("accepted name %q", r.Name)
			}
		}
	})
}
