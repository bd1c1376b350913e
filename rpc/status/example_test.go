package status_test

import (
	"errors"
	"fmt"

	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

func lookup(key string) error {
	return status.Errorf(codes.NotFound, "key %q", key)
}

func Example() {
	err := fmt.Errorf("load config: %w", lookup("port"))

	fmt.Println(status.Code(err))
	fmt.Println(errors.Is(err, status.New(codes.NotFound, "")))
	st, ok := status.FromError(err)
	fmt.Println(ok, st.Message)
	fmt.Println(st.Err())

	fmt.Println(status.Code(errors.New("plain")))
	fmt.Println(status.Code(nil))
	// Output:
	// NotFound
	// true
	// true load config: key "port"
	// rpc error: code = NotFound desc = load config: key "port"
	// Unknown
	// OK
}
