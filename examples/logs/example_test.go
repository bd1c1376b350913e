package logs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/examples/logs"
	"github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

// Example serves a directory of logs on the test binary's real forwarder
// and reads them as a user: the files there are, the last lines of one,
// lines appended while following it, and a path outside the directory.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "logs-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	log := filepath.Join(dir, "app.log")
	if err := os.WriteFile(log, []byte("boot\nlisten :8080\nGET / 200\nGET /x 404\n"), 0o644); err != nil {
		panic(err)
	}

	anchor := ndntest.Anchor()
	connect := func(uri string) *ndn.Node {
		id, err := anchor.Issue(mustName(uri), time.Hour)
		if err != nil {
			panic(err)
		}
		n, err := ndn.Connect(ctx, ndn.Config{Transport: ndntest.Transport(), Identity: id, Anchors: [][]byte{anchor.CertWire()}})
		if err != nil {
			panic(err)
		}
		return n
	}
	svcNode := connect(logs.Service)
	defer svcNode.Close()
	s, err := logs.Start(ctx, svcNode, logs.Config{Dir: dir, Poll: 20 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	alice := connect("/example/users/alice")
	defer alice.Close()
	c, _ := rpc.NewClient(alice, rpc.ClientConfig{})

	var files logs.ListResponse
	if err := c.Call(ctx, logs.Service+"/List", logs.ListRequest{}, &files, nil); err != nil {
		panic(err)
	}
	for _, f := range files.Files {
		fmt.Printf("file %s, %d bytes\n", f.Name, f.Size)
	}

	// The last two lines; the stream ends after them.
	st, err := c.Stream(ctx, logs.Service+"/Tail", logs.TailRequest{File: "app.log", Lines: new(2)}, nil)
	if err != nil {
		panic(err)
	}
	for {
		var l logs.Line
		if err := st.Recv(&l); err != nil {
			break // io.EOF
		}
		fmt.Println("tail:", l.Line)
	}
	st.Close()

	// Follow: the last line, then what is appended (once the last line
	// came, the service is watching the file).
	st, err = c.Stream(ctx, logs.Service+"/Tail", logs.TailRequest{File: "app.log", Lines: new(1), Follow: true}, nil)
	if err != nil {
		panic(err)
	}
	for i := range 3 {
		if i == 1 {
			f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
			fmt.Fprint(f, "GET /y 200\nshutting down\n")
			f.Close()
		}
		var l logs.Line
		if err := st.Recv(&l); err != nil {
			panic(err)
		}
		fmt.Println("follow:", l.Line)
	}
	st.Close()

	// Nothing outside the directory.
	st, err = c.Stream(ctx, logs.Service+"/Tail", logs.TailRequest{File: "../../etc/passwd"}, nil)
	if err != nil {
		panic(err)
	}
	err = st.Recv(&logs.Line{})
	fmt.Println("../../etc/passwd:", status.Code(err))
	st.Close()
	// Output:
	// file app.log, 39 bytes
	// tail: GET / 200
	// tail: GET /x 404
	// follow: GET /x 404
	// follow: GET /y 200
	// follow: shutting down
	// ../../etc/passwd: InvalidArgument
}

func mustName(uri string) enc.Name {
	n, err := enc.NameFromStr(uri)
	if err != nil {
		panic(err)
	}
	return n
}
