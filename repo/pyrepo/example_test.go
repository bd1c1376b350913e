package pyrepo_test

import (
	"crypto/sha256"
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/repo/pyrepo"
)

// An insert command as a client publishes it: the message content is a
// RepoCommandParam, and its SHA-256 is the request number that check
// Interests carry.
func ExampleCommandParam() {
	start, end := uint64(0), uint64(9)
	name, _ := enc.NameFromStr("/example/file/v=1")
	cmd := &pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{{Name: name, StartBlockID: &start, EndBlockID: &end}}}
	content := cmd.Encode()
	fmt.Printf("content %x\n", content)
	sum := sha256.Sum256(content)
	fmt.Printf("check %s with RequestNo %x...\n", pyrepo.VerbInsert.CheckPrefix(enc.Name{enc.NewGenericComponent("repo")}), sum[:4])

	back, err := pyrepo.DecodeCommandParam(content)
	if err != nil {
		panic(err)
	}
	o := back.Objects[0]
	fmt.Println(o.Name, *o.StartBlockID, *o.EndBlockID)
	// Output:
	// content fd012d1a071208076578616d706c65080466696c65360101cc0100cd0109
	// check /repo/insert%20check with RequestNo 88342944...
	// /example/file/v=1 0 9
}

// A check reply decoded: the command is in progress, 4 of the object's
// packets stored.
func ExampleDecodeCommandRes() {
	res, err := pyrepo.DecodeCommandRes([]byte{
		0xd0, 0x02, 0x01, 0x2c, // StatusCode 300
		0xfd, 0x01, 0x2e, 0x0b, // ObjStatus
		0x07, 0x03, 0x08, 0x01, 'a', // Name /a
		0xd0, 0x01, 0xc8, // StatusCode 200 for the object
		0xd1, 0x01, 0x04, // InsertNum 4
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.Objects[0].Name, res.Objects[0].Status, *res.Objects[0].InsertNum)
	// Output:
	// IN-PROGRESS /a COMPLETED 4
}
