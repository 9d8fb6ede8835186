package bench

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/infra/localstack"
)

// coldRounds is how many cold starts of each function are timed, alternating between them;
// traceRounds how many more are taken with GODEBUG=inittrace=1.
const (
	coldRounds  = 9
	traceRounds = 3
)

type coldResult struct {
	Hello, Intake []time.Duration // init durations, sorted
	// The same starts' exec → first response (Init Duration plus the first invocation's
	// Duration), sorted: the intake's first request reads its secrets (startup.Deferred), so
	// this is where that round trip now shows.
	HelloFirst, IntakeFirst []time.Duration
	// Init traces (GODEBUG=inittrace=1) of one start each: package init time in all, and the
	// costliest packages of the intake.
	HelloInit, IntakeInit time.Duration
	IntakeTopInits        []pkgInit
}

type pkgInit struct {
	Package string
	Clock   time.Duration
}

type sizeResult struct {
	HelloArm64, IntakeArm64 int64 // as deployed: linux/arm64, stripped, lambda.norpc
	HelloHost, IntakeHost   int64 // as the local stack builds them: host arch, not stripped
	// DynamoDB-only functions (testdata/sizeprobe), arm64 as deployed: with the SDK's default
	// config loading, and with an aws.Config built from the environment.
	DefaultConfigArm64, StaticConfigArm64 int64
	Assets                                int64            // the form's embedded assets (shared/render/web/assets)
	Functions                             map[string]int64 // every function, arm64 as deployed, by directory
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// measureColdStarts starts a fresh stack for each sample, so every invocation is a new worker's
// first: the time from exec of the bootstrap to its first Runtime API /next (Lambda's Init
// Duration), for the hello world and for IntakeFunction in turn.
func measureColdStarts(t *testing.T, root string) (coldResult, sizeResult) {
	t.Helper()
	var r coldResult
	helloTemplate := filepath.Join(root, "infra", "bench", "testdata", "hello.yaml")
	helloDir, intakeDir := t.TempDir(), t.TempDir()
	form := []byte(`{"version":"2.0","routeKey":"GET /","rawPath":"/","headers":{},"requestContext":{"http":{"method":"GET","path":"/"}}}`)
	for range coldRounds {
		hello := coldStart(t, root, helloTemplate, "HelloFunction", helloDir, []byte(`{}`), nil)
		intake := coldStart(t, root, "", "IntakeFunction", intakeDir, form, nil)
		r.Hello, r.HelloFirst = append(r.Hello, hello.InitDuration), append(r.HelloFirst, hello.InitDuration+hello.Duration)
		r.Intake, r.IntakeFirst = append(r.Intake, intake.InitDuration), append(r.IntakeFirst, intake.InitDuration+intake.Duration)
	}
	for _, d := range [][]time.Duration{r.Hello, r.Intake, r.HelloFirst, r.IntakeFirst} {
		slices.Sort(d)
	}

	// Where the intake's extra start-up goes: the Go runtime's own per-package init trace, the
	// median of a few starts per package (one start alone is noisy).
	var helloRuns, intakeRuns [][]pkgInit
	for range traceRounds {
		trace := map[string]string{"GODEBUG": "inittrace=1"}
		helloTrace, intakeTrace := &tailBuffer{}, &tailBuffer{}
		coldStartLogged(t, root, helloTemplate, "HelloFunction", helloDir, []byte(`{}`), trace, helloTrace)
		coldStartLogged(t, root, "", "IntakeFunction", intakeDir, form, trace, intakeTrace)
		helloRuns, intakeRuns = append(helloRuns, parseInitTrace(helloTrace.String())), append(intakeRuns, parseInitTrace(intakeTrace.String()))
		if len(helloRuns[len(helloRuns)-1]) == 0 || len(intakeRuns[len(intakeRuns)-1]) == 0 {
			t.Fatalf("no init trace in the function output:\n%s", intakeTrace.String())
		}
	}
	var intake []pkgInit
	r.HelloInit, _ = medianInits(helloRuns)
	r.IntakeInit, intake = medianInits(intakeRuns)
	sort.Slice(intake, func(i, j int) bool { return intake[i].Clock > intake[j].Clock })
	r.IntakeTopInits = intake[:min(6, len(intake))]

	sizes := sizeResult{
		HelloHost:  fileSize(t, filepath.Join(helloDir, "HelloFunction", "bootstrap")),
		IntakeHost: fileSize(t, filepath.Join(intakeDir, "IntakeFunction", "bootstrap")),
	}
	sizes.HelloArm64 = buildArm64(t, root, "./infra/bench/testdata/hello")
	sizes.Functions = buildDeployed(t, root)
	sizes.IntakeArm64 = sizes.Functions["intake"]
	sizes.DefaultConfigArm64 = buildArm64(t, root, "./infra/bench/testdata/sizeprobe/defaultconfig")
	sizes.StaticConfigArm64 = buildArm64(t, root, "./infra/bench/testdata/sizeprobe/staticconfig")
	sizes.Assets = dirSize(t, filepath.Join(root, "shared", "render", "web", "assets"))
	t.Logf("cold start: hello %v, intake %v", r.Hello, r.Intake)
	return r, sizes
}

func coldStart(t *testing.T, root, template, fn, buildDir string, payload []byte, env map[string]string) *localstack.Invocation {
	t.Helper()
	return coldStartLogged(t, root, template, fn, buildDir, payload, env, &tailBuffer{})
}

func coldStartLogged(t *testing.T, root, template, fn, buildDir string, payload []byte, env map[string]string, logs *tailBuffer) *localstack.Invocation {
	t.Helper()
	ctx, cancel := timeout(3 * time.Minute)
	defer cancel()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	s, err := localstack.Start(ctx, localstack.Config{
		Root: root, TemplatePath: template, Functions: []string{fn},
		HTTPAddr: "127.0.0.1:0", InvokeAddr: "127.0.0.1:0",
		TablePrefix: "bench-cold-" + hex.EncodeToString(suffix) + "-", DropTables: true,
		DisableTriggers: true, BuildDir: buildDir,
		FunctionEnv: map[string]map[string]string{fn: env},
		Log:         logs,
	})
	if err != nil {
		t.Fatalf("start %s: %v", fn, err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("stop %s: %v", fn, err)
		}
	}()
	inv, err := s.InvokeDetailed(ctx, fn, payload, localstack.InvokeOptions{})
	if err != nil || inv.Error != nil || !inv.Cold {
		t.Fatalf("invoke %s: err %v, function error %v, cold %v\n%s", fn, err, inv.Error, inv != nil && inv.Cold, logs.String())
	}
	return inv
}

// initLine is one line of GODEBUG=inittrace=1: "init internal/bytealg @0.008 ms, 0.004 ms clock, 0 bytes, 0 allocs".
var initLine = regexp.MustCompile(`init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock`)

func parseInitTrace(out string) []pkgInit {
	var pkgs []pkgInit
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := initLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ms, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		pkgs = append(pkgs, pkgInit{Package: m[1], Clock: time.Duration(ms * float64(time.Millisecond))})
	}
	return pkgs
}

// medianInits is each package's median init time over several traces, and their sum.
func medianInits(runs [][]pkgInit) (time.Duration, []pkgInit) {
	times := map[string][]time.Duration{}
	for _, run := range runs {
		for _, p := range run {
			times[p.Package] = append(times[p.Package], p.Clock)
		}
	}
	var total time.Duration
	var out []pkgInit
	for _, pkg := range slices.Sorted(maps.Keys(times)) {
		d := times[pkg]
		for len(d) < len(runs) { // a package missing from a trace took no time there
			d = append(d, 0)
		}
		m := median(d)
		total += m
		out = append(out, pkgInit{Package: pkg, Clock: m})
	}
	return total, out
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// buildArm64 builds a function as it is deployed (make sam-build's flags) and returns its size.
func buildArm64(t *testing.T, root, pkg string) int64 {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s for linux/arm64: %v\n%s", pkg, err, b)
	}
	return fileSize(t, out)
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		n += fi.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
