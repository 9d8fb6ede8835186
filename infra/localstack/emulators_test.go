package localstack

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// portFree reports whether nothing listens on 127.0.0.1:port.
func portFree(port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}

func TestEmulatorsStartAndStop(t *testing.T) {
	root := moduleRoot(t)
	tests := []struct {
		name  string
		tool  string
		start func(context.Context, EmulatorOptions) (*Process, error)
		check func(t *testing.T, p *Process)
	}{
		{"DynamoDB Local", "java", StartDynamoDBLocal, func(t *testing.T, p *Process) {
			if _, err := DynamoDBClient(p.URL, "").ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
				t.Errorf("ListTables: %v", err)
			}
		}},
		{"SES", "node", StartSES, func(t *testing.T, p *Process) {
			resp, err := http.Get(p.URL + "/store")
			if err != nil {
				t.Fatalf("GET /store: %v", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"emails"`) {
				t.Errorf("GET /store = %d %s", resp.StatusCode, body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if reason := emulatorSkipReason(root, tt.tool); reason != "" {
				t.Skip(reason)
			}
			logs := &logBuffer{}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			p, err := tt.start(ctx, EmulatorOptions{NodeModules: filepath.Join(root, "node_modules"), Log: logs})
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			t.Cleanup(func() { _ = p.Stop() })
			if p.Port == 0 || !strings.HasSuffix(p.URL, ":"+strconv.Itoa(p.Port)) {
				t.Errorf("URL %s, port %d", p.URL, p.Port)
			}
			tt.check(t, p)
			// Bound to 127.0.0.1 only: not reachable on any other address of this machine.
			for _, ip := range nonLoopbackIPv4(t) {
				if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(p.Port)), 2*time.Second); err == nil {
					c.Close()
					t.Errorf("%s answers on %s:%d, want 127.0.0.1 only", tt.name, ip, p.Port)
				}
			}

			pid := p.Pid()
			if err := p.Stop(); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			select {
			case <-p.Done():
			default:
				t.Error("Done not closed after Stop")
			}
			if processAlive(pid) {
				t.Errorf("emulator process %d still running", pid)
			}
			if !portFree(p.Port) {
				t.Errorf("port %d still in use after Stop", p.Port)
			}
			if err := p.Stop(); err != nil {
				t.Errorf("second Stop: %v", err)
			}
		})
	}
}

func TestEmulatorPortInUse(t *testing.T) {
	root := moduleRoot(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name  string
		start func(context.Context, EmulatorOptions) (*Process, error)
		env   string
	}{
		{"DynamoDB Local", StartDynamoDBLocal, "DYNAMODB_PORT"},
		{"SES", StartSES, "SES_PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The port check comes before the tools are needed, so this runs without them too.
			_, err := tt.start(context.Background(), EmulatorOptions{
				NodeModules: filepath.Join(root, "node_modules"), Port: port, PortEnv: tt.env, Executable: "/bin/true",
			})
			var inUse *PortInUseError
			if !errors.As(err, &inUse) {
				t.Fatalf("err = %v, want a PortInUseError", err)
			}
			want := "port " + strconv.Itoa(port) + " is in use: set " + tt.env
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
}

func TestEmulatorMissingPackage(t *testing.T) {
	_, err := StartDynamoDBLocal(context.Background(), EmulatorOptions{NodeModules: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "npm ci") {
		t.Errorf("err = %v, want a hint to run npm ci", err)
	}
	_, err = StartSES(context.Background(), EmulatorOptions{NodeModules: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "npm ci") {
		t.Errorf("err = %v, want a hint to run npm ci", err)
	}
}

func TestCreateTablesFromProjectTemplate(t *testing.T) {
	endpoint := dynamoEndpoint(t)
	tmpl, err := LoadTemplate(filepath.Join(moduleRoot(t), "template.yaml"), TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	client := DynamoDBClient(endpoint, "")
	prefix := uniquePrefix(t)
	ctx := context.Background()
	names, err := CreateTables(ctx, client, tmpl, prefix)
	if err != nil {
		t.Fatalf("CreateTables: %v", err)
	}
	t.Cleanup(func() { _ = DeleteTables(context.Background(), client, names) })
	// Twice is harmless.
	if _, err := CreateTables(ctx, client, tmpl, prefix); err != nil {
		t.Fatalf("CreateTables again: %v", err)
	}

	tests := []struct {
		table      string
		wantTTL    string
		wantStream bool
		wantGSIs   int
	}{
		{"ReferralsTable", "expiresAt", true, 2}, // Waitlist, Due
		{"ReturnsTable", "", false, 0},
		{"DirectoryTable", "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			name := names[tt.table]
			if name != prefix+tt.table {
				t.Fatalf("name = %q, want %q", name, prefix+tt.table)
			}
			d, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Table.StreamSpecification != nil && aws.ToBool(d.Table.StreamSpecification.StreamEnabled); got != tt.wantStream {
				t.Errorf("stream enabled = %v, want %v", got, tt.wantStream)
			}
			if len(d.Table.GlobalSecondaryIndexes) != tt.wantGSIs {
				t.Errorf("GSIs = %d, want %d", len(d.Table.GlobalSecondaryIndexes), tt.wantGSIs)
			}
			ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			enabled := ttl.TimeToLiveDescription != nil && ttl.TimeToLiveDescription.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled
			if tt.wantTTL != "" && (!enabled || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != tt.wantTTL) {
				t.Errorf("TTL = %+v, want enabled on %s", ttl.TimeToLiveDescription, tt.wantTTL)
			}
			if tt.wantTTL == "" && enabled {
				t.Errorf("TTL enabled, want off")
			}
		})
	}
}

// nonLoopbackIPv4 lists this machine's other IPv4 addresses (none on a loopback-only sandbox:
// then the bind check has nothing to dial and proves nothing, which the log says).
func nonLoopbackIPv4(t *testing.T) []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatalf("InterfaceAddrs: %v", err)
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			out = append(out, n.IP.String())
		}
	}
	if len(out) == 0 {
		t.Log("no non-loopback IPv4 address to check the bind address against")
	}
	return out
}
