package bench

import (
	"os"
	"path/filepath"
	"testing"
)

// TestColdStart runs only the cold-start measurement of TestBench (make bench), for working on
// start-up without the rest of the suite:
//
//	go run ./infra/cmd/local -emulators-only -- env IPSPC_BENCH=1 go test -count=1 -run '^TestColdStart$' -v ./infra/bench
func TestColdStart(t *testing.T) {
	if os.Getenv("IPSPC_BENCH") != "1" {
		t.Skip("benchmarks run with `make bench` (IPSPC_BENCH=1), not in make test")
	}
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set: run it under infra/cmd/local -emulators-only")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cold, _ := measureColdStarts(t, root)
	hello, intake := median(cold.Hello), median(cold.Intake)
	t.Logf("median init: hello %v, intake %v = %.2f× (target ≤ 1.5×)", hello, intake, float64(intake)/float64(hello))
	t.Logf("first response: hello %v, intake %v", median(cold.HelloFirst), median(cold.IntakeFirst))
	t.Logf("package init: hello %v, intake %v; costliest: %v", cold.HelloInit, cold.IntakeInit, cold.IntakeTopInits)
}
