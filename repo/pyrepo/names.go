package pyrepo

import (
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// Verb is a command of the protocol. Its value is the topic suffix under
// the repo name (the topic of insert is <repo>/insert).
type Verb string

// The commands.
const (
	VerbInsert Verb = "insert"
	VerbDelete Verb = "delete"
	VerbJoin   Verb = "sync/join"
	VerbLeave  Verb = "sync/leave"
)

// Verbs lists every command, in a fixed order.
var Verbs = []Verb{VerbInsert, VerbDelete, VerbJoin, VerbLeave}

// Action is the verb handed to Backend.Authorize and Backend.Count:
// "insert", "delete", "join" or "leave" ("" for an unknown Verb).
func (v Verb) Action() string {
	switch v {
	case VerbInsert:
		return "insert"
	case VerbDelete:
		return "delete"
	case VerbJoin:
		return "join"
	case VerbLeave:
		return "leave"
	}
	return ""
}

// valid reports whether v is one of the four commands.
func (v Verb) valid() bool { return v.Action() != "" }

// sync reports whether v carries SyncParams rather than ObjParams.
func (v Verb) sync() bool { return v == VerbJoin || v == VerbLeave }

// topicComponents are the components v appends to the repo name.
func (v Verb) topicComponents() []enc.Component {
	if v.sync() {
		return []enc.Component{enc.NewGenericComponent("sync"), enc.NewGenericComponent(v.Action())}
	}
	return []enc.Component{enc.NewGenericComponent(string(v))}
}

// Topic is the PubSub topic of v: <repo>/insert, <repo>/delete,
// <repo>/sync/join or <repo>/sync/leave.
func (v Verb) Topic(repo enc.Name) enc.Name { return join(repo, v.topicComponents()...) }

// NotifyPrefix is where notify Interests for v arrive: <topic>/notify.
func (v Verb) NotifyPrefix(repo enc.Name) enc.Name {
	return join(v.Topic(repo), enc.NewGenericComponent("notify"))
}

// CheckPrefix is where check Interests for v arrive: "<repo>/insert check"
// and "<repo>/delete check" as check.rst defines them, and, as an extension
// of this repo, "<repo>/sync/join check" and "<repo>/sync/leave check"
// (ndn-python-repo keeps sync command status but has no check for it).
func (v Verb) CheckPrefix(repo enc.Name) enc.Name {
	c := v.topicComponents()
	last := c[len(c)-1]
	c[len(c)-1] = enc.NewGenericComponent(string(last.Val) + " check")
	return join(repo, c...)
}

// MsgName is the name of the message Data a publisher serves for one
// publication: <publisher>/msg/<topic>/<nonce>, the nonce as a generic
// component. The topic in the name binds the message to its verb.
func MsgName(publisher, topic enc.Name, nonce []byte) enc.Name {
	n := join(publisher, enc.NewGenericComponent("msg"))
	n = join(n, topic...)
	return join(n, enc.NewGenericBytesComponent(nonce))
}

// checkMsgName checks that got, the name of a fetched message Data, is the
// message of (publisher, topic, nonce). A Data published for another topic
// (an insert message offered for a delete notification) fails with
// ErrTopicMismatch.
func checkMsgName(publisher, topic enc.Name, nonce []byte, got enc.Name) error {
	want := MsgName(publisher, topic, nonce)
	if got.Equal(want) {
		return nil
	}
	pre := len(publisher) + 1
	if len(got) > pre && publisher.IsPrefix(got) && got.At(len(publisher)).IsGeneric("msg") {
		gotTopic := got[pre : len(got)-1]
		if !enc.Name(gotTopic).Equal(topic) {
			return fmt.Errorf("%w: message %s is for topic %s, the notification was for %s",
				ErrTopicMismatch, got, enc.Name(gotTopic), topic)
		}
	}
	return fmt.Errorf("%w: got Data %s, want %s", ErrTopicMismatch, got, want)
}

// join returns a new name: base followed by comps. It never writes into
// base's spare capacity (ndnd's Name.Append does).
func join(base enc.Name, comps ...enc.Component) enc.Name {
	n := make(enc.Name, 0, len(base)+len(comps))
	n = append(n, base...)
	return append(n, comps...)
}

// nameUsable reports whether ndnd can encode n (tlv.NdndEncodable: no
// component over tlv.NdndMaxComponentLen bytes) and, unless empty is
// allowed, whether n has a component.
func nameUsable(n enc.Name, empty bool) bool {
	return (empty || len(n) > 0) && tlv.NdndEncodable(n)
}
