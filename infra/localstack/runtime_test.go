package localstack

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWorkerReuse(t *testing.T) {
	s, _ := startStack(t, "echo.yaml", func(c *Config) { c.Functions = []string{"EchoFunction"} })

	var pids []int
	for i := range 3 {
		e, inv := invokeEcho(t, s, "EchoFunction", `{"n":1}`)
		pids = append(pids, e.PID)
		if wantCold := i == 0; inv.Cold != wantCold {
			t.Errorf("invocation %d: Cold = %v, want %v", i, inv.Cold, wantCold)
		}
		if inv.Cold && inv.InitDuration <= 0 {
			t.Errorf("cold invocation has InitDuration %v", inv.InitDuration)
		}
		if e.RequestID != inv.RequestID {
			t.Errorf("function saw request id %q, Invocation says %q", e.RequestID, inv.RequestID)
		}
	}
	if pids[0] != pids[1] || pids[1] != pids[2] {
		t.Errorf("pids = %v, want one warm worker", pids)
	}
	st := s.Stats("EchoFunction")
	if len(st.ColdStarts) != 1 || st.Invocations != 3 || st.Workers != 1 {
		t.Errorf("stats = %+v, want 1 cold start, 3 invocations, 1 worker", st)
	}
	if cs := s.ColdStarts("EchoFunction"); len(cs) != 1 || cs[0] <= 0 {
		t.Errorf("ColdStarts = %v", cs)
	}
}

func TestFunctionEnvironment(t *testing.T) {
	s, _ := startStack(t, "echo.yaml", func(c *Config) {
		c.Functions = []string{"EchoFunction"}
		c.Parameters = map[string]string{"Greeting": "hi"}
		c.DynamoDBEndpoint = "http://127.0.0.1:1"
		c.SESEndpoint = "http://127.0.0.1:2"
		c.Env = map[string]string{"EXTRA": "from-config", "ONLY_ECHO": "config"}
		c.FunctionEnv = map[string]map[string]string{"EchoFunction": {"ONLY_ECHO": "function-config"}}
	})
	start := time.Now()
	e, _ := invokeEcho(t, s, "EchoFunction", `{}`)
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "EchoFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "192",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "DEBUG",
		"AWS_REGION":                      "eu-west-2",
		"AWS_DEFAULT_REGION":              "eu-west-2",
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_ENDPOINT_URL_DYNAMODB":       "http://127.0.0.1:1",
		"AWS_ENDPOINT_URL_SESV2":          "http://127.0.0.1:2",
		"GREETING":                        "hi from eu-west-2",
		"MODE":                            "development",
		"TABLE":                           "https://sqs.eu-west-2.amazonaws.com/123456789012/Queue",
		"TABLE_ARN":                       "arn:aws:sqs:eu-west-2:123456789012:Queue",
		"EXTRA":                           "from-config",
		"ONLY_ECHO":                       "function-config",
	}
	for k, v := range want {
		if got := e.Env[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if h, ok := e.Env["HOME"]; ok {
		t.Errorf("HOME = %q leaked from the host; Lambda sets none", h)
	}
	// Timeout 5 from Globals: the runtime's deadline is about 5 s after the hand-over.
	if d := e.Deadline.Sub(start); d < 4*time.Second || d > 6*time.Second {
		t.Errorf("deadline is %v after the invoke, want about 5s", d)
	}
}

func TestFunctionFailures(t *testing.T) {
	s, logs := startStack(t, "echo.yaml", nil)
	tests := []struct {
		name        string
		fn          string
		payload     string
		wantType    string
		wantMessage string
		replaced    bool // the worker must be killed and replaced
	}{
		{"returned error keeps the worker", "EchoFunction", `{"action":"error"}`, "errorString", "echofn asked to fail", false},
		{"panic replaces the worker", "EchoFunction", `{"action":"panic"}`, "string", "echofn asked to panic", true},
		{"exit replaces the worker", "EchoFunction", `{"action":"exit"}`, "Runtime.ExitError", "exit status 3", true},
		{"timeout replaces the worker", "SlowFunction", `{"sleepMs":4000}`, "Sandbox.Timedout", "Task timed out after 1.00 seconds", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := invokeEcho(t, s, tt.fn, `{}`)
			start := time.Now()
			result, ferr, err := s.Invoke(context.Background(), tt.fn, []byte(tt.payload))
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if ferr == nil {
				t.Fatalf("Invoke succeeded with %s, want a %s error", result, tt.wantType)
			}
			if ferr.Type != tt.wantType || !strings.Contains(ferr.Message, tt.wantMessage) {
				t.Errorf("error = %s: %s, want %s containing %q", ferr.Type, ferr.Message, tt.wantType, tt.wantMessage)
			}
			if !strings.Contains(string(ferr.Payload), tt.wantType) {
				t.Errorf("error payload %s does not carry the type", ferr.Payload)
			}
			if tt.wantType == "Sandbox.Timedout" && elapsed > 3*time.Second {
				t.Errorf("timeout took %v, want about the function's 1s Timeout", elapsed)
			}
			if tt.replaced {
				waitGone(t, before.PID)
			}
			after, _ := invokeEcho(t, s, tt.fn, `{}`)
			if replaced := after.PID != before.PID; replaced != tt.replaced {
				t.Errorf("pid %d → %d: replaced = %v, want %v", before.PID, after.PID, replaced, tt.replaced)
			}
		})
	}
	if !strings.Contains(logs.String(), `"status":"timeout"`) {
		t.Errorf("no platform.report line for the timeout in the output:\n%s", logs)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	// SlowFunction reserves a concurrency of 2: six overlapping invocations share two workers.
	s, _ := startStack(t, "echo.yaml", func(c *Config) { c.Functions = []string{"SlowFunction"} })
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		pids = map[int]int{}
	)
	for range 6 {
		wg.Go(func() {
			e, _ := invokeEcho(t, s, "SlowFunction", `{"sleepMs":300}`)
			mu.Lock()
			pids[e.PID]++
			mu.Unlock()
		})
	}
	wg.Wait()
	st := s.Stats("SlowFunction")
	if len(pids) != 2 || st.MaxConcurrency != 2 || st.Workers != 2 || len(st.ColdStarts) != 2 {
		t.Errorf("pids %v, stats %+v: want exactly 2 workers serving 6 invocations", pids, st)
	}
}

func TestConcurrencyOverride(t *testing.T) {
	s, _ := startStack(t, "echo.yaml", func(c *Config) {
		c.Functions = []string{"EchoFunction"}
		c.FunctionConcurrency = map[string]int{"EchoFunction": 1}
	})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { invokeEcho(t, s, "EchoFunction", `{"sleepMs":100}`) })
	}
	wg.Wait()
	if st := s.Stats("EchoFunction"); st.MaxConcurrency != 1 || len(st.ColdStarts) != 1 {
		t.Errorf("stats %+v, want one worker at a time", st)
	}
}

func TestInvokeErrors(t *testing.T) {
	s, _ := startStack(t, "echo.yaml", func(c *Config) { c.Functions = []string{"EchoFunction"} })
	tests := []struct {
		name    string
		fn      string
		payload []byte
		want    error
	}{
		{"unknown function", "NopeFunction", []byte(`{}`), ErrUnknownFunction},
		{"payload over 6 MB", "EchoFunction", make([]byte, MaxPayloadSize+1), ErrRequestTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.Invoke(context.Background(), tt.fn, tt.payload)
			if err == nil || !strings.Contains(err.Error(), tt.want.Error()) {
				t.Errorf("Invoke error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCloseStopsWorkers(t *testing.T) {
	s, _ := startStack(t, "echo.yaml", func(c *Config) { c.Functions = []string{"EchoFunction"} })
	e, _ := invokeEcho(t, s, "EchoFunction", `{}`)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if processAlive(e.PID) {
		t.Errorf("worker %d still running after Close", e.PID)
	}
	if _, _, err := s.Invoke(context.Background(), "EchoFunction", []byte(`{}`)); err == nil {
		t.Error("Invoke after Close succeeded")
	}
}

func TestFunctionLogsArePrefixed(t *testing.T) {
	s, logs := startStack(t, "echo.yaml", func(c *Config) { c.Functions = []string{"EchoFunction", "SlowFunction"} })
	invokeEcho(t, s, "EchoFunction", `{}`)
	// The longest logical id sets the width, so "EchoFunction" is padded to line up.
	want := "EchoFunction  {"
	waitFor(t, 2*time.Second, "a prefixed log line", func() bool { return strings.Contains(logs.String(), want) })
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(line, "echofn starting") && !strings.HasPrefix(line, want) {
			t.Errorf("log line %q lacks the prefix %q", line, want)
		}
	}
}
