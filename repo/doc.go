// Package repo is the repo: a durable, in-network store of signed Data. A
// Repo serves a store.Store on the network and carries out commands —
// insert an object by fetching it from its producer, put packets, delete,
// list, join and leave sync groups — arriving through its own signed
// command service (Client) and, in sibling packages, ndnd's (ndndrepo) and
// ndn-python-repo's (pyrepo) protocols. cmd/ndn-repo is the daemon.
//
//	st, _ := store.Open(dir, store.DefaultConfig())
//	r, _ := repo.New(node, st, repo.Config{Prefix: prefix})
//	if err := r.Start(ctx); err != nil { ... }
//	defer r.Close()
//	j, _ := r.Insert(ctx, repo.InsertSpec{Name: objectName})
//	j, _ = r.Wait(ctx, j.ID)
//
// # Serving
//
// Inserted objects are served under a prefix (InsertSpec.Register, by
// default the object name without version) that the repo registers on the
// forwarder and records, so a restarted repo serves it again. An Interest
// is answered from the store: exact name (or implicit digest), CanBePrefix
// (the greatest name under it, the newest version), MustBeFresh judged from
// each packet's FreshnessPeriod and the time it was stored. An Interest for
// <object>/32=metadata gets an RDR metadata packet the repo makes and signs
// for the newest stored version — the producer's own metadata would be
// stale within seconds — so `ndnd cat` and ndnd's object client fetch
// stored objects. The repo also stores the certificate chain of what it
// inserts (up to a trust anchor), so consumers can verify an object after
// its producer is gone. Unanswerable Interests get no reply (NDN repos do
// not Nack).
//
// # Commands
//
// The command service is an rpc.Server at Config.Prefix with methods
// insert, put, delete, status, list, join, leave and stats (JSON). Each
// command is a signed Interest whose name carries the verb and a digest of
// the parameters, so verb and parameters are bound under one signature and
// an insert cannot be replayed as a delete; rpc's replay window rejects
// repeats, and non-idempotent commands run at most once per request id.
// After authentication Config.Policy decides, with the target
// <Prefix>/<verb>/<object name>. Errors are rpc status codes:
// InvalidArgument (malformed), PermissionDenied, NotFound, Unavailable.
//
// Inserts run as jobs (at most Config.MaxJobs fetching at once), recorded
// in the store's records keyspace before the command is answered: a job
// the repo was running when it stopped resumes at the next Start
// (re-storing a packet is idempotent); finished jobs stay queryable for
// Config.JobRetention.
//
// # Goroutines and locks
//
// A Repo owns one goroutine per running insert job and the group members'
// (repo/groupsync, or the archivers of Config.Archivers for other group
// kinds, such as pubsub's); Close cancels and waits for all of them. Interest and
// command handlers run on the Node's worker goroutines. Repo.mu is taken
// before a job's mu, never the other way round; no lock is held while
// calling the store, the network or Config.OnGroupPublication.
package repo
