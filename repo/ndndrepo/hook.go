package ndndrepo

import (
	"context"
	"errors"
	"log/slog"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/repo"
)

// PublicationHook returns the function the repo core calls with the content
// of every publication in a sync group it joined. It does what ndnd's repo
// does there (repo/repo_svs.go processIncomingPub): a RepoCmd with a
// BlobFetch naming an object under the group prefix starts an insert of
// it (Backend.Insert, registered under the group); one carrying Data
// packets stores each packet whose name is under the group prefix
// (Backend.PutData, durable before the hook returns). Packets and names
// outside the group are skipped, as in ndnd.
//
// Content that is not a RepoCmd is application data and is ignored without
// a trace; SyncJoin and SyncLeave in a publication are ignored too (ndnd
// only acts on BlobFetch there). A RepoCmd that is malformed, and every
// BlobFetch outcome, is counted with Backend.Count ("ndnd", "blobfetch",
// result). The hook never panics, whatever the content.
//
// Publications carry no command signature of their own: the group's sync
// layer decides whose publications are accepted, and the group prefix is
// the authorization (a member can only make the repo store under the
// group). No Authorize call is made, and InsertSpec.Caller is nil.
//
// The returned function is safe for concurrent use and keeps no state. It
// runs on the caller's goroutine and blocks while PutData does; it logs
// through slog.Default().
func PublicationHook(b Backend) func(ctx context.Context, group enc.Name, content []byte) {
	log := slog.Default().With("component", "ndndrepo")
	return func(ctx context.Context, group enc.Name, content []byte) {
		cmd, err := ParseCommand(content)
		if errors.Is(err, ErrNotCommand) {
			return
		}
		if err != nil {
			b.Count(protocolName, verbBlobFetch, resultBadRequest)
			log.Debug("malformed repo command in group publication", "group", group.String(), "err", err)
			return
		}
		if cmd.BlobFetch == nil {
			return
		}
		if len(group) == 0 {
			// Every name is under the empty prefix: refuse rather than
			// let a publication store anything anywhere.
			b.Count(protocolName, verbBlobFetch, resultDenied)
			return
		}
		bf := cmd.BlobFetch
		if bf.Name != nil && len(bf.Name.Name) > 0 {
			name := bf.Name.Name
			if !group.IsPrefix(name) {
				b.Count(protocolName, verbBlobFetch, resultDenied)
				log.Warn("ignoring BlobFetch outside the group", "group", group.String(), "name", name.String())
				return
			}
			job, err := b.Insert(ctx, repo.InsertSpec{Name: name, Register: group.Clone()})
			if err != nil {
				b.Count(protocolName, verbBlobFetch, resultError)
				log.Warn("BlobFetch: insert failed", "group", group.String(), "name", name.String(), "err", err)
				return
			}
			b.Count(protocolName, verbBlobFetch, resultOK)
			log.Info("BlobFetch: insert started", "group", group.String(), "name", name.String(), "job", job.ID)
			return
		}
		if len(bf.Data) > defaultMaxBlobPackets {
			b.Count(protocolName, verbBlobFetch, resultBadRequest)
			log.Warn("ignoring BlobFetch with too many packets", "group", group.String(), "count", len(bf.Data))
			return
		}
		for i, w := range bf.Data {
			p, err := readBlobPacket(w)
			switch {
			case err != nil:
				b.Count(protocolName, verbBlobFetch, resultBadRequest)
				log.Warn("BlobFetch: skipping malformed Data", "group", group.String(), "index", i, "err", err)
			case !group.IsPrefix(p.name):
				b.Count(protocolName, verbBlobFetch, resultDenied)
				log.Warn("BlobFetch: skipping Data outside the group", "group", group.String(), "name", p.name.String())
			default:
				if err := b.PutData(ctx, p.wire, group.Clone()); err != nil {
					b.Count(protocolName, verbBlobFetch, resultError)
					log.Warn("BlobFetch: storing Data failed", "group", group.String(), "name", p.name.String(), "err", err)
					continue
				}
				b.Count(protocolName, verbBlobFetch, resultOK)
			}
		}
	}
}
