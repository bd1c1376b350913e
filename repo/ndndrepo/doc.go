// Package ndndrepo makes the repo speak ndnd's own repo command protocol
// (github.com/named-data/ndnd v1.5.3, repo/), so applications written for
// ndnd's repo, such as std/examples/svs/alo-history, work unchanged. The
// main type is Server; PublicationHook handles the commands ndnd's repo
// finds inside sync group publications.
//
//	srv, err := ndndrepo.Serve(ctx, node, core, ndndrepo.Config{Prefix: repoName})
//	if err != nil { ... }
//	defer srv.Close()
//
//	hook := ndndrepo.PublicationHook(core) // core: *repo.Repo, or any Backend
//	onPub := func(ctx context.Context, group, _ enc.Name, content []byte) { hook(ctx, group, content) }
//	// onPub is what repo.Config.OnGroupPublication takes.
//
// # Protocol (ndnd's, unchanged)
//
// A command is an Interest to <repo>/32=cmd, as ndnd's
// object.Client.ExpressCommand (std/object/client_cmd.go) sends it: the
// Interest is unsigned; its ApplicationParameters is a Data packet signed
// by the commander, whose content is a RepoCmd (repo/tlv/definitions.go):
//
//	RepoCmd   = [SyncJoin 0x1DB0] [BlobFetch 0x1DB2]
//	SyncJoin  = Protocol 0x191 (NameContainer, /32=ndn/32=svs/v=3)
//	            Group 0x193 [MulticastPrefix 0x194] [HistorySnapshot 0x1A4 {Threshold 0x1A5}]
//	BlobFetch = [Name 0x1B8 (NameContainer)] *Data 0x1BA (Data packet wire)
//
// The reply is a Data named exactly as the Interest, signed by the repo's
// node, whose content is RepoCmdRes{Status 0x291, Message 0x292}.
//
//   - SyncJoin: the repo joins the SVS v3 group (Backend.JoinGroup) and
//     stores what its members publish. Another protocol is 400, a missing
//     group is 400, a history snapshot threshold below 10 is 400 (ndnd's
//     repo refuses it too).
//   - BlobFetch, in a group publication (PublicationHook, as ndnd's repo
//     takes it): Name set → fetch and store that object, which must be
//     under the group prefix (Backend.Insert); otherwise each Data packet
//     is stored as given if its name is under the group prefix
//     (Backend.PutData). Anything outside the group is skipped.
//   - BlobFetch, as a direct command on <repo>/32=cmd (our addition; ndnd
//     answers only SyncJoin there): the same, with Backend.Authorize(signer,
//     "insert", name) in place of the group prefix check. A command with
//     Data packets is refused as a whole (403) if any packet's name is
//     denied, before any is stored. The reply message names the insert job
//     ("job <id>") or the count of packets stored.
//   - SyncLeave (TypeSyncLeave = 0x1DBE, our extension: ndnd has no leave
//     command): same body as SyncJoin (Protocol optional, Group required);
//     Backend.LeaveGroup. 404 if the repo is not in the group. ndnd's own
//     repo skips the element (it is non-critical) and does nothing.
//
// A RepoCmd must hold exactly one command (400 otherwise; ndnd would act on
// SyncJoin and ignore the rest).
//
// Status codes: 200 done; 400 no or malformed command Data, unsigned Data
// (no SignatureInfo), unknown or invalid command, or a packet the core
// refuses (repo.ErrBadRequest, or one that fails the core's own
// verification of stored packets); 401 the signature does
// not authenticate (DigestSha256, bad signature, certificate not chaining
// to the trust anchors: HTTP "unauthorized" means unauthenticated); 403
// the signer is authenticated but Authorize denies it; 404 leave of a
// group not joined; 500 backend failure (details only in the log); 503 the
// repo is shutting down. ndnd's repo itself uses 200, 400 and 500.
//
// # Security (our additions; ndnd's repo has none of this)
//
// Secure by default: Serve refuses a node without trust anchors. The
// command Data must verify with Node.VerifyData (signature and certificate
// chain to our anchors), and the signer's key must pass Backend.Authorize
// for the verb ("join", "leave", "insert") on the target (group, object or
// packet name). The verb is bound to the signature: it is the Data's
// content (SyncJoin, BlobFetch, SyncLeave), which the signature covers.
// Every parse of network bytes (ApplicationParameters, RepoCmd, each
// BlobFetch Data, replies) checks TLV lengths against the buffer before
// ndnd's generated parsers run (they trust lengths: a few bytes can make
// them panic or allocate gigabytes) and recovers from their panics. The Data
// packets a BlobFetch carries are stored as given: their own signatures are
// for consumers (and for the core, if it verifies what it stores), not
// checked here.
//
// Replays: ndnd's command Data carries no nonce and no time, so a captured
// command can be sent again. The server remembers each successful command
// by the SHA-256 of its command Data for Config.DedupWindow (10 minutes,
// at most Config.DedupEntries): a copy inside the window, whether a replay
// or the client's retransmission, gets the remembered reply and does no
// work (a copy arriving while the original still runs waits for its
// result). Only authenticated commands are remembered, and only successes
// are kept, so strangers cannot flush the memory and failures can be
// retried. Outside the window a replay runs again: a SyncJoin replay is
// idempotent (joining a joined group succeeds), but it can re-join a group
// left since, and a BlobFetch replay re-fetches or re-stores the same
// packets. The remedy for a leaked command is revoking the signer in the
// policy. A signed Data made for another purpose whose content happens to
// be a RepoCmd (a group publication carrying a BlobFetch, say) can also be
// replayed here as a direct command; it then needs the same Authorize as
// any command from its signer.
//
// ndnd interoperability notes (v1.5.3): ExpressCommand signs the command
// with whatever the client's trust schema suggests; with a nil trust config
// (alo-history) or the NullSchema that is DigestSha256, which this server
// answers with 401 (and which ndnd's own repo drops without a reply: its
// Validate needs a KeyLocator). A client needs a schema that suggests its
// key (LightVerSec, for example). ExpressCommand then checks the reply's
// signature against the command's own bytes (std/object/client_cmd.go:96)
// and so reports a validation error for every signed reply, from this
// server or ndnd's repo; the command has still been executed. SendCommand
// is a client without that bug.
//
// # Goroutines
//
// The server starts no goroutine: commands run on the node's handler
// goroutines, Backend methods are called there, concurrently, and may
// block (up to Config.OpTimeout). Close cancels running commands and waits
// for them. Server.mu and the dedup table's mu are leaf locks, never held
// while calling the Backend.
package ndndrepo
