package localstack

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// mustLoad loads a testdata template or stops the test.
func mustLoad(tb testing.TB, name string, opts TemplateOptions) *Template {
	tb.Helper()
	t, err := LoadTemplate(filepath.Join("testdata", name), opts)
	if err != nil {
		tb.Fatalf("LoadTemplate(%s): %v", name, err)
	}
	return t
}

func mustFunction(tb testing.TB, t *Template, id string) *Function {
	tb.Helper()
	f := t.Function(id)
	if f == nil {
		tb.Fatalf("template has no function %s", id)
	}
	return f
}

func TestTemplateEnvironment(t *testing.T) {
	opts := TemplateOptions{Parameters: map[string]string{"NoDefault": "given"}, TablePrefix: "t1-"}
	prodOpts := TemplateOptions{Parameters: map[string]string{"NoDefault": "given", "Environment": "prod"}}
	tests := []struct {
		name string
		opts TemplateOptions
		fn   string
		want map[string]string // a subset of the environment
		gone []string          // variables that must be absent
	}{
		{
			name: "globals merge and intrinsics, dev",
			opts: opts,
			fn:   "ApiFunction",
			want: map[string]string{
				"TABLE":        "t1-DataTable",
				"SHARED":       "from-globals",
				"OVERRIDDEN":   "from-function",
				"TABLE_ARN":    "arn:aws:dynamodb:eu-west-2:123456789012:table/t1-DataTable",
				"STREAM_ARN":   "arn:aws:dynamodb:eu-west-2:123456789012:table/t1-DataTable/stream/local",
				"TOPIC":        "arn:aws:sns:eu-west-2:123456789012:t1-Topic",
				"REGION":       "eu-west-2",
				"CAPACITY":     "20",
				"SUB":          "t1-DataTable/123456789012/${Literal}/arn:aws:dynamodb:eu-west-2:123456789012:table/t1-DataTable",
				"SUB_LIST":     "https://api.eu-west-2.example.org/dev",
				"MODE":         "development",
				"BOTH":         "yes",
				"FIRST_DOMAIN": "nhs.net",
				"SECOND":       "b",
				"RETENTION":    "7",
				"LONG_REF":     "dev",
				"API":          "local",
			},
			gone: []string{"DROPPED"},
		},
		{
			name: "conditions follow a parameter override",
			opts: prodOpts,
			fn:   "ApiFunction",
			want: map[string]string{"MODE": "production", "BOTH": "no", "RETENTION": "30", "DROPPED": "here", "TABLE": "DataTable"},
		},
		{
			name: "other function keeps globals only",
			opts: opts,
			fn:   "WorkerFunction",
			want: map[string]string{"TABLE": "t1-DataTable", "OVERRIDDEN": "from-globals", "NEEDS": "given"},
			gone: []string{"TABLE_ARN"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := mustLoad(t, "intrinsics.yaml", tt.opts)
			f := mustFunction(t, tmpl, tt.fn)
			for k, v := range tt.want {
				if got, ok := f.Environment[k]; !ok || got != v {
					t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
				}
			}
			for _, k := range tt.gone {
				if v, ok := f.Environment[k]; ok {
					t.Errorf("%s = %q, want it absent", k, v)
				}
			}
		})
	}
}

func TestTemplateFunctionProperties(t *testing.T) {
	tmpl := mustLoad(t, "intrinsics.yaml", TemplateOptions{Parameters: map[string]string{"NoDefault": "x", "LogLevel": "DEBUG"}})
	if got := functionIDs(tmpl); !slices.Equal(got, []string{"ApiFunction", "WorkerFunction"}) {
		t.Fatalf("functions = %v", got)
	}
	api := mustFunction(t, tmpl, "ApiFunction")
	worker := mustFunction(t, tmpl, "WorkerFunction")
	checks := []struct {
		name      string
		got, want any
	}{
		{"api timeout (function wins)", api.Timeout, 15 * time.Second},
		{"worker timeout (globals)", worker.Timeout, 10 * time.Second},
		{"api memory (globals)", api.MemorySize, 256},
		{"worker memory", worker.MemorySize, 512},
		{"code dir", api.CodeDir, filepath.Join(tmpl.Dir, "functions", "api")},
		{"log format", api.LogFormat, "JSON"},
		{"log level from parameter", api.ApplicationLogLevel, "DEBUG"},
		{"system log level", api.SystemLogLevel, "WARN"},
		{"handler", api.Handler, "bootstrap"},
		{"ignored events", api.Ignored, []string{"Queue (SQS)"}},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func functionIDs(t *Template) []string {
	var ids []string
	for _, f := range t.Functions {
		ids = append(ids, f.LogicalID)
	}
	return ids
}

func equal(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, ok := b.([]string)
		return ok && slices.Equal(as, bs)
	}
	return a == b
}

func TestTemplateEvents(t *testing.T) {
	tmpl := mustLoad(t, "intrinsics.yaml", TemplateOptions{Parameters: map[string]string{"NoDefault": "x"}})
	var keys []string
	for _, r := range tmpl.Routes() {
		keys = append(keys, r.RouteKey())
	}
	if want := []string{"GET /", "ANY /items/{id}"}; !slices.Equal(keys, want) {
		t.Errorf("routes = %v, want %v", keys, want)
	}

	w := mustFunction(t, tmpl, "WorkerFunction")
	if len(w.Streams) != 1 {
		t.Fatalf("streams = %+v, want one", w.Streams)
	}
	wantStream := StreamEvent{
		Function: "WorkerFunction", Event: "Stream", Table: "DataTable", StartingPosition: "LATEST",
		BatchSize: 25, BatchWindow: 2 * time.Second, ReportBatchItemFailures: true,
		MaximumRetryAttempts: 5, BisectOnError: true, Filters: []string{`{"eventName": ["INSERT"]}`}, Enabled: true,
	}
	got := w.Streams[0]
	if got.Function != wantStream.Function || got.Table != wantStream.Table || got.StartingPosition != wantStream.StartingPosition ||
		got.BatchSize != wantStream.BatchSize || got.BatchWindow != wantStream.BatchWindow ||
		got.ReportBatchItemFailures != wantStream.ReportBatchItemFailures || got.MaximumRetryAttempts != wantStream.MaximumRetryAttempts ||
		got.BisectOnError != wantStream.BisectOnError || !slices.Equal(got.Filters, wantStream.Filters) || got.Enabled != wantStream.Enabled {
		t.Errorf("stream = %+v\nwant     %+v", got, wantStream)
	}

	if len(w.Schedules) != 2 {
		t.Fatalf("schedules = %+v, want two", w.Schedules)
	}
	byEvent := map[string]ScheduleEvent{}
	for _, s := range w.Schedules {
		byEvent[s.Event] = s
	}
	if s := byEvent["Hourly"]; s.Expression != "rate(1 hour)" || !s.Enabled {
		t.Errorf("Hourly = %+v", s)
	}
	if s := byEvent["Nightly"]; s.Expression != "cron(0 2 * * ? *)" || s.Enabled {
		t.Errorf("Nightly = %+v, want disabled cron", s)
	}
}

func TestTemplateTables(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		tables []string
	}{
		{"conditional table skipped in dev", map[string]string{"NoDefault": "x"}, []string{"DataTable"}},
		{"conditional table created in prod", map[string]string{"NoDefault": "x", "Environment": "prod"}, []string{"DataTable", "ProdOnlyTable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := mustLoad(t, "intrinsics.yaml", TemplateOptions{Parameters: tt.params, TablePrefix: "p-"})
			var ids []string
			for _, tb := range tmpl.Tables {
				ids = append(ids, tb.LogicalID)
			}
			if !slices.Equal(ids, tt.tables) {
				t.Fatalf("tables = %v, want %v", ids, tt.tables)
			}
		})
	}

	tb := mustLoad(t, "intrinsics.yaml", TemplateOptions{Parameters: map[string]string{"NoDefault": "x"}, TablePrefix: "p-"}).Table("DataTable")
	in := tb.Input
	if tb.Name != "p-DataTable" || aws.ToString(in.TableName) != "p-DataTable" {
		t.Errorf("name = %q / %q", tb.Name, aws.ToString(in.TableName))
	}
	if in.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Errorf("billing = %v", in.BillingMode)
	}
	if len(in.AttributeDefinitions) != 3 || len(in.KeySchema) != 2 || in.KeySchema[1].KeyType != ddbtypes.KeyTypeRange {
		t.Errorf("keys = %+v / %+v", in.AttributeDefinitions, in.KeySchema)
	}
	if len(in.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("GSIs = %+v", in.GlobalSecondaryIndexes)
	}
	gsi := in.GlobalSecondaryIndexes[0]
	if aws.ToString(gsi.IndexName) != "ByGsi1" || gsi.Projection.ProjectionType != ddbtypes.ProjectionTypeInclude ||
		!slices.Equal(gsi.Projection.NonKeyAttributes, []string{"status"}) {
		t.Errorf("GSI = %+v %+v", gsi, gsi.Projection)
	}
	if in.StreamSpecification == nil || in.StreamSpecification.StreamViewType != ddbtypes.StreamViewTypeNewAndOldImages {
		t.Errorf("stream = %+v", in.StreamSpecification)
	}
	if tb.TTLAttribute != "expiresAt" {
		t.Errorf("TTL = %q", tb.TTLAttribute)
	}
}

// TestProjectTemplate loads the real template.yaml, so a change there the local stack cannot run
// fails here first.
func TestProjectTemplate(t *testing.T) {
	root, err := FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := LoadTemplate(filepath.Join(root, "template.yaml"), TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	intake := mustFunction(t, tmpl, "IntakeFunction")
	for k, v := range map[string]string{
		"REFERRALS_TABLE": "ReferralsTable", "DIRECTORY_TABLE": "DirectoryTable",
		"MIN_AGE": "18", "REFERRER_EMAIL_DOMAINS": "nhs.net", "CONTACT_WORKING_DAYS": "2",
	} {
		if got := intake.Environment[k]; got != v {
			t.Errorf("IntakeFunction %s = %q, want %q", k, got, v)
		}
	}
	if intake.Timeout != 10*time.Second || intake.MemorySize != 256 || intake.LogFormat != "JSON" {
		t.Errorf("IntakeFunction timeout %v memory %d log %s", intake.Timeout, intake.MemorySize, intake.LogFormat)
	}
	routes := map[string]bool{}
	for _, r := range tmpl.Routes() {
		routes[r.RouteKey()] = true
	}
	for _, k := range []string{"GET /", "POST /referrals", "GET /assets/{proxy+}"} {
		if !routes[k] {
			t.Errorf("route %s missing from %v", k, slices.Sorted(maps.Keys(routes)))
		}
	}
	if rt := tmpl.Table("ReferralsTable"); rt == nil || rt.Input.StreamSpecification == nil || len(rt.Input.GlobalSecondaryIndexes) != 2 { // Waitlist, Due
		t.Errorf("ReferralsTable = %+v", rt)
	}
}

func TestTemplateErrors(t *testing.T) {
	const head = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: fn\n"
	tests := []struct {
		name    string
		src     string
		params  map[string]string
		wantErr []string // substrings the error must contain
	}{
		{
			name:    "unknown intrinsic names function and variable",
			src:     head + "      Environment:\n        Variables:\n          BAD: !ImportValue other-stack-output\n",
			wantErr: []string{"Fn:", "BAD", "Fn::ImportValue"},
		},
		{
			name:    "made-up intrinsic",
			src:     head + "      Environment:\n        Variables:\n          ODD: !Frobnicate x\n",
			wantErr: []string{"ODD", "unknown intrinsic function Fn::Frobnicate"},
		},
		{
			name:    "ref to nothing",
			src:     head + "      Environment:\n        Variables:\n          MISSING: !Ref Nowhere\n",
			wantErr: []string{"MISSING", "Ref Nowhere"},
		},
		{
			name:    "getatt of missing resource",
			src:     head + "      Environment:\n        Variables:\n          ARN: !GetAtt Nowhere.Arn\n",
			wantErr: []string{"ARN", "Nowhere.Arn"},
		},
		{
			name:    "parameter without default",
			src:     "Parameters:\n  P:\n    Type: String\n" + head + "      Environment:\n        Variables:\n          V: !Ref P\n",
			wantErr: []string{"V", "parameter P has no Default"},
		},
		{
			name:    "unknown parameter override",
			src:     head,
			params:  map[string]string{"Typo": "x"},
			wantErr: []string{"Typo", "no such parameter"},
		},
		{
			name:    "override outside AllowedValues",
			src:     "Parameters:\n  Env:\n    Type: String\n    Default: dev\n    AllowedValues: [dev, prod]\n" + head,
			params:  map[string]string{"Env": "qa"},
			wantErr: []string{"Env", "allowed values"},
		},
		{
			name:    "stream not from a table",
			src:     head + "      Events:\n        S:\n          Type: DynamoDB\n          Properties:\n            Stream: arn:aws:dynamodb:x\n",
			wantErr: []string{"event S", "!GetAtt <Table>.StreamArn"},
		},
		{
			name:    "payload format 1.0",
			src:     head + "      Events:\n        A:\n          Type: HttpApi\n          Properties:\n            Path: /\n            Method: GET\n            PayloadFormatVersion: \"1.0\"\n",
			wantErr: []string{"event A", "PayloadFormatVersion 1.0"},
		},
		{
			name:    "greedy parameter not last",
			src:     head + "      Events:\n        A:\n          Type: HttpApi\n          Properties:\n            Path: /{proxy+}/x\n            Method: GET\n",
			wantErr: []string{"greedy"},
		},
		{
			name:    "code in S3",
			src:     "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri:\n        Bucket: b\n        Key: k\n",
			wantErr: []string{"Fn", "CodeUri"},
		},
		{
			name:    "condition cycle",
			src:     "Conditions:\n  A: !Condition A\n" + head + "      Environment:\n        Variables:\n          V: !If [A, x, y]\n",
			wantErr: []string{"refers to itself"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTemplate([]byte(tt.src), t.TempDir(), TemplateOptions{Parameters: tt.params})
			if err == nil {
				t.Fatal("ParseTemplate succeeded, want an error")
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}
