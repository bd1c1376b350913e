package rpc

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"iter"

	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

// PageRequest is the paging part of a list request (embed it in the
// request type). A zero PageSize means the server's default.
type PageRequest struct {
	PageSize  int    `json:"page_size,omitempty"`
	PageToken string `json:"page_token,omitempty"`
}

// PageResponse is the paging part of a list reply (embed it). An empty
// NextPageToken means the last page.
type PageResponse struct {
	NextPageToken string `json:"next_page_token,omitempty"`
}

// Paginate returns the page of items that req asks for, at most maxSize
// long (and defaultSize when req.PageSize is 0), and the token of the next
// page. The token is opaque to callers; a malformed one is InvalidArgument.
// items must be in a stable order between calls.
func Paginate[T any](items []T, req PageRequest, defaultSize, maxSize int) ([]T, string, error) {
	size := req.PageSize
	switch {
	case size < 0:
		return nil, "", status.Error(codes.InvalidArgument, "page_size must not be negative")
	case size == 0:
		size = defaultSize
	}
	size = min(size, maxSize)
	if size <= 0 {
		size = 1
	}
	start := 0
	if req.PageToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(req.PageToken)
		if err != nil || len(b) != 8 {
			return nil, "", status.Error(codes.InvalidArgument, "malformed page_token")
		}
		off := binary.BigEndian.Uint64(b)
		if off > uint64(len(items)) {
			return nil, "", status.Error(codes.InvalidArgument, "page_token is past the end")
		}
		start = int(off)
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, uint64(end))
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return items[start:end], next, nil
}

// Pages iterates over every item of a paged list: fetch gets the page for a
// token ("" for the first) and returns its items and the next token. The
// iteration stops at the last page, at the first error (yielded once), or
// when the loop breaks.
//
//	for item, err := range rpc.Pages(ctx, func(ctx context.Context, tok string) ([]Item, string, error) {
//		var resp ListResp
//		err := c.Call(ctx, "/example/store/list", ListReq{PageRequest: rpc.PageRequest{PageToken: tok}}, &resp, nil)
//		return resp.Items, resp.NextPageToken, err
//	}) { ... }
func Pages[T any](ctx context.Context, fetch func(ctx context.Context, token string) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		token := ""
		for {
			items, next, err := fetch(ctx, token)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" || next == token {
				return
			}
			token = next
		}
	}
}
