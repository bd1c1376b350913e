package codes_test

import (
	"fmt"

	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
)

func ExampleCode_UnmarshalText() {
	for _, s := range []string{"DeadlineExceeded", "NOT_FOUND", "14", "42"} {
		var c codes.Code
		if err := c.UnmarshalText([]byte(s)); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(uint32(c), c, c.Valid())
	}
	// Output:
	// 4 DeadlineExceeded true
	// 5 NotFound true
	// 14 Unavailable true
	// 42 Code(42) false
}
