package store

import (
	"errors"
	"testing"
)

// FuzzParseData feeds arbitrary wire to the Put validator: it must never
// panic, and must accept only a Data TLV carrying the given name.
func FuzzParseData(f *testing.F) {
	n := name("f", "x")
	f.Add(NameKey(n), makeWire(n, 10, 1, 0))
	f.Add(NameKey(n), makeWire(n, 300, 2, 5000))
	f.Add([]byte{8, 1, 'a'}, []byte{6, 0})
	f.Add([]byte{}, []byte{6, 0xfd, 0, 3, 7, 1, 8})
	f.Fuzz(func(t *testing.T, key, wire []byte) {
		name, err := NameFromKey(key)
		if err != nil {
			return
		}
		fresh, err := parseData(name, wire)
		if err != nil {
			if !errors.Is(err, ErrInvalidData) {
				t.Fatalf("error %v does not wrap ErrInvalidData", err)
			}
			return
		}
		if fresh < 0 {
			t.Fatalf("negative freshness %v", fresh)
		}
	})
}
