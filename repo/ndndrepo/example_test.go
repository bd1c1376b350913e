package ndndrepo_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/ndndrepo"
)

// printBackend is a repo core that prints what it is asked to do.
type printBackend struct{}

func (printBackend) Insert(_ context.Context, s repo.InsertSpec) (repo.Job, error) {
	fmt.Println("insert", s.Name)
	return repo.Job{ID: "42"}, nil
}

func (printBackend) PutData(_ context.Context, _ []byte, register enc.Name) error {
	fmt.Println("put, served under", register)
	return nil
}

func (printBackend) JoinGroup(_ context.Context, g repo.GroupSpec) error {
	fmt.Println("join", g.Group, "history snapshot", g.HistorySnapshot)
	return nil
}

func (printBackend) LeaveGroup(_ context.Context, group enc.Name) error {
	fmt.Println("leave", group)
	return nil
}

func (printBackend) Authorize(context.Context, enc.Name, string, enc.Name) error { return nil }

func (printBackend) Count(string, string, string) {}

// Example serves ndnd's repo protocol on the test binary's real forwarder
// and sends it ndnd's SyncJoin (as alo-history builds it) and our
// SyncLeave.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	anchor := ndntest.Anchor()
	repoName, _ := enc.NameFromStr("/example/repo")
	repoID, _ := anchor.Issue(repoName, time.Hour)
	repoNode, err := ndnx.Connect(ctx, ndnx.Config{Transport: ndntest.Transport(), Identity: repoID, Anchors: [][]byte{anchor.CertWire()}})
	if err != nil {
		panic(err)
	}
	defer repoNode.Close()
	srv, err := ndndrepo.Serve(ctx, repoNode, printBackend{}, ndndrepo.Config{
		Prefix: repoName,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	userName, _ := enc.NameFromStr("/example/users/ada")
	userID, _ := anchor.Issue(userName, time.Hour)
	userNode, err := ndnx.Connect(ctx, ndnx.Config{Transport: ndntest.Transport(), Identity: userID, Anchors: [][]byte{anchor.CertWire()}})
	if err != nil {
		panic(err)
	}
	defer userNode.Close()

	group, _ := enc.NameFromStr("/example/chat")
	join := (&tlv.RepoCmd{SyncJoin: &tlv.SyncJoin{
		Protocol:        &spec.NameContainer{Name: tlv.SyncProtocolSvsV3},
		Group:           &spec.NameContainer{Name: group},
		HistorySnapshot: &tlv.HistorySnapshotConfig{Threshold: 100},
	}}).Encode().Join()
	res, err := ndndrepo.SendCommand(ctx, userNode, repoName, join)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.Message)

	res, err = ndndrepo.SendCommand(ctx, userNode, repoName, ndndrepo.EncodeSyncLeave(group))
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.Message)
	// Output:
	// join /example/chat history snapshot 100
	// 200 joined /example/chat
	// leave /example/chat
	// 200 left /example/chat
}

// ExamplePublicationHook shows what the repo does with the publications of
// a group it joined: a BlobFetch under the group starts an insert, one
// elsewhere and plain application data are ignored.
func ExamplePublicationHook() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	hook := ndndrepo.PublicationHook(printBackend{})
	group, _ := enc.NameFromStr("/example/chat")
	blob, _ := enc.NameFromStr("/example/chat/ada/blob/v=1")
	elsewhere, _ := enc.NameFromStr("/somewhere/else")

	for _, content := range [][]byte{
		(&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Name: &spec.NameContainer{Name: blob}}}).Encode().Join(),
		(&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Name: &spec.NameContainer{Name: elsewhere}}}).Encode().Join(),
		[]byte("hello, chat"),
	} {
		hook(ctx, group, content)
	}
	// Output:
	// insert /example/chat/ada/blob/v=1
}
