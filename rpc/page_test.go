package rpc_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

func TestPaginate(t *testing.T) {
	items := []int{0, 1, 2, 3, 4, 5, 6}
	page, next, err := rpc.Paginate(items, rpc.PageRequest{PageSize: 3}, 2, 100)
	require.NoError(t, err)
	require.Equal(t, []int{0, 1, 2}, page)
	page, next, err = rpc.Paginate(items, rpc.PageRequest{PageSize: 3, PageToken: next}, 2, 100)
	require.NoError(t, err)
	require.Equal(t, []int{3, 4, 5}, page)
	page, next, err = rpc.Paginate(items, rpc.PageRequest{PageSize: 3, PageToken: next}, 2, 100)
	require.NoError(t, err)
	require.Equal(t, []int{6}, page)
	require.Empty(t, next)

	page, _, err = rpc.Paginate(items, rpc.PageRequest{}, 2, 100)
	require.NoError(t, err)
	require.Len(t, page, 2, "default size")
	page, _, err = rpc.Paginate(items, rpc.PageRequest{PageSize: 50}, 2, 4)
	require.NoError(t, err)
	require.Len(t, page, 4, "capped at max")
	for _, bad := range []rpc.PageRequest{{PageSize: -1}, {PageToken: "%%%"}, {PageToken: "AAAAAAAAAP8"}} {
		_, _, err = rpc.Paginate(items, bad, 2, 4)
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%+v", bad)
	}
}

// TestPagesOverTheNetwork lists 25 items through a real service, 4 per page.
func TestPagesOverTheNetwork(t *testing.T) {
	type listReq struct{ rpc.PageRequest }
	type listResp struct {
		Items []int `json:"items"`
		rpc.PageResponse
	}
	all := make([]int, 25)
	for i := range all {
		all[i] = i * i
	}
	f := newFixture(t, rpc.ServerConfig{}, func(s *rpc.Server) {
		_ = rpc.Unary(s.Mux, "list", func(_ context.Context, r listReq) (listResp, error) {
			page, next, err := rpc.Paginate(all, r.PageRequest, 4, 10)
			return listResp{Items: page, PageResponse: rpc.PageResponse{NextPageToken: next}}, err
		}, rpc.MethodOptions{Idempotent: true})
	})
	c := client(t, "alice", rpc.ClientConfig{})
	ctx := tctx(t, 20*time.Second)
	var got []int
	for v, err := range rpc.Pages(ctx, func(ctx context.Context, tok string) ([]int, string, error) {
		var resp listResp
		err := c.Call(ctx, f.method("list"), listReq{rpc.PageRequest{PageToken: tok}}, &resp, nil)
		return resp.Items, resp.NextPageToken, err
	}) {
		require.NoError(t, err)
		got = append(got, v)
	}
	require.Equal(t, all, got)
}
