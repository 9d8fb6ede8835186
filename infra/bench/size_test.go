package bench

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// budgetSlack is how far a bootstrap may grow over its committed budget before the size guard
// fails: enough for an SDK patch release, not for a new client or a dependency linked by mistake.
const budgetSlack = 0.10

// sizeBudgetFile holds each function's committed bootstrap size in bytes (linux/arm64 as deployed).
// Lower a budget when a change shrinks a function; raise it only with a reason in the commit.
const sizeBudgetFile = "testdata/size-budget.json"

// TestBootstrapSizeBudget is the size guard (issue 14): it builds every function as make
// sam-build does and fails when a bootstrap is more than budgetSlack over its budget, or when a
// function has no budget. It runs in make test; the builds reuse sam-build's Go build cache.
func TestBootstrapSizeBudget(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	raw, err := os.ReadFile(sizeBudgetFile)
	if err != nil {
		t.Fatal(err)
	}
	var budget map[string]int64
	if err := json.Unmarshal(raw, &budget); err != nil {
		t.Fatalf("%s: %v", sizeBudgetFile, err)
	}
	sizes := buildDeployed(t, root)
	for _, name := range slices.Sorted(maps.Keys(sizes)) {
		size := sizes[name]
		b, ok := budget[name]
		switch {
		case !ok:
			t.Errorf("functions/%s (%s) has no budget in %s: add one", name, mb(size), sizeBudgetFile)
		case float64(size) > float64(b)*(1+budgetSlack):
			t.Errorf("functions/%s bootstrap is %s, %.1f%% over its budget of %s (limit +%.0f%%): find what it links now "+
				"(go list -deps ./functions/%s) before raising the budget", name, mb(size),
				100*(float64(size)/float64(b)-1), mb(b), 100*budgetSlack, name)
		default:
			t.Logf("functions/%s: %s (budget %s, %+.1f%%)", name, mb(size), mb(b), 100*(float64(size)/float64(b)-1))
		}
	}
	for name := range budget {
		if _, ok := sizes[name]; !ok {
			t.Errorf("%s has a budget for %q, which is not a function in functions/", sizeBudgetFile, name)
		}
	}
}

// TestFunctionsDoNotLinkDefaultConfig keeps the SDK's config package (and the STS, SSO, OIDC and
// sign-in clients of its credential chain) out of the deployed functions: they build their
// aws.Config with shared/adapters/awsenv. It keeps the Secrets Manager client out too.
func TestFunctionsDoNotLinkDefaultConfig(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-deps", "./functions/...")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOFLAGS=-tags=lambda.norpc")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	banned := []string{"aws-sdk-go-v2/config", "aws-sdk-go-v2/service/sts", "aws-sdk-go-v2/service/sso", "aws-sdk-go-v2/service/ssooidc", "aws-sdk-go-v2/service/signin", "aws-sdk-go-v2/feature/ec2/imds"}
	for _, pkg := range strings.Fields(string(out)) {
		for _, b := range banned {
			if strings.HasSuffix(pkg, b) {
				t.Errorf("a function links %s: build the aws.Config with awsenv.Config, not config.LoadDefaultConfig", pkg)
			}
		}
		// The secrets are read with secrets.Client, one signed call, not the SDK's client.
		if strings.HasSuffix(pkg, "aws-sdk-go-v2/service/secretsmanager") {
			t.Errorf("a function links %s: read secrets with secrets.NewClient", pkg)
		}
	}
}

// buildDeployed builds every function in functions/ as make sam-build does (linux/arm64, static,
// stripped, lambda.norpc) in one go build, and returns each bootstrap's size by function directory.
func buildDeployed(t *testing.T, root string) map[string]int64 {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out+string(filepath.Separator), "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build functions for linux/arm64: %v\n%s", err, b)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int64{}
	for _, e := range entries {
		sizes[e.Name()] = fileSize(t, filepath.Join(out, e.Name()))
	}
	if len(sizes) == 0 {
		t.Fatal("go build ./functions/... produced no binaries")
	}
	return sizes
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestSDKClientsBoundNotConverted guards what the size budgets rely on most: html/template's
// reflection keeps every exported method of every type a binary converts to an interface, so a
// *dynamodb.Client or *sesv2.Client handed to an adapter's interface links all of the client's
// operations (332 and 354) with their serializers, 1.6 MB each. main.go passes dynamo.Bind(client)
// and ses.Bind(client) instead, which link only the operations bound. This counts the client
// methods linked into each function, in an unstripped build made as the local stack makes its
// own (so make test's e2e builds share the compiled packages).
func TestSDKClientsBoundNotConverted(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	out := t.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-o", out+string(filepath.Separator), "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build functions: %v\n%s", err, b)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	// Each bound operation links a handful of methods (the operation, its middleware stack);
	// a converted client links hundreds.
	const maxMethods = 120
	clients := map[string]string{"service/dynamodb.(*Client).": "dynamo.Bind", "service/sesv2.(*Client).": "ses.Bind"}
	for _, e := range entries {
		nm, err := exec.Command("go", "tool", "nm", filepath.Join(out, e.Name())).Output()
		if err != nil {
			t.Fatalf("go tool nm %s: %v", e.Name(), err)
		}
		for sym, bind := range clients {
			if n := strings.Count(string(nm), sym); n > maxMethods {
				t.Errorf("functions/%s links %d methods of %s: a client reaches an interface; pass %s(client) to the adapters", e.Name(), n, strings.TrimSuffix(sym, "."), bind)
			} else {
				t.Logf("functions/%s: %d methods of %s", e.Name(), n, strings.TrimSuffix(sym, "."))
			}
		}
	}
}

// templateFree lists the functions that must link neither text/template nor html/template: the
// templates' reflection (MethodByName) makes the linker keep every exported method of every type
// converted to an interface, about 1.7 MB a function, and the template packages themselves
// (docs/decisions.md, "Emails without templates", "Pages without html/template"). Emails are
// plain Go (shared/render/email), and so are pages (shared/render/web). It is every function.
var templateFree = []string{"actions", "bounce", "intake", "notifier", "reminders", "returns"}

// TestFunctionsDoNotLinkTemplates keeps text/template and html/template out of the functions in
// templateFree, listing each function's dependencies as make sam-build builds it.
func TestFunctionsDoNotLinkTemplates(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./functions/...")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOFLAGS=-tags=lambda.norpc")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	linked := map[string][]string{} // function → the template packages it links
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		name := filepath.Base(fields[0])
		linked[name] = nil
		for _, dep := range fields[1:] {
			if dep == "text/template" || dep == "html/template" {
				linked[name] = append(linked[name], dep)
			}
		}
	}
	for _, name := range templateFree {
		switch deps, ok := linked[name]; {
		case !ok:
			t.Errorf("templateFree names %q, which is not a function in functions/", name)
		case len(deps) > 0:
			t.Errorf("functions/%s links %s: render with plain Go (see shared/render/email); find the import with "+
				"go list -deps -tags lambda.norpc ./functions/%s", name, strings.Join(deps, " and "), name)
		}
	}
}
