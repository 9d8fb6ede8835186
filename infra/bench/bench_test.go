// Package bench measures the service against its performance targets on this machine and writes
// docs/benchmarks.md. `make bench` runs it under infra/cmd/local's emulators (DynamoDB Local and
// the SES emulator); `make test` does not, because TestBench skips unless IPSPC_BENCH=1.
//
// What it measures, and how:
//
//   - intake latency through the local HTTP API, against a bare PutItem to the same DynamoDB
//     Local, interleaved sample by sample (service_test.go);
//   - sustained referrals per second through the local stack (service_test.go);
//   - consumed capacity per referral of the intake, its notifications and the reminder sweep, by
//     running the stores in-process over a client that asks DynamoDB for consumed capacity
//     (capacity_test.go), and the sweep's reads at 1,000 and 100,000 stored referrals;
//   - the specialist's actions (contact, meeting, close) through the progress store, with their
//     writes at AWS rates from the items' sizes (actions_test.go);
//   - a programme return's reads for one area and 12 months with 10,000 and 100,000 other
//     referrals' facts stored (returns_test.go);
//   - IntakeFunction's cold start and binary size against a hello-world aws-lambda-go function
//     built and run the same way (coldstart_test.go).
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// results is everything one run measured.
type results struct {
	Machine    machine
	Cold       coldResult
	Sizes      sizeResult
	Latency    latencyResult
	Throughput throughputResult // loadClients: the judged figure
	Crowd      throughputResult // crowdClients
	Capacity   capacityResult
	Actions    actionsResult
	Revisit    revisitResult
	Sweep      sweepResult
	Report     reportResult
	Took       time.Duration
}

func TestBench(t *testing.T) {
	root := benchRoot(t)
	start := time.Now()
	var r results
	r.Machine = describeMachine(t, root)
	// Cold starts first, while nothing else has warmed or loaded the machine.
	r.Cold, r.Sizes = measureColdStarts(t, root)
	r.Latency, r.Throughput, r.Crowd = measureService(t, root)
	var template referralTemplate
	r.Capacity, template = measureCapacity(t, root)
	r.Actions = measureActions(t, root)
	r.Sweep = measureSweep(t, root, template)
	r.Revisit = measureRevisit(t, root, template)
	r.Report = measureReport(t, root)
	r.Took = time.Since(start)

	figures := r.figures()
	fmt.Println()
	fmt.Print(table(figures))
	out := filepath.Join(root, "docs", "benchmarks.md")
	if err := os.WriteFile(out, []byte(r.markdown(figures)), 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\nwrote %s in %s\n", out, r.Took.Round(time.Second))
}

// machine says where the figures were measured.
type machine struct {
	Commit, Date, CPUs, CPU, Go, OS string
	Dirty                           bool
}

func describeMachine(t *testing.T, root string) machine {
	t.Helper()
	m := machine{
		Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		CPUs: fmt.Sprint(runtime.NumCPU()),
		Go:   runtime.Version(),
		OS:   runtime.GOOS + "/" + runtime.GOARCH,
		CPU:  "unknown",
	}
	if out, err := command(root, "git", "rev-parse", "--short", "HEAD"); err == nil {
		m.Commit = strings.TrimSpace(out)
	}
	if out, err := command(root, "git", "status", "--porcelain"); err == nil {
		m.Dirty = strings.TrimSpace(out) != ""
	}
	if out, err := command(root, "nproc"); err == nil {
		m.CPUs = strings.TrimSpace(out)
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func command(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return string(out), err
}

// tailBuffer keeps the last bytes written to it: function output, shown when a step fails.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 64<<10 {
		b.buf = append([]byte(nil), b.buf[len(b.buf)-32<<10:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

var _ io.Writer = (*tailBuffer)(nil)

func timeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
