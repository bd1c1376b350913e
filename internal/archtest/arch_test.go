package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/ndn-invoke/ndn-invoke"

// forbidden maps a package (and its subpackages) to module packages it must
// not depend on, directly or not.
var forbidden = map[string][]string{
	"security": {"ndn", "rpc", "svs", "pubsub", "repo", "cmd", "examples"},
	"ndn":      {"rpc", "svs", "pubsub", "repo", "cmd", "examples"},
	"rpc":      {"svs", "pubsub", "repo", "cmd", "examples"},
	"svs":      {"rpc", "pubsub", "repo", "cmd", "examples"},
	"pubsub":   {"repo", "cmd", "examples"},
	"repo":     {"pubsub", "cmd", "examples"},
}

func TestImportLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], module+"/")
		top, _, _ := strings.Cut(pkg, "/")
		bans, ok := forbidden[top]
		if !ok {
			continue
		}
		checked++
		for _, dep := range f[1:] {
			rel, ok := strings.CutPrefix(dep, module+"/")
			if !ok {
				continue
			}
			depTop, _, _ := strings.Cut(rel, "/")
			for _, b := range bans {
				if depTop == b {
					t.Errorf("%s imports %s: imports must point down the layers", f[0], dep)
				}
			}
		}
	}
	if checked < 2 {
		t.Fatalf("checked only %d packages: is go list output what this test expects?", checked)
	}
}
