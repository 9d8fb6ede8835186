package localstack

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestInvokeAPI(t *testing.T) {
	s, _ := startStack(t, "echo.yaml", func(c *Config) { c.Functions = []string{"EchoFunction"} })
	url := func(name string) string { return s.InvokeURL() + "/2015-03-31/functions/" + name + "/invocations" }
	arn := "arn:aws:lambda:eu-west-2:123456789012:function:EchoFunction"
	clientContext := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))
	tests := []struct {
		name          string
		url           string
		headers       map[string]string
		payload       string
		wantStatus    int
		wantFuncError string // X-Amz-Function-Error
		wantErrorType string // X-Amzn-ErrorType
		wantInBody    string
	}{
		{"by logical id", url("EchoFunction"), nil, `{"x":1}`, 200, "", "", `\"x\":1`},
		{"by ARN", url(arn), nil, `{}`, 200, "", "", `"statusCode":200`},
		{"by escaped ARN", url(strings.ReplaceAll(arn, ":", "%3A")), nil, `{}`, 200, "", "", `"statusCode":200`},
		{"by partial ARN", url("123456789012:function:EchoFunction"), nil, `{}`, 200, "", "", `"statusCode":200`},
		{"$LATEST qualifier", url("EchoFunction:$LATEST"), nil, `{}`, 200, "", "", `"statusCode":200`},
		{"explicit RequestResponse", url("EchoFunction"), map[string]string{"X-Amz-Invocation-Type": "RequestResponse"}, `{}`, 200, "", "", `"statusCode":200`},
		{"empty payload is {}", url("EchoFunction"), nil, ``, 200, "", "", `\"event\":{}`},
		{"client context", url("EchoFunction"), map[string]string{"X-Amz-Client-Context": clientContext}, `{}`, 200, "", "", `"statusCode":200`},
		{"function error", url("EchoFunction"), nil, `{"action":"error"}`, 200, "Unhandled", "", `"errorType":"errorString"`},
		{"panic", url("EchoFunction"), nil, `{"action":"panic"}`, 200, "Unhandled", "", `"errorMessage":"echofn asked to panic"`},
		{"unknown function", url("NopeFunction"), nil, `{}`, 404, "", "ResourceNotFoundException", "Function not found"},
		{"other qualifier", url("EchoFunction:live"), nil, `{}`, 404, "", "ResourceNotFoundException", "only $LATEST"},
		{"invalid JSON", url("EchoFunction"), nil, `{oops`, 400, "", "InvalidRequestContentException", "Could not parse"},
		{"asynchronous", url("EchoFunction"), map[string]string{"X-Amz-Invocation-Type": "Event"}, `{}`, 202, "", "", ""},
		{"dry run", url("EchoFunction"), map[string]string{"X-Amz-Invocation-Type": "DryRun"}, `{}`, 204, "", "", ""},
		{"too large", url("EchoFunction"), nil, `"` + strings.Repeat("a", MaxPayloadSize) + `"`, 413, "", "RequestTooLargeException", ""},
		{"other operation", s.InvokeURL() + "/2015-03-31/functions", nil, ``, 404, "", "UnknownOperationException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, http.MethodPost, tt.url, strings.NewReader(tt.payload))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, body := do(t, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %.300s)", resp.StatusCode, tt.wantStatus, body)
			}
			if got := resp.Header.Get("X-Amz-Function-Error"); got != tt.wantFuncError {
				t.Errorf("X-Amz-Function-Error = %q, want %q", got, tt.wantFuncError)
			}
			if got := resp.Header.Get("X-Amzn-ErrorType"); got != tt.wantErrorType {
				t.Errorf("X-Amzn-ErrorType = %q, want %q", got, tt.wantErrorType)
			}
			if !bytes.Contains(body, []byte(tt.wantInBody)) {
				t.Errorf("body %.300s does not contain %s", body, tt.wantInBody)
			}
			if tt.wantStatus == 200 && resp.Header.Get("X-Amz-Executed-Version") != "$LATEST" {
				t.Errorf("X-Amz-Executed-Version = %q", resp.Header.Get("X-Amz-Executed-Version"))
			}
		})
	}
}

func TestFunctionName(t *testing.T) {
	tests := []struct{ in, name, qualifier string }{
		{"RemindersFunction", "RemindersFunction", ""},
		{"RemindersFunction:$LATEST", "RemindersFunction", "$LATEST"},
		{"arn:aws:lambda:eu-west-2:123456789012:function:RemindersFunction", "RemindersFunction", ""},
		{"arn:aws:lambda:eu-west-2:123456789012:function:RemindersFunction:prod", "RemindersFunction", "prod"},
		{"123456789012:function:RemindersFunction", "RemindersFunction", ""},
	}
	for _, tt := range tests {
		name, q := functionName(tt.in)
		if name != tt.name || q != tt.qualifier {
			t.Errorf("functionName(%q) = %q, %q; want %q, %q", tt.in, name, q, tt.name, tt.qualifier)
		}
	}
}

// TestAWSCLIInvoke runs the command the SPEC promises works: aws lambda invoke --endpoint-url.
func TestAWSCLIInvoke(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed")
	}
	s, _ := startStack(t, "echo.yaml", func(c *Config) { c.Functions = []string{"EchoFunction"} })
	dir := t.TempDir()
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, []byte(`{"action":"object"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	cmd := exec.Command("aws", "lambda", "invoke", "--endpoint-url", s.InvokeURL(), "--function-name", "EchoFunction",
		"--payload", "fileb://"+event, "--cli-read-timeout", "30", out)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=eu-west-2", "AWS_DEFAULT_REGION=eu-west-2",
		"AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	status, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws lambda invoke: %v\n%s", err, status)
	}
	var meta struct {
		StatusCode      int
		ExecutedVersion string
	}
	if err := json.Unmarshal(status, &meta); err != nil || meta.StatusCode != 200 || meta.ExecutedVersion != "$LATEST" {
		t.Errorf("CLI output %s (%v)", status, err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"hello":"world"}` {
		t.Errorf("out.json = %s", got)
	}
}
