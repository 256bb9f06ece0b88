package reports

import (
	"bytes"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// modulePath is the project's module; edges to other modules are not
// checked here.
const modulePath = "github.com/trackaudit/trackaudit"

// allowedImports states ARCHITECTURE.md's import rules: for each project
// package (relative to the module, by prefix), which project packages it
// may import. cmd/ may import everything.
var allowedImports = []struct {
	pkg     string
	allowed []string
}{
	{"traffic", nil},
	{"rules", nil},
	{"detectors", []string{"traffic", "rules"}},
	{"capture", []string{"traffic"}},
	{"proxy", []string{"traffic"}},
	{"reports", []string{"traffic"}},
	{"internal/", nil},
}

// TestImportEdges runs `go list` over the module and checks that each
// package imports only what the architecture allows, so the picture in
// ARCHITECTURE.md stays true. Test-only imports are included: a test may
// use internal/* helpers (fixtures), nothing else.
func TestImportEdges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	cmd := exec.Command(gobin, "list", "-e", "-f", "{{.ImportPath}} {{join .Imports \",\"}} {{join .TestImports \",\"}} {{join .XTestImports \",\"}}", modulePath+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	checked := 0
	var bad []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], modulePath), "/")
		if pkg == "" || strings.HasPrefix(pkg, "cmd/") || strings.HasPrefix(pkg, "bench/") || strings.HasPrefix(pkg, "examples/") {
			continue // programs wire the stages together and may import everything
		}
		rules, ok := rulesFor(pkg)
		if !ok {
			bad = append(bad, pkg+": package not in ARCHITECTURE.md's table (add it there and to allowedImports)")
			continue
		}
		checked++
		imports := map[string]bool{}
		for _, f := range fields[1:] {
			for _, imp := range strings.Split(f, ",") {
				imports[imp] = true
			}
		}
		for imp := range imports {
			rel, ok := strings.CutPrefix(imp, modulePath+"/")
			if !ok || rel == pkg || strings.HasPrefix(rel, "internal/") && !strings.HasPrefix(pkg, "internal/") {
				continue // other module, itself, or internal test helpers
			}
			if !allowedIn(rel, rules) {
				bad = append(bad, pkg+" imports "+rel)
			}
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("architecture: %s", b)
	}
	if checked == 0 {
		t.Fatalf("go list found no project packages:\n%s", out)
	}
}

func rulesFor(pkg string) ([]string, bool) {
	for _, r := range allowedImports {
		if pkg == r.pkg || strings.HasSuffix(r.pkg, "/") && strings.HasPrefix(pkg, r.pkg) || strings.HasPrefix(pkg, r.pkg+"/") {
			return r.allowed, true
		}
	}
	return nil, false
}

func allowedIn(rel string, allowed []string) bool {
	for _, a := range allowed {
		if rel == a || strings.HasPrefix(rel, a+"/") {
			return true
		}
	}
	return false
}

func TestImportRules(t *testing.T) {
	tests := []struct {
		pkg, imp string
		want     bool
	}{
		{"detectors", "traffic", true},
		{"detectors", "rules", true},
		{"detectors", "reports", false},
		{"reports", "traffic", true},
		{"reports", "rules", false},
		{"reports", "capture", false},
		{"traffic", "rules", false},
		{"capture", "traffic", true},
		{"proxy", "capture", false},
		{"internal/fixtures", "traffic", false},
	}
	for _, tt := range tests {
		rules, ok := rulesFor(tt.pkg)
		if !ok {
			t.Fatalf("no rules for %s", tt.pkg)
		}
		if got := allowedIn(tt.imp, rules); got != tt.want {
			t.Errorf("%s importing %s allowed = %v, want %v", tt.pkg, tt.imp, got, tt.want)
		}
	}
	if _, ok := rulesFor("newpkg"); ok {
		t.Error("rulesFor(newpkg) found rules, want unknown package")
	}
}
