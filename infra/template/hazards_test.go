package template

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHazardLogNamesRealTests parses docs/clinical-safety.md and checks it has at least 15
// hazards, each with a cause, a control and tests, and that every named test function exists in
// the named package, so the hazard log cannot cite a renamed or removed test.
func TestHazardLogNamesRealTests(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(root, "docs", "clinical-safety.md"))
	if err != nil {
		t.Fatal(err)
	}
	hazards := regexp.MustCompile(`(?m)^## (H\d+) `).FindAllStringSubmatchIndex(string(src), -1)
	if len(hazards) < 15 {
		t.Fatalf("%d hazards, want at least 15", len(hazards))
	}
	testRef := regexp.MustCompile(`^([a-z][a-z0-9/_-]*) (Test[A-Za-z0-9_]+)$`)
	named := 0
	for i, h := range hazards {
		end := len(src)
		if i+1 < len(hazards) {
			end = hazards[i+1][0]
		}
		id, body := string(src[h[2]:h[3]]), string(src[h[0]:end])
		for _, field := range []string{"**Cause:**", "**Control:**", "**Tests:**"} {
			if !strings.Contains(body, "- "+field) {
				t.Errorf("%s has no %s", id, field)
			}
		}
		_, tests, _ := strings.Cut(body, "- **Tests:**")
		tests, _, _ = strings.Cut(tests, "\n")
		refs := strings.Split(tests, ";")
		if strings.TrimSpace(tests) == "" {
			t.Errorf("%s names no test", id)
			continue
		}
		for _, ref := range refs {
			m := testRef.FindStringSubmatch(strings.TrimSpace(ref))
			if m == nil {
				t.Errorf("%s: %q is not `package/path TestName`", id, strings.TrimSpace(ref))
				continue
			}
			named++
			if !testExists(t, m[1], m[2]) {
				t.Errorf("%s names %s %s: no such test function in %s", id, m[1], m[2], m[1])
			}
		}
	}
	t.Logf("%d hazards, %d test references", len(hazards), named)
}

// testExists reports whether a _test.go file directly in the package directory declares func name(.
func testExists(tb testing.TB, pkg, name string) bool {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(pkg), "*_test.go"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		if strings.Contains(string(b), "\nfunc "+name+"(") {
			return true
		}
	}
	return false
}
