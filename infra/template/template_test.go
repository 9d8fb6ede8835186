// Package template holds tests of template.yaml: what a refactor of the template must not
// silently drop (runtime, logs, alarms, encryption, least-privilege grants…). cfn-lint and
// sam build (make lint, make sam-build) check that it is valid; these check that it is right.
package template

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/edges/bounce"
)

// wantGrants is every IAM grant of every function: function → resource → actions. It documents
// what each function may do; change it with the code that needs the change. Resources are
// rendered by str: "ReferralsTable" is the table's ARN, "ReferralsTable/index/Due" one index.
//
// Besides these, SAM attaches AWSLambdaBasicExecutionRole (its own logs) to every function and
// AWSLambdaDynamoDBExecutionRole (reading the stream) to the notifier.
var wantGrants = map[string]map[string][]string{
	"IntakeFunction": {
		"ReferralsTable":   {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
		"DirectoryTable":   {"dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"},
		"LinkSecret":       {"secretsmanager:GetSecretValue"},
		"PatientKeySecret": {"secretsmanager:GetSecretValue"},
	},
	"NotifierFunction": {
		"ReferralsTable":     {"dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
		"DirectoryTable":     {"dynamodb:GetItem"},
		sesIdentity:          {"ses:SendEmail"},
		sesConfigurationSet:  {"ses:SendEmail"},
		"LinkSecret":         {"secretsmanager:GetSecretValue"},
		"StreamFailureQueue": {"sqs:SendMessage"},
	},
	"ActionsFunction": {
		"ReferralsTable":                {"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
		"ReferralsTable/index/Waitlist": {"dynamodb:Query"},
		"ReferralsTable/index/Due":      {"dynamodb:Query"},
		"ReturnsTable":                  {"dynamodb:GetItem", "dynamodb:Query"},
		"DirectoryTable":                {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"},
		"LinkSecret":                    {"secretsmanager:GetSecretValue"},
	},
	"RemindersFunction": {
		"ReferralsTable":                {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
		"ReferralsTable/index/Due":      {"dynamodb:Query"},
		"ReferralsTable/index/Waitlist": {"dynamodb:Query", "dynamodb:Scan"},
		"ReturnsTable":                  {"dynamodb:Query"},
		"DirectoryTable":                {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"},
		sesIdentity:                     {"ses:SendEmail"},
		sesConfigurationSet:             {"ses:SendEmail"},
		"LinkSecret":                    {"secretsmanager:GetSecretValue"},
	},
	"BounceFunction": {
		"DirectoryTable":     {"dynamodb:Scan", "dynamodb:UpdateItem"},
		"BounceFailureQueue": {"sqs:SendMessage"},
	},
	"ReturnsFunction": {
		"ReturnsTable":        {"dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"},
		"DirectoryTable":      {"dynamodb:Query", "dynamodb:Scan"},
		"ReturnsFailureQueue": {"sqs:SendMessage"},
	},
}

const (
	sesIdentity         = "ses:identity/${SenderIdentity}"
	sesConfigurationSet = "ses:configuration-set/${EmailConfigurationSet}"
)

func TestFunctions(t *testing.T) {
	tm := mustLoad(t)
	fns := tm.ofType("AWS::Serverless::Function")
	if want := slices.Sorted(maps.Keys(wantGrants)); !slices.Equal(fns, want) {
		t.Fatalf("functions = %v, want %v (add a new function to wantGrants)", fns, want)
	}
	// Shared settings live in Globals, so a new function cannot forget them.
	if str(tm.Globals["Runtime"]) != "provided.al2023" || !slices.Equal(strs(tm.Globals["Architectures"]), []string{"arm64"}) {
		t.Errorf("Globals.Function Runtime %v, Architectures %v; want provided.al2023 on arm64", tm.Globals["Runtime"], tm.Globals["Architectures"])
	}
	codeURIs := map[string]string{}
	for _, id := range fns {
		t.Run(id, func(t *testing.T) {
			p := tm.function(id)
			checks := []struct {
				what, got, want string
			}{
				{"Runtime", str(p["Runtime"]), "provided.al2023"},
				{"Architectures", strings.Join(strs(p["Architectures"]), ","), "arm64"},
				{"Handler", str(p["Handler"]), "bootstrap"},
				{"Metadata.BuildMethod", str(at(tm.Resources[id].Metadata, "BuildMethod")), "go1.x"},
				{"LoggingConfig.LogFormat", str(at(p, "LoggingConfig", "LogFormat")), "JSON"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}

			codeURI := str(p["CodeUri"])
			if !strings.HasPrefix(codeURI, "functions/") {
				t.Errorf("CodeUri %q is not under functions/", codeURI)
			}
			if other, dup := codeURIs[codeURI]; dup {
				t.Errorf("CodeUri %q is also %s's", codeURI, other)
			}
			codeURIs[codeURI] = id
			if _, err := os.Stat(filepath.Join(root, codeURI, "main.go")); err != nil {
				t.Errorf("CodeUri %q: %v", codeURI, err)
			}

			// Logs go to a group of the template's, with retention.
			group := str(at(p, "LoggingConfig", "LogGroup"))
			lg, ok := tm.Resources[group]
			if !ok || lg.Type != "AWS::Logs::LogGroup" {
				t.Fatalf("LoggingConfig.LogGroup = %q, want a Ref to an AWS::Logs::LogGroup of the template", group)
			}
			if got := str(lg.Properties["RetentionInDays"]); got != "LogRetentionDays" {
				t.Errorf("%s RetentionInDays = %q, want Ref LogRetentionDays", group, got)
			}
			if name := str(lg.Properties["LogGroupName"]); !strings.HasPrefix(name, "/aws/lambda/") {
				t.Errorf("%s LogGroupName = %q, want /aws/lambda/…", group, name)
			}

			// Errors and throttles alarm, to the alarm topic.
			for _, metric := range []string{"Errors", "Throttles"} {
				if !slices.ContainsFunc(tm.alarms(), func(a alarm) bool {
					return a.Namespace == "AWS/Lambda" && a.Metric == metric && a.Dimensions["FunctionName"] == id
				}) {
					t.Errorf("no AWS/Lambda %s alarm on FunctionName %s", metric, id)
				}
			}
		})
	}
}

// TestLogGroupsBelongToFunctions checks every log group is some function's (or the API's access
// log), so none is orphaned
// by a rename.
func TestLogGroupsBelongToFunctions(t *testing.T) {
	tm := mustLoad(t)
	used := map[string]bool{}
	for _, id := range tm.ofType("AWS::Serverless::Function") {
		used[str(at(tm.function(id), "LoggingConfig", "LogGroup"))] = true
	}
	for _, id := range tm.ofType("AWS::Serverless::HttpApi") {
		used[str(at(tm.Resources[id].Properties, "AccessLogSettings", "DestinationArn"))] = true
	}
	for _, id := range tm.ofType("AWS::Logs::LogGroup") {
		if !used[id] {
			t.Errorf("log group %s is no function's LoggingConfig.LogGroup", id)
		}
	}
}

func TestIAMGrants(t *testing.T) {
	tm := mustLoad(t)
	for _, id := range tm.ofType("AWS::Serverless::Function") {
		t.Run(id, func(t *testing.T) {
			got := map[string][]string{}
			for _, policy := range asList(tm.Resources[id].Properties["Policies"]) {
				doc := asMap(policy)
				if doc == nil || doc["Statement"] == nil {
					t.Fatalf("policy %v is not an inline policy document (SAM policy templates and managed policies hide their grants)", policy)
				}
				for _, st := range asList(doc["Statement"]) {
					checkStatement(t, asMap(st))
					for _, res := range asList(at(st, "Resource")) {
						for _, act := range asList(at(st, "Action")) {
							got[str(res)] = append(got[str(res)], str(act))
						}
					}
				}
			}
			for res := range got {
				slices.Sort(got[res])
				got[res] = slices.Compact(got[res])
			}
			want := wantGrants[id]
			for _, res := range slices.Sorted(maps.Keys(want)) {
				if !slices.Equal(got[res], slices.Sorted(slices.Values(want[res]))) {
					t.Errorf("on %s: actions %v, want %v", res, got[res], want[res])
				}
			}
			for res := range got {
				if _, ok := want[res]; !ok {
					t.Errorf("unexpected grant on %s: %v", res, got[res])
				}
			}
		})
	}
}

// checkStatement checks one statement is an Allow with a Sid, names its resources exactly (no
// wildcard anywhere) and, for SES, may send only from the sender address.
func checkStatement(tb testing.TB, st map[string]any) {
	tb.Helper()
	sid := str(st["Sid"])
	if st["Sid"] == nil || str(st["Effect"]) != "Allow" {
		tb.Errorf("statement %v: want a Sid and Effect Allow", st)
	}
	if st["NotAction"] != nil || st["NotResource"] != nil {
		tb.Errorf("statement %s uses NotAction or NotResource", sid)
	}
	resources, actions := asList(st["Resource"]), asList(st["Action"])
	if len(resources) == 0 || len(actions) == 0 {
		tb.Errorf("statement %s has no Resource or no Action", sid)
	}
	for _, r := range resources {
		if _, literal := r.(string); literal || strings.Contains(str(r), "*") {
			tb.Errorf("statement %s: resource %q is not an exact reference to a resource of the template", sid, str(r))
		}
	}
	for _, a := range actions {
		if strings.Contains(str(a), "*") {
			tb.Errorf("statement %s: action %q has a wildcard", sid, str(a))
		}
		if str(a) == "ses:SendEmail" && str(at(st, "Condition", "StringEquals", "ses:FromAddress")) != "SenderAddress" {
			tb.Errorf("statement %s: ses:SendEmail without Condition StringEquals ses:FromAddress = Ref SenderAddress", sid)
		}
	}
}

func TestTables(t *testing.T) {
	tm := mustLoad(t)
	tests := []struct {
		table  string
		pitr   bool
		ttl    string // TTL attribute; "" for none
		stream string // StreamViewType; "" for none
	}{
		{table: "ReferralsTable", pitr: true, ttl: "expiresAt", stream: "NEW_AND_OLD_IMAGES"}, // notification records expire
		{table: "DirectoryTable", pitr: true},
		{table: "ReturnsTable", pitr: true},
	}
	var want []string
	for _, tt := range tests {
		want = append(want, tt.table)
		t.Run(tt.table, func(t *testing.T) {
			p := tm.Resources[tt.table].Properties
			if tm.Resources[tt.table].Type != "AWS::DynamoDB::Table" {
				t.Fatalf("no table %s", tt.table)
			}
			checks := []struct {
				what string
				got  any
				want any
			}{
				{"BillingMode", str(p["BillingMode"]), "PAY_PER_REQUEST"},
				{"SSESpecification.SSEEnabled", str(at(p, "SSESpecification", "SSEEnabled")), "true"},
				{"DeletionProtectionEnabled", p["DeletionProtectionEnabled"], map[string]any{"Fn::If": []any{"IsProd", "true", "false"}}},
				{"PointInTimeRecoveryEnabled", str(at(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")) == "true", tt.pitr},
				{"TimeToLiveSpecification", tm.ttl(tt.table), tt.ttl},
				{"StreamSpecification.StreamViewType", str(at(p, "StreamSpecification", "StreamViewType")), orNil(tt.stream)},
			}
			for _, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
				}
			}
		})
	}
	if got := tm.ofType("AWS::DynamoDB::Table"); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("tables = %v, want %v (add a new table to this test)", got, want)
	}
	if cond := at(tm.Conditions, "IsProd"); !reflect.DeepEqual(cond, map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Environment"}, "prod"}}) {
		t.Errorf("condition IsProd = %#v, want !Equals [!Ref Environment, prod]", cond)
	}
}

// ttl returns a table's enabled TTL attribute, or "".
func (t *tmpl) ttl(table string) string {
	spec := at(t.Resources[table].Properties, "TimeToLiveSpecification")
	if str(at(spec, "Enabled")) != "true" {
		return ""
	}
	return str(at(spec, "AttributeName"))
}

// orNil is what str renders for an absent value when want is "".
func orNil(want string) string {
	if want == "" {
		return str(nil)
	}
	return want
}

// TestStreamConsumers checks both consumers of the referrals stream: the notifier and the returns.
func TestStreamConsumers(t *testing.T) {
	for fn, queue := range map[string]string{"NotifierFunction": "StreamFailureQueue", "ReturnsFunction": "ReturnsFailureQueue"} {
		t.Run(fn, func(t *testing.T) { checkStreamConsumer(t, fn, queue) })
	}
}

func checkStreamConsumer(t *testing.T, fn, queue string) {
	tm := mustLoad(t)
	var streams []map[string]any
	for _, ev := range asMap(tm.function(fn)["Events"]) {
		if str(at(ev, "Type")) == "DynamoDB" {
			streams = append(streams, asMap(at(ev, "Properties")))
		}
	}
	if len(streams) != 1 {
		t.Fatalf("%s has %d DynamoDB events, want 1", fn, len(streams))
	}
	p := streams[0]
	retries, err := strconv.Atoi(str(p["MaximumRetryAttempts"]))
	if err != nil || retries < 0 || retries > 100 {
		t.Errorf("MaximumRetryAttempts = %v, want a bound (0–100; the default retries until the record expires)", p["MaximumRetryAttempts"])
	}
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"Stream", p["Stream"], map[string]any{"Fn::GetAtt": []any{"ReferralsTable", "StreamArn"}}},
		{"FunctionResponseTypes", strs(p["FunctionResponseTypes"]), []string{"ReportBatchItemFailures"}},
		{"BisectBatchOnFunctionError", str(p["BisectBatchOnFunctionError"]), "true"},
		{"MaximumRecordAgeInSeconds set", p["MaximumRecordAgeInSeconds"] != nil, true},
		{"OnFailure destination", str(at(p, "DestinationConfig", "OnFailure", "Destination")), queue},
		{"OnFailure type", str(at(p, "DestinationConfig", "OnFailure", "Type")), "SQS"},
		{"failure queue type", tm.Resources[queue].Type, "AWS::SQS::Queue"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}

	// Only the referral items (sk "#REFERRAL"), inserted or modified, reach the notifier.
	filters := asList(at(p, "FilterCriteria", "Filters"))
	if len(filters) != 1 {
		t.Fatalf("FilterCriteria.Filters = %v, want one pattern", filters)
	}
	var pattern struct {
		EventName []string `json:"eventName"`
		DynamoDB  struct {
			Keys struct {
				SK struct {
					S []string `json:"S"`
				} `json:"sk"`
			} `json:"Keys"`
		} `json:"dynamodb"`
	}
	if err := json.Unmarshal([]byte(str(at(filters[0], "Pattern"))), &pattern); err != nil {
		t.Fatalf("filter pattern: %v", err)
	}
	if !slices.Equal(pattern.DynamoDB.Keys.SK.S, []string{"#REFERRAL"}) || !slices.Equal(slices.Sorted(slices.Values(pattern.EventName)), []string{"INSERT", "MODIFY"}) {
		t.Errorf("filter pattern = %+v, want referral items (sk #REFERRAL) on INSERT and MODIFY", pattern)
	}
}

func TestAlarms(t *testing.T) {
	tm := mustLoad(t)
	alarms := tm.alarms()
	tests := []struct {
		name       string
		namespace  string
		metric     string
		dimensions map[string]string
		comparison string // "" for any
		missing    string // TreatMissingData; "" for any
	}{
		{"API 5xx", "AWS/ApiGateway", "5xx", map[string]string{"ApiId": "HttpApi"}, "", ""},
		{"stream failure queue depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", map[string]string{"QueueName": "StreamFailureQueue.QueueName"}, "GreaterThanThreshold", ""},
		{"bounce failure queue depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", map[string]string{"QueueName": "BounceFailureQueue.QueueName"}, "GreaterThanThreshold", ""},
		{"notifier iterator age", "AWS/Lambda", "IteratorAge", map[string]string{"FunctionName": "NotifierFunction"}, "GreaterThanThreshold", ""},
		{"returns failure queue depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", map[string]string{"QueueName": "ReturnsFailureQueue.QueueName"}, "GreaterThanThreshold", ""},
		{"returns iterator age", "AWS/Lambda", "IteratorAge", map[string]string{"FunctionName": "ReturnsFunction"}, "GreaterThanThreshold", ""},
		{"overdue referrals (total)", "IPSPC/Referrals", "OverdueReferrals", map[string]string{}, "GreaterThanThreshold", ""},
		{"waitlist size (total)", "IPSPC/Referrals", "WaitlistedReferrals", map[string]string{}, "GreaterThanThreshold", ""},
		{"SES bounce rate", "AWS/SES", "Reputation.BounceRate", map[string]string{}, "GreaterThanThreshold", ""},
		{"SES complaint rate", "AWS/SES", "Reputation.ComplaintRate", map[string]string{}, "GreaterThanThreshold", ""},
		{"permanent bounces", "IPSPC/Referrals", bounce.MetricBounces, map[string]string{"BounceType": "Permanent"}, "", ""},
		{"complaints", "IPSPC/Referrals", bounce.MetricComplaints, map[string]string{}, "", ""},
		{"calendar running out", "IPSPC/Referrals", "CalendarYearsLeft", map[string]string{}, "LessThanThreshold", ""},
		{"calendar errors", "IPSPC/Referrals", "CalendarErrors", map[string]string{}, "GreaterThanThreshold", ""},
		{"missed reminders run", "AWS/Lambda", "Invocations", map[string]string{"FunctionName": "RemindersFunction"}, "LessThanThreshold", "breaching"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := slices.IndexFunc(alarms, func(a alarm) bool {
				return a.Namespace == tt.namespace && a.Metric == tt.metric && maps.Equal(a.Dimensions, tt.dimensions)
			})
			if i < 0 {
				t.Fatalf("no alarm on %s %s %v", tt.namespace, tt.metric, tt.dimensions)
			}
			a := alarms[i]
			if tt.comparison != "" && a.Comparison != tt.comparison {
				t.Errorf("%s ComparisonOperator = %s, want %s", a.ID, a.Comparison, tt.comparison)
			}
			if tt.missing != "" && a.Missing != tt.missing {
				t.Errorf("%s TreatMissingData = %s, want %s", a.ID, a.Missing, tt.missing)
			}
		})
	}

	// A missed run means no invocation for two hours.
	for _, a := range alarms {
		if a.Metric == "Invocations" && a.Dimensions["FunctionName"] == "RemindersFunction" {
			period, _ := strconv.Atoi(a.Period)
			evals, _ := strconv.Atoi(a.Evaluation)
			if period*evals != 7200 || a.Threshold != "1" {
				t.Errorf("%s: %ds × %d periods below %s, want two hours below 1", a.ID, period, evals, a.Threshold)
			}
		}
		if a.Metric == "WaitlistedReferrals" && a.Threshold != "WaitlistAlarmThreshold" {
			t.Errorf("%s Threshold = %s, want Ref WaitlistAlarmThreshold", a.ID, a.Threshold)
		}
	}
}

// alarmSeverity is the topic of every alarm: critical when referrals are not being taken, routed
// or emailed now (or SES may pause all sending), warning when it can wait for working hours. A new
// alarm must be placed here deliberately.
var alarmSeverity = map[string]string{
	"IntakeFunctionErrorsAlarm":       "CriticalAlarmTopic",
	"IntakeFunctionThrottlesAlarm":    "CriticalAlarmTopic",
	"NotifierFunctionErrorsAlarm":     "CriticalAlarmTopic",
	"ActionsFunctionErrorsAlarm":      "CriticalAlarmTopic",
	"RemindersFunctionErrorsAlarm":    "CriticalAlarmTopic",
	"ApiServerErrorsAlarm":            "CriticalAlarmTopic",
	"StreamFailureQueueAlarm":         "CriticalAlarmTopic",
	"NotifierIteratorAgeAlarm":        "CriticalAlarmTopic",
	"SesBounceRateAlarm":              "CriticalAlarmTopic",
	"SesComplaintRateAlarm":           "CriticalAlarmTopic",
	"CalendarErrorsAlarm":             "CriticalAlarmTopic",
	"RemindersMissedRunAlarm":         "CriticalAlarmTopic",
	"NotifierFunctionThrottlesAlarm":  "WarningAlarmTopic",
	"ActionsFunctionThrottlesAlarm":   "WarningAlarmTopic",
	"RemindersFunctionThrottlesAlarm": "WarningAlarmTopic",
	"BounceFunctionErrorsAlarm":       "WarningAlarmTopic",
	"BounceFunctionThrottlesAlarm":    "WarningAlarmTopic",
	"BounceFailureQueueAlarm":         "WarningAlarmTopic",
	"OverdueReferralsAlarm":           "WarningAlarmTopic",
	"WaitlistAlarm":                   "WarningAlarmTopic",
	"EmailBouncesAlarm":               "WarningAlarmTopic",
	"EmailComplaintsAlarm":            "WarningAlarmTopic",
	"CalendarYearsLeftAlarm":          "WarningAlarmTopic",
	// Returns lag or gaps undercount a report; no referral waits on them.
	"ReturnsFunctionErrorsAlarm":    "WarningAlarmTopic",
	"ReturnsFunctionThrottlesAlarm": "WarningAlarmTopic",
	"ReturnsFailureQueueAlarm":      "WarningAlarmTopic",
	"ReturnsIteratorAgeAlarm":       "WarningAlarmTopic",
}

// TestEveryAlarmNotifiesAndHasARunbook checks every alarm notifies the topic of its severity when
// it fires and recovers, and its description links (through RunbookBaseUrl) a runbook entry that
// docs/operations.md has.
func TestEveryAlarmNotifiesAndHasARunbook(t *testing.T) {
	tm := mustLoad(t)
	anchors := mustAnchors(t, filepath.Join(root, "docs", "operations.md"))
	runbook := regexp.MustCompile(`Runbook: \$\{RunbookBaseUrl\}#([a-z0-9_-]+)$`)
	alarms := tm.alarms()
	if len(alarms) == 0 {
		t.Fatal("no alarms")
	}
	for _, a := range alarms {
		want, ok := alarmSeverity[a.ID]
		if !ok {
			t.Errorf("%s has no severity in alarmSeverity", a.ID)
		}
		for _, actions := range []string{"AlarmActions", "OKActions"} {
			if got := asList(a.Props[actions]); len(got) != 1 || str(got[0]) != want {
				t.Errorf("%s %s = %v, want [!Ref %s]", a.ID, actions, got, want)
			}
		}
		desc, _ := at(a.Props, "AlarmDescription", "Fn::Sub").(string)
		m := runbook.FindStringSubmatch(desc)
		switch {
		case m == nil:
			t.Errorf("%s AlarmDescription %v is not a !Sub ending with Runbook: ${RunbookBaseUrl}#anchor", a.ID, a.Props["AlarmDescription"])
		case !anchors[m[1]]:
			t.Errorf("%s runbook anchor #%s is no heading of docs/operations.md", a.ID, m[1])
		}
		if strings.Contains(desc, "docs/operations.md") {
			t.Errorf("%s AlarmDescription names a repository path, not a link", a.ID)
		}
	}
	if p := tm.Parameters["RunbookBaseUrl"]; p == nil || !strings.HasPrefix(str(p["Default"]), "https://") || p["AllowedPattern"] == nil {
		t.Errorf("parameter RunbookBaseUrl = %v, want an https default and an AllowedPattern", p)
	}
	// Both topics reach a person by email when AlarmEmail is given.
	subs := map[string]resource{}
	for _, id := range tm.ofType("AWS::SNS::Subscription") {
		subs[str(tm.Resources[id].Properties["TopicArn"])] = tm.Resources[id]
	}
	for _, topic := range []string{"CriticalAlarmTopic", "WarningAlarmTopic"} {
		if tm.Resources[topic].Type != "AWS::SNS::Topic" {
			t.Errorf("no %s", topic)
		}
		sub, ok := subs[topic]
		if !ok || str(sub.Properties["Protocol"]) != "email" || sub.Condition == "" ||
			!strings.Contains(fmt.Sprint(sub.Properties["Endpoint"]), "AlarmEmail") {
			t.Errorf("%s: subscription %+v, want a conditional email subscription of the alarm email parameter", topic, sub)
		}
	}
}

func TestDashboard(t *testing.T) {
	tm := mustLoad(t)
	ids := tm.ofType("AWS::CloudWatch::Dashboard")
	if len(ids) != 1 {
		t.Fatalf("dashboards = %v, want one", ids)
	}
	body, ok := at(tm.Resources[ids[0]].Properties, "DashboardBody", "Fn::Sub").(string)
	if !ok {
		t.Fatal("DashboardBody is not a !Sub string")
	}
	// Every ${…} names a parameter, a resource (or its attribute) or a pseudo parameter.
	vars := regexp.MustCompile(`\$\{([^}]+)\}`)
	for _, m := range vars.FindAllStringSubmatch(body, -1) {
		name, _, _ := strings.Cut(m[1], ".")
		_, isParam := tm.Parameters[name]
		_, isResource := tm.Resources[name]
		if !isParam && !isResource && !strings.HasPrefix(name, "AWS::") {
			t.Errorf("dashboard refers to ${%s}: no such parameter or resource", m[1])
		}
	}
	// Substituted, it is JSON (numbers stand in for the values).
	var dash struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Title   string  `json:"title"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(vars.ReplaceAllString(body, "1")), &dash); err != nil {
		t.Fatalf("dashboard body is not JSON once substituted: %v", err)
	}
	var text strings.Builder
	for _, w := range dash.Widgets {
		b, _ := json.Marshal(w.Properties.Metrics)
		text.WriteString(w.Properties.Title + " " + string(b) + "\n")
	}
	for _, want := range []string{
		`ReferralsReceived`, `Assignments`, `Waitlisted`, `WaitlistedReferrals`, `OverdueReferrals`,
		`"AWS/SES","Send"`, bounce.MetricBounces, bounce.MetricComplaints, `"AWS/Lambda","Errors"`,
		`"stat":"p50"`, `"stat":"p99"`, `"AWS/ApiGateway","4xx"`, `"AWS/ApiGateway","5xx"`,
		`OutOfAreaReferrals`, `CalendarYearsLeft`, `IteratorAge`,
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("dashboard shows no %s", want)
		}
	}
}

func TestEmailEvents(t *testing.T) {
	tm := mustLoad(t)
	cs := tm.Resources["EmailConfigurationSet"].Properties
	dest := tm.Resources["EmailEventsDestination"]
	policy := asList(at(tm.Resources["EmailEventsTopicPolicy"].Properties, "PolicyDocument", "Statement"))
	if len(policy) == 0 {
		t.Fatal("EmailEventsTopicPolicy has no statement")
	}
	var subscribed []string
	for _, ev := range asMap(tm.function("BounceFunction")["Events"]) {
		if str(at(ev, "Type")) == "SNS" {
			subscribed = append(subscribed, str(at(ev, "Properties", "Topic")))
		}
	}
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"configuration set TlsPolicy", str(at(cs, "DeliveryOptions", "TlsPolicy")), "REQUIRE"},
		{"configuration set suppression", strs(at(cs, "SuppressionOptions", "SuppressedReasons")), []string{"BOUNCE", "COMPLAINT"}},
		{"destination type", dest.Type, "AWS::SES::ConfigurationSetEventDestination"},
		{"destination configuration set", str(dest.Properties["ConfigurationSetName"]), "EmailConfigurationSet"},
		{"destination topic", str(at(dest.Properties, "EventDestination", "SnsDestination", "TopicARN")), "EmailEventsTopic"},
		{"destination enabled", str(at(dest.Properties, "EventDestination", "Enabled")), "true"},
		{"destination has bounce and complaint", hasAll(strs(at(dest.Properties, "EventDestination", "MatchingEventTypes")), "bounce", "complaint"), true},
		{"BounceFunction subscribed", subscribed, []string{"EmailEventsTopic"}},
		{"topic policy statements", len(policy), 1},
		{"topic policy principal", str(at(policy[0], "Principal", "Service")), "ses.amazonaws.com"},
		{"topic policy action", str(at(policy[0], "Action")), "sns:Publish"},
		{"topic policy source account", str(at(policy[0], "Condition", "StringEquals", "aws:SourceAccount")), "AWS::AccountId"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
}

// TestEncryption checks every queue and topic is encrypted at rest; topics with the template's
// own key, which SES and CloudWatch are allowed to use (the AWS managed key would not let them).
func TestEncryption(t *testing.T) {
	tm := mustLoad(t)
	for _, id := range tm.ofType("AWS::SQS::Queue") {
		p := tm.Resources[id].Properties
		if str(p["SqsManagedSseEnabled"]) != "true" && p["KmsMasterKeyId"] == nil {
			t.Errorf("queue %s is not encrypted", id)
		}
	}
	topics := tm.ofType("AWS::SNS::Topic")
	if len(topics) == 0 {
		t.Fatal("no topics")
	}
	for _, id := range topics {
		key := str(tm.Resources[id].Properties["KmsMasterKeyId"])
		if r := tm.Resources[key]; r.Type != "AWS::KMS::Key" {
			t.Errorf("topic %s KmsMasterKeyId = %q, want a Ref to the template's AWS::KMS::Key", id, key)
			continue
		}
		p := tm.Resources[key].Properties
		if str(p["EnableKeyRotation"]) != "true" {
			t.Errorf("key %s does not rotate", key)
		}
		var services []string
		for _, st := range asList(at(p, "KeyPolicy", "Statement")) {
			services = append(services, strs(at(st, "Principal", "Service"))...)
		}
		if !hasAll(services, "ses.amazonaws.com", "cloudwatch.amazonaws.com") {
			t.Errorf("key %s lets %v use it, want SES and CloudWatch", key, services)
		}
	}
}

func TestHTTPAPIThrottled(t *testing.T) {
	tm := mustLoad(t)
	for _, id := range tm.ofType("AWS::Serverless::HttpApi") {
		s := at(tm.Resources[id].Properties, "DefaultRouteSettings")
		if str(at(s, "ThrottlingRateLimit")) != "ApiThrottlingRateLimit" || str(at(s, "ThrottlingBurstLimit")) != "ApiThrottlingBurstLimit" {
			t.Errorf("%s DefaultRouteSettings = %v, want throttling from the Api… parameters", id, s)
		}
	}
}

func TestParameters(t *testing.T) {
	tm := mustLoad(t)
	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	resources := string(src[strings.Index(string(src), "\nConditions:"):])
	for _, name := range slices.Sorted(maps.Keys(tm.Parameters)) {
		if d, _ := tm.Parameters[name]["Description"].(string); strings.TrimSpace(d) == "" {
			t.Errorf("parameter %s has no Description", name)
		}
		if !regexp.MustCompile(`(!Ref |\$\{)` + name + `\b`).MatchString(resources) {
			t.Errorf("parameter %s is never used", name)
		}
	}
	for _, tt := range []struct{ param, function, variable string }{
		{"ClosedReferralRetentionDays", "ActionsFunction", "CLOSED_RETENTION_DAYS"},
		{"SenderAddress", "NotifierFunction", "SENDER_ADDRESS"},
		{"SenderAddress", "RemindersFunction", "SENDER_ADDRESS"},
	} {
		if got := str(at(tm.function(tt.function), "Environment", "Variables", tt.variable)); got != tt.param {
			t.Errorf("%s %s = %q, want Ref %s", tt.function, tt.variable, got, tt.param)
		}
	}
}

func TestOutputs(t *testing.T) {
	tm := mustLoad(t)
	for _, name := range []string{"ApiUrl", "ReferralsTableName", "DirectoryTableName",
		"StreamFailureQueueUrl", "BounceFailureQueueUrl", "ReturnsFailureQueueUrl", "ReturnsTableName", "CriticalAlarmTopicArn", "WarningAlarmTopicArn", "DashboardUrl"} {
		o, ok := tm.Outputs[name]
		if !ok {
			t.Errorf("no output %s", name)
			continue
		}
		if o["Description"] == nil || o["Value"] == nil {
			t.Errorf("output %s needs a Description and a Value", name)
		}
	}
	for name, o := range tm.Outputs {
		if o["Description"] == nil {
			t.Errorf("output %s has no Description", name)
		}
	}
}

// strs renders a list (or single value) with str.
func strs(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, str(x))
	}
	return out
}

func hasAll(have []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
