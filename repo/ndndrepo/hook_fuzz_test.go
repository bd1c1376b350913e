package ndndrepo_test

import (
	"context"
	"testing"
	"time"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"

	"github.com/ndn-invoke/ndn-invoke/repo/ndndrepo"
)

// FuzzPublicationHook: whatever a group member publishes, the hook never
// panics and never makes the repo fetch or store outside the group.
func FuzzPublicationHook(f *testing.F) {
	group := name(f, "/app/chat")
	bf := func(b *tlv.BlobFetch) []byte { return (&tlv.RepoCmd{BlobFetch: b}).Encode().Join() }
	f.Add(bf(&tlv.BlobFetch{Name: &spec.NameContainer{Name: under(group, "a", "blob")}}))
	f.Add(bf(&tlv.BlobFetch{Name: &spec.NameContainer{Name: name(f, "/other")}}))
	f.Add(bf(&tlv.BlobFetch{Data: [][]byte{blobData(f, under(group, "x"), "x"), blobData(f, name(f, "/y"), "y")}}))
	f.Add([]byte("application text"))
	f.Add([]byte{0xfd, 0x1d, 0xb2, 0x09, 0xfd, 0x01, 0xba, 0xfe, 0xff, 0xff, 0xff, 0xf0, 0x01})
	hook := func(b ndndrepo.Backend, content []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		ndndrepo.PublicationHook(b)(ctx, group, content)
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		b := newFake()
		hook(b, content)
		s := b.snapshot()
		for _, in := range s.inserts {
			if !group.IsPrefix(in.Name) {
				t.Fatalf("insert outside the group: %s", in.Name)
			}
		}
		for _, p := range s.puts {
			d, _, err := spec.Spec{}.ReadData(enc.NewBufferView(p.wire))
			if err != nil {
				t.Fatalf("stored a packet that does not parse: %v", err)
			}
			if !group.IsPrefix(d.Name()) {
				t.Fatalf("stored outside the group: %s", d.Name())
			}
		}
	})
}
