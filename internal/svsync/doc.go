// Package svsync runs ndnd's SvSync (std/sync/svs.go, SVS v3) safely for
// our group layers (svs, pubsub): it owns what SvSync leaves loose. Its
// type is Sync: New, Start, Stop.
//
//	s, err := svsync.New(svsync.Config{Node: node, Signer: id.Signer(),
//		GroupPrefix: <group>/32=svs, SyncDataName: <member>/<group>/32=svs,
//		BootTime: boot, OnUpdate: onUpdate, Check: check})
//	err = s.Start()
//	err = s.SetSeqNo(name, seq) // announce a publication
//	s.Stop()                    // idempotent; waits for everything SvSync started
//
// Check runs on the Sync's validator goroutines (Config.Validators), one
// Sync Data at a time each, and may block up to its ctx; OnUpdate runs on
// SvSync's loop goroutine and must not block.
//
// It also holds the SVS v3 state vector decoder that checks Sync Data
// before ndnd's parser sees it (DecodeStateVector).
//
// Lock order: Sync.gate is never taken with Sync.mu held.
package svsync
