package coupons

import (
	"errors"
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/examples/calc"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Identities of the demo, in the demo trust domain's service keychain.
const (
	// WebIdentity is the registration front end's identity.
	WebIdentity = "/example/web"
	// ServiceIdentity is the coupon service's identity.
	ServiceIdentity = "/example/coupons"
	// RepoIdentity is the repo that archives the group.
	RepoIdentity = "/example/repo"
)

// EnsureDomain returns the demo trust domain under dir (calc.EnsureDomain)
// with WebIdentity, ServiceIdentity and RepoIdentity added to its service
// keychain on first use. Errors: the keychain's.
func EnsureDomain(dir string) (calc.Domain, error) {
	d, err := calc.EnsureDomain(dir)
	if err != nil {
		return d, err
	}
	return d, errors.Join(ensureIdentity(d, WebIdentity), ensureIdentity(d, ServiceIdentity), ensureIdentity(d, RepoIdentity))
}

// ensureIdentity issues uri under the domain's anchor into its service
// keychain unless it is there already.
func ensureIdentity(d calc.Domain, uri string) error {
	kc := "dir://" + d.ServiceKeys
	name, err := enc.NameFromStr(uri) // constants: no component starts with "="
	if err != nil {
		return err
	}
	if _, err := security.LoadIdentity(kc, name); err == nil {
		return nil
	}
	anchor, err := security.LoadIdentity(kc, enc.Name{enc.NewGenericComponent("example")})
	if err != nil {
		return fmt.Errorf("coupons: the demo domain's anchor: %w", err)
	}
	id, err := anchor.Issue(name, 365*24*time.Hour)
	if err != nil {
		return err
	}
	return security.SaveIdentity(d.ServiceKeys, id)
}
