// Package faults injects faults into a local stack and checks the service degrades as promised:
// with DynamoDB unavailable or throttling, POST /referrals answers 503 with Retry-After in bounded
// time and writes nothing, and the same request succeeds once afterwards (SPEC §4); a poisoned
// stream record ends up in the failure queue while the rest of its batch is delivered (SPEC §8);
// a crowd of simultaneous referrals never takes a caseload over capacity (SPEC §5).
//
// The functions reach DynamoDB through a fault-injecting reverse proxy (proxy_test.go); the stack
// itself (tables, stream polling) talks to DynamoDB Local directly, so only the service sees the
// faults. SES outages are covered by infra/e2e.
package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/infra/localstack"
	"github.com/ipspc/referrals/infra/seed"
)

var (
	stack      *localstack.Stack
	ddbProxy   *faultProxy // between the functions and DynamoDB Local
	sesURL     string      // the SES emulator, for reading /store
	logs       = &syncBuf{}
	failures   = &failureQueue{} // what the stream poller gave up on: the on-failure queue's part
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ddb, ses := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), os.Getenv("AWS_ENDPOINT_URL_SESV2")
	if ddb == "" || ses == "" {
		skipReason = "AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SESV2 are not set: run the fault-injection tests with `make test`, which starts DynamoDB Local and the SES emulator"
		return m.Run()
	}
	sesURL = ses
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	if ddbProxy, err = startFaultProxy(ddb); err != nil {
		fmt.Fprintln(os.Stderr, "faults: DynamoDB proxy:", err)
		return 1
	}
	defer ddbProxy.Close()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack, err = localstack.Start(ctx, localstack.Config{
		Root:      root,
		Functions: []string{"IntakeFunction", "NotifierFunction"},
		HTTPAddr:  "127.0.0.1:0", InvokeAddr: "127.0.0.1:0",
		// Tables and the stream poller use DynamoDB Local itself; every function goes through the
		// proxy (Env wins over the endpoint localstack sets).
		DynamoDBEndpoint: ddb,
		Env:              map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": ddbProxy.URL()},
		SESEndpoint:      ses,
		TablePrefix:      "faults-" + hex.EncodeToString(suffix) + "-",
		DropTables:       true,
		Secrets:          map[string]string{"LinkSecret": "faults-link-secret-0123456789abcdefghijklmnopqrstuvwxyz"},
		Concurrency:      10,
		// The template retries a failing batch 20 times; two are enough to show the record is
		// retried and then given up on, without waiting half a minute.
		StreamMaxRetries:      2,
		StreamRetriesOverride: true,
		OnStreamDiscard:       failures.add,
		Log:                   logs,
		Seed: func(ctx context.Context, tables map[string]string) error {
			return seed.Directory(ctx, localstack.DynamoDBClient(ddb, localstack.DefaultRegion), tables["DirectoryTable"],
				filepath.Join("testdata", "directory.json"))
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults: start local stack:", err)
		return 1
	}
	code := m.Run()
	if err := stack.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "faults: stop local stack:", err)
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- function output (last 12 KiB) ---\n%s\n", logs.tail(12<<10))
	}
	return code
}

// requireStack skips a test when the emulators are not running.
func requireStack(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// failureQueue collects the stream records the poller discarded after their retries.
type failureQueue struct {
	mu      sync.Mutex
	entries []discarded
}

type discarded struct {
	Function string
	Record   events.DynamoDBEventRecord
	Reason   string
}

func (q *failureQueue) add(function string, records []events.DynamoDBEventRecord, reason string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, r := range records {
		q.entries = append(q.entries, discarded{Function: function, Record: r, Reason: reason})
	}
}

func (q *failureQueue) all() []discarded {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]discarded(nil), q.entries...)
}

// syncBuf collects function output from many goroutines.
type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	return s[max(0, len(s)-n):]
}
