package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchRoot is the repository root for a benchmark run under the emulators: all of it with `make
// bench` (TestBench), or one part alone (which writes no docs/benchmarks.md), e.g. `go run
// ./infra/cmd/local -emulators-only -- env IPSPC_BENCH=1 go test -run '^TestBenchCapacity$' -v
// ./infra/bench`.
func benchRoot(t *testing.T) string {
	t.Helper()
	if os.Getenv("IPSPC_BENCH") != "1" {
		t.Skip("benchmarks run with `make bench` (IPSPC_BENCH=1), not in make test")
	}
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set: run `make bench`, which starts DynamoDB Local")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestBenchCapacity is the intake's write capacity alone (the report's WCU figure).
func TestBenchCapacity(t *testing.T) {
	c, _ := measureCapacity(t, benchRoot(t))
	f := c.writeFigure()
	fmt.Print(table([]figure{f}))
	fmt.Printf("\n%s\n", f.Why)
}

// TestBenchSweep is the reminders sweep at 1,000 and 100,000 stored referrals alone (the report's
// sweep figures), from a referral the intake's store wrote. A missed ratio fails: it is a count
// of capacity units, not a timing.
func TestBenchSweep(t *testing.T) {
	root := benchRoot(t)
	_, tmpl := measureCapacity(t, root)
	figures := measureSweep(t, root, tmpl).figures()
	fmt.Print(table(figures))
	for _, f := range figures {
		if f.Target != "" && !f.Met {
			t.Errorf("%s: %s", f.Name, f.Why)
		}
	}
}

// TestBenchReport is a programme return's reads alone (the report's "Report reads" figure): one
// area and 12 months with 10,000 and 100,000 other referrals' facts stored. A missed ratio fails.
func TestBenchReport(t *testing.T) {
	f := measureReport(t, benchRoot(t)).figure()
	fmt.Print(table([]figure{f}))
	if !f.Met {
		t.Errorf("%s: %s", f.Name, f.Why)
	}
}
