package coupons_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ndn-invoke/ndn-invoke/examples/coupons"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

// A web front end registers users while the coupon service is up, then
// while it is down, and exits; a repo archives the group. The coupon
// service comes back with the same state directory and grants the
// coupons it missed, and none twice. Everything runs on the test binary's
// real forwarder.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := example(ctx); err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// granted WELCOME-2BD806C9 to alice
	// granted WELCOME-81B637D8 to bob
	// coupon service stopped
	// registered carol and dave without waiting
	// coupon service restarted
	// granted WELCOME-4C26D907 to carol
	// granted WELCOME-61EA0803 to dave
	// 4 coupons, one per user
}

func example(ctx context.Context) error {
	group := uniqueName("coupons")
	cfg := coupons.Config{Group: group, Topic: append(group.Clone(), coupons.DefaultTopic()...), Logger: quiet}
	r, err := startRepo(ctx, group)
	if err != nil {
		return err
	}
	defer r.Close()

	web, err := connect(ctx, uniqueName("web"))
	if err != nil {
		return err
	}
	defer web.Close()
	regCfg := cfg
	regCfg.Node = web
	reg, err := coupons.NewRegistration(ctx, regCfg)
	if err != nil {
		return err
	}
	defer reg.Close()

	dir, err := os.MkdirTemp("", "coupons-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	shopName := uniqueName("shop")
	granted := make(chan coupons.Grant, 16)
	startShop := func() (*coupons.Service, func(), error) {
		shop, err := connect(ctx, shopName)
		if err != nil {
			return nil, nil, err
		}
		sc := coupons.ServiceConfig{Config: cfg, Dir: dir, OnGrant: func(g coupons.Grant) { granted <- g }}
		sc.Node = shop
		svc, err := coupons.StartService(ctx, sc)
		if err != nil {
			shop.Close()
			return nil, nil, err
		}
		return svc, func() { svc.Close(); shop.Close() }, nil
	}
	expect := func(n int) error {
		for range n {
			select {
			case g := <-granted:
				fmt.Printf("granted %s to %s\n", g.Code, g.User)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}

	_, stop, err := startShop()
	if err != nil {
		return err
	}
	for _, u := range []string{"alice", "bob"} {
		if err := reg.Register(ctx, u); err != nil {
			return err
		}
	}
	if err := expect(2); err != nil {
		return err
	}
	stop()
	fmt.Println("coupon service stopped")

	quick, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for _, u := range []string{"carol", "dave"} {
		if err := reg.Register(quick, u); err != nil {
			return err
		}
	}
	fmt.Println("registered carol and dave without waiting")
	// The front end exits: it lingers until the repo has the registrations.
	if err := reg.Flush(ctx); err != nil {
		return err
	}
	reg.Close()
	web.Close()

	svc, stop, err := startShop()
	if err != nil {
		return err
	}
	defer stop()
	fmt.Println("coupon service restarted")
	if err := expect(2); err != nil {
		return err
	}
	all, err := svc.Grants()
	if err != nil {
		return err
	}
	users := map[string]bool{}
	for _, g := range all {
		users[g.User] = true
	}
	fmt.Printf("%d coupons, one per user\n", len(users))
	if len(all) != len(users) {
		return fmt.Errorf("%d grants for %d users", len(all), len(users))
	}
	return nil
}
