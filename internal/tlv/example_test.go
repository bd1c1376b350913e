package tlv_test

import (
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// A message of a Name and a NonNegativeInteger, encoded and read back.
func Example() {
	name := enc.Name{enc.NewGenericComponent("alice"), enc.NewVersionComponent(7)}
	b := tlv.AppendName(nil, name)
	b = tlv.AppendNat(b, 0xd6, 300)
	fmt.Printf("%x\n", b)

	r := tlv.NewReader(b)
	for r.More() {
		typ, val, err := r.Next()
		if err != nil {
			fmt.Println("malformed:", err)
			return
		}
		switch typ {
		case tlv.TypeName:
			n, err := tlv.DecodeName(val)
			fmt.Println("name", n, err)
		case 0xd6:
			seq, err := tlv.ReadNat(val)
			fmt.Println("seq", seq, err)
		}
	}
	// Output:
	// 070a0805616c696365360107d602012c
	// name /alice/v=7 <nil>
	// seq 300 <nil>
}

// A reader refuses what a decoder of network input must not trust.
func ExampleReader_Next() {
	for _, b := range [][]byte{
		{0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30}, // a Name claiming 800 MB
		{0x00, 0x00},       // TLV-TYPE 0
		{0x08, 0xfd, 0x00}, // truncated TLV-LENGTH
	} {
		r := tlv.NewReader(b)
		_, _, err := r.Next()
		fmt.Println(err)
	}
	// A longer var-number form is fine for NewReader, not for
	// NewCanonicalReader.
	b := []byte{0x08, 0xfd, 0x00, 0x01, 0x61}
	r, c := tlv.NewReader(b), tlv.NewCanonicalReader(b)
	_, v, err := r.Next()
	fmt.Printf("%s %v\n", v, err)
	_, _, err = c.Next()
	fmt.Println(err)
	// Output:
	// TLV of type 0x7 claims 825241648 bytes, 1 left
	// TLV-TYPE 0
	// TLV-LENGTH of type 0x8: truncated var-number
	// a <nil>
	// TLV-LENGTH of type 0x8: var-number not in shortest form
}
