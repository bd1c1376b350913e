package ndndrepo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/repo/ndndrepo"
)

// The hook does with group publications what ndnd's repo does
// (repo/repo_svs.go processIncomingPub): BlobFetch by name inside the group
// is an insert, by value each packet inside the group is stored, and
// everything else is left alone.
func TestPublicationHook(t *testing.T) {
	group := name(t, "/app/chat")
	inside := under(group, "alice", "blob")
	outside := name(t, "/elsewhere/blob")
	dIn := blobData(t, under(group, "bob", "p0"), "in")
	dOut := blobData(t, under(outside, "p1"), "out")
	bf := func(b *tlv.BlobFetch) []byte { return (&tlv.RepoCmd{BlobFetch: b}).Encode().Join() }

	tests := []struct {
		name     string
		group    enc.Name
		content  []byte
		inserts  []enc.Name
		puts     [][]byte
		counts   map[string]int
		failNext error
	}{
		{name: "fetch inside", group: group, content: bf(&tlv.BlobFetch{Name: &spec.NameContainer{Name: inside}}),
			inserts: []enc.Name{inside}, counts: map[string]int{"ndnd/blobfetch/ok": 1}},
		{name: "fetch of the group itself", group: group, content: bf(&tlv.BlobFetch{Name: &spec.NameContainer{Name: group}}),
			inserts: []enc.Name{group}, counts: map[string]int{"ndnd/blobfetch/ok": 1}},
		{name: "fetch outside", group: group, content: bf(&tlv.BlobFetch{Name: &spec.NameContainer{Name: outside}}),
			counts: map[string]int{"ndnd/blobfetch/denied": 1}},
		{name: "fetch sibling prefix", group: group, content: bf(&tlv.BlobFetch{Name: &spec.NameContainer{Name: name(t, "/app/chatroom/x")}}),
			counts: map[string]int{"ndnd/blobfetch/denied": 1}},
		{name: "data inside and outside", group: group, content: bf(&tlv.BlobFetch{Data: [][]byte{dIn, dOut}}),
			puts: [][]byte{dIn}, counts: map[string]int{"ndnd/blobfetch/ok": 1, "ndnd/blobfetch/denied": 1}},
		{name: "malformed packet skipped", group: group, content: bf(&tlv.BlobFetch{Data: [][]byte{[]byte("junk"), dIn}}),
			puts: [][]byte{dIn}, counts: map[string]int{"ndnd/blobfetch/ok": 1, "ndnd/blobfetch/bad_request": 1}},
		{name: "name wins over data", group: group, content: bf(&tlv.BlobFetch{Name: &spec.NameContainer{Name: inside}, Data: [][]byte{dIn}}),
			inserts: []enc.Name{inside}, counts: map[string]int{"ndnd/blobfetch/ok": 1}},
		{name: "empty group stores nothing", group: enc.Name{}, content: bf(&tlv.BlobFetch{Name: &spec.NameContainer{Name: inside}}),
			counts: map[string]int{"ndnd/blobfetch/denied": 1}},
		{name: "insert error", group: group, content: bf(&tlv.BlobFetch{Name: &spec.NameContainer{Name: inside}}),
			failNext: errors.New("full"), counts: map[string]int{"ndnd/blobfetch/error": 1}},
		{name: "put error", group: group, content: bf(&tlv.BlobFetch{Data: [][]byte{dIn}}),
			failNext: errors.New("full"), counts: map[string]int{"ndnd/blobfetch/error": 1}},
		{name: "application text", group: group, content: []byte("hello everyone")},
		{name: "empty publication", group: group, content: nil},
		{name: "12 GiB bomb", group: group, content: []byte{0x05, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30}},
		{name: "SyncJoin is not acted on", group: group, content: syncJoin(tlv.SyncProtocolSvsV3, group, 0).Encode().Join()},
		{name: "SyncLeave is not acted on", group: group, content: ndndrepo.EncodeSyncLeave(group)},
		{name: "malformed BlobFetch", group: group, content: []byte{0xfd, 0x1d, 0xb2, 0x03, 0xfd, 0x01, 0xb8},
			counts: map[string]int{"ndnd/blobfetch/bad_request": 1}},
		{name: "empty BlobFetch", group: group, content: bf(&tlv.BlobFetch{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFake()
			b.setFailNext(tt.failNext)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ndndrepo.PublicationHook(b)(ctx, tt.group, tt.content)

			s := b.snapshot()
			require.Len(t, s.inserts, len(tt.inserts))
			for i, n := range tt.inserts {
				require.True(t, s.inserts[i].Name.Equal(n), "insert %s, want %s", s.inserts[i].Name, n)
				require.True(t, s.inserts[i].Register.Equal(tt.group), "registered under the group")
				require.Nil(t, s.inserts[i].Caller)
			}
			require.Len(t, s.puts, len(tt.puts))
			for i, w := range tt.puts {
				require.Equal(t, w, s.puts[i].wire)
				require.True(t, s.puts[i].register.Equal(tt.group))
			}
			if tt.counts == nil {
				tt.counts = map[string]int{}
			}
			require.Equal(t, tt.counts, s.counts)
			require.Empty(t, s.authz, "publications are authorized by the group prefix")
		})
	}
}
