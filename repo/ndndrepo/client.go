package ndndrepo

import (
	"context"
	"fmt"
	"time"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// SendCommand sends content (a RepoCmd, from tlv.RepoCmd.Encode or
// EncodeSyncLeave) to the repo named repoPrefix, the way ndnd's
// ExpressCommand does on the wire: an unsigned Interest to
// <repoPrefix>/32=cmd whose ApplicationParameters is a Data signed by the
// node's identity, named <identity>/32=repo/v=<now µs> (the version keeps
// deliberate repeats distinct from replays). Unlike ExpressCommand it
// verifies the reply's signature correctly (std/object/client_cmd.go:96
// checks it against the command's bytes, so it never passes with a trust
// config) and checks it against the node's trust anchors.
//
// It returns the repo's answer whatever its status; the error is for
// everything else: no identity, ndn.ErrTimeout, ndn.ErrNack,
// ndn.ErrFaceDown, ndn.ErrClosed, ndn.ErrBadReply (the reply does not
// verify), ErrMalformed (it is not a RepoCmdRes), or ctx's error. The
// Interest lifetime comes from ctx. Safe for concurrent use.
func SendCommand(ctx context.Context, node *ndnx.Node, repoPrefix enc.Name, content []byte) (*tlv.RepoCmdRes, error) {
	id := node.Identity()
	if id == nil {
		return nil, fmt.Errorf("ndndrepo: SendCommand needs a node with an identity")
	}
	name := id.Name().Clone().
		Append(enc.NewKeywordComponent("repo")).
		Append(enc.NewVersionComponent(uint64(time.Now().UnixMicro())))
	cmdData, err := node.SignData(name, &ndn.DataConfig{}, enc.Wire{content})
	if err != nil {
		return nil, err
	}
	interest, err := node.MakeInterest(ctx, CommandName(repoPrefix), &ndn.InterestConfig{MustBeFresh: true}, cmdData, false)
	if err != nil {
		return nil, err
	}
	d, err := node.Express(ctx, interest)
	if err != nil {
		return nil, err
	}
	if _, err := node.VerifyData(ctx, d); err != nil {
		return nil, fmt.Errorf("%w: repo reply: %w", ndnx.ErrBadReply, err)
	}
	return ParseResponse(d.Data.Content().Join())
}
