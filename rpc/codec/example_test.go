package codec_test

import (
	"errors"
	"fmt"

	"github.com/ndn-invoke/ndn-invoke/rpc/codec"
)

func Example() {
	type addArgs struct {
		A int `json:"a"`
		B int `json:"b"`
	}
	c, ok := codec.Get("json")
	if !ok {
		fmt.Println("no json codec")
		return
	}
	payload, err := c.Marshal(addArgs{A: 1, B: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %s\n", c.Name(), payload)

	var got addArgs
	if err := c.Unmarshal(payload, &got); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.A + got.B)

	// Map keys are sorted, so equal values always give equal bytes.
	payload, _ = c.Marshal(map[string]int{"z": 26, "a": 1})
	fmt.Printf("%s\n", payload)

	_, err = codec.Raw{}.Marshal("not bytes")
	fmt.Println(errors.Is(err, codec.ErrUnsupportedType))
	// Output:
	// json {"a":1,"b":2}
	// 3
	// {"a":1,"z":26}
	// true
}
