package localstack

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// answering is an invoker whose function always answers 200.
type answering struct{}

func (answering) InvokeDetailed(context.Context, string, []byte, InvokeOptions) (*Invocation, error) {
	return &Invocation{Result: []byte(`{"statusCode":200,"body":"ok"}`)}, nil
}

// TestRequestLogLeavesOutTheQuery checks the gateway's log line carries the path only: signed-link
// tokens travel in the query string and must never reach a log (SPEC §8).
func TestRequestLogLeavesOutTheQuery(t *testing.T) {
	route, err := newRoute("Fn", "Worklist", "GET", "/areas/{area}/worklist")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := newRouter([]Route{route})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	api := &httpAPI{router: rt, invoker: answering{}, logger: slog.New(slog.NewTextHandler(&logs, nil)), now: time.Now}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/areas/norfolk/worklist?token=SECRET-TOKEN", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", rec.Code, rec.Body)
	}
	if line := logs.String(); strings.Contains(line, "SECRET-TOKEN") || !strings.Contains(line, "path=/areas/norfolk/worklist ") {
		t.Errorf("log line = %q, want the path without the query", line)
	}
}
