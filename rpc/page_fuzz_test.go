package rpc_test

import (
	"testing"

	"github.com/ndn-invoke/ndn-invoke/rpc"
)

// FuzzPaginate: any page token or size from the network gives a page or an
// error, never a panic or a page outside the list.
func FuzzPaginate(f *testing.F) {
	items := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	_, next, _ := rpc.Paginate(items, rpc.PageRequest{PageSize: 3}, 2, 5)
	f.Add(next, 3)
	f.Add("", 0)
	f.Add("AAAAAAAAAAA", -1)
	f.Fuzz(func(t *testing.T, token string, size int) {
		page, next, err := rpc.Paginate(items, rpc.PageRequest{PageSize: size, PageToken: token}, 2, 5)
		if err != nil {
			return
		}
		if len(page) > 5 {
			t.Fatalf("page of %d > max", len(page))
		}
		if next != "" {
			if _, _, err := rpc.Paginate(items, rpc.PageRequest{PageToken: next}, 2, 5); err != nil {
				t.Fatalf("our own next token %q is rejected: %v", next, err)
			}
		}
	})
}
