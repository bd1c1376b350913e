package ndndrepo

import (
	"bytes"
	"testing"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"

	tlvx "github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// hostile are inputs known to hurt ndnd's generated parsers.
var hostile = [][]byte{
	{0x05, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30},                         // 12 GiB Name
	{0xfd, 0x1d, 0xb2, 0x09, 0xfd, 0x01, 0xba, 0xfe, 0xff, 0xff, 0xff, 0xf0, 0x01}, // 4 GiB BlobFetch.Data
	{0xfd, 0x1d, 0xb0, 0x05, 0xfd, 0x01, 0x93, 0xff, 0xff},                         // 8-byte length cut short
	{0xfd, 0x1d, 0xb2, 0x0d, 0xfd, 0x01, 0xb8, 0x09, 0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
}

// FuzzParseCommand: any bytes give a Command or an error, never a panic or
// a huge allocation, and what parses re-encodes to bytes that parse to the
// same Command.
func FuzzParseCommand(f *testing.F) {
	for _, c := range validCommands(f) {
		f.Add(c)
	}
	for _, h := range hostile {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := ParseCommand(in)
		if err != nil {
			return
		}
		if c.SyncJoin == nil && c.BlobFetch == nil && c.SyncLeave == nil {
			t.Fatal("parsed a Command with nothing in it")
		}
		b1 := c.Encode()
		c2, err := ParseCommand(b1)
		if err != nil {
			t.Fatalf("our own encoding %x of %x does not parse: %v", b1, in, err)
		}
		if b2 := c2.Encode(); !bytes.Equal(b1, b2) {
			t.Fatalf("round trip changed the command:\n%x\n%x", b1, b2)
		}
	})
}

// FuzzParseResponse: same for RepoCmdRes.
func FuzzParseResponse(f *testing.F) {
	f.Add((&tlv.RepoCmdRes{Status: 200, Message: "ok"}).Encode().Join())
	f.Add((&tlv.RepoCmdRes{Status: 1 << 40}).Encode().Join())
	for _, h := range hostile {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseResponse(in)
		if err != nil {
			return
		}
		b := r.Encode().Join()
		r2, err := ParseResponse(b)
		if err != nil {
			t.Fatalf("our own encoding %x does not parse: %v", b, err)
		}
		if *r != *r2 {
			t.Fatalf("round trip: %+v != %+v", r, r2)
		}
	})
}

// FuzzDecodeRequest: any ApplicationParameters give a 200 with a checked
// command or a 400, never a panic.
func FuzzDecodeRequest(f *testing.F) {
	signer, err := sig.KeygenEd25519(enc.Name{enc.NewGenericComponent("alice"), enc.NewGenericComponent("KEY"), enc.NewGenericComponent("k")})
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range validCommands(f) {
		d, err := spec.Spec{}.MakeData(enc.Name{enc.NewGenericComponent("alice"), enc.NewKeywordComponent("repo")}, &ndn.DataConfig{}, enc.Wire{c}, signer)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(d.Wire.Join())
	}
	for _, h := range hostile {
		f.Add(h)
		f.Add(tlvBytes(0x06, append([]byte{0x07, 0x03, 0x08, 0x01, 0x61, 0x16, 0x03, 0x1b, 0x01, 0x05, 0x17, 0x01, 0x00}, tlvBytes(0x15, h)...)))
	}
	f.Fuzz(func(t *testing.T, params []byte) {
		const maxPackets = 4
		req, status, msg := decodeRequest(params, maxPackets)
		switch status {
		case StatusBadRequest:
			if msg == "" {
				t.Fatal("400 without a message")
			}
			return
		case StatusOK:
		default:
			t.Fatalf("status %d", status)
		}
		o := req.op
		switch o.verb {
		case verbJoin:
			if len(o.group.Group) == 0 || !tlvx.NdndEncodable(o.group.Group, o.group.MulticastPrefix) {
				t.Fatalf("bad group %v", o.group)
			}
			if o.group.HistorySnapshot != 0 && o.group.HistorySnapshot < 10 {
				t.Fatalf("threshold %d", o.group.HistorySnapshot)
			}
		case verbLeave:
			if len(o.leave) == 0 {
				t.Fatal("leave of no group")
			}
		case verbBlobFetch:
			if (o.name == nil) == (len(o.packets) == 0) || len(o.packets) > maxPackets {
				t.Fatalf("blobfetch name %v, %d packets", o.name, len(o.packets))
			}
			for _, p := range o.packets {
				if len(p.name) == 0 || !tlvx.NdndEncodable(p.name) {
					t.Fatalf("packet name %v", p.name)
				}
			}
		default:
			t.Fatalf("verb %q", o.verb)
		}
	})
}
