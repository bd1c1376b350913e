// Package vm is the example service /example/vm: CreateVM is a long-running
// method (rpc.LongRunning) that "creates" a virtual machine in N seconds,
// reporting progress as it goes, and whose operation records a repo keeps,
// so they outlive the service, and a creation cut short by a crash resumes.
//
//	node, _ := ndnx.Connect(ctx, ndnx.Config{Keychain: kc, IdentityName: vm.Service, AnchorFiles: anchors})
//	s, err := vm.Start(ctx, node, repoPrefix, vm.Config{}) // the repo keeps the records
//	defer s.Shutdown(ctx)
//
//	method, _ := enc.NameFromStr(vm.Service + "/" + vm.Method)
//	op, _ := client.Start(ctx, method, vm.CreateRequest{Name: "web", Seconds: 30}, nil)
//	name, _ := enc.NameFromStr(op.Name)
//	final, _ := client.WaitOp(ctx, name, nil) // final.Result: {"name":"web","state":"RUNNING"}
//
// Or register the method on a server of your own with Register (its
// rpc.ServerConfig.Ops must name an OpStore, such as repo.NewOpStore).
//
// # Resuming
//
// CreateVM is Resumable: when the service starts again after a crash (kill
// -9) or a shutdown, the rpc server finds the operations left unfinished
// in the repo and runs CreateVM again with each stored request. The
// handler continues from the progress of the operation's last record
// (rpc.Op.Status), so a client waiting on the operation sees the bar pause
// while the service is down and go on from where it stopped; the final
// record counts the restart in "resumed".
//
// # Goroutines
//
// The handler runs on the rpc server's operation goroutine (one per running
// operation), which Shutdown and Close wait for. The package starts no
// goroutine of its own.
package vm
