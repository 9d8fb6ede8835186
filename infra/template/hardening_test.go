package template

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ipspc/referrals/infra/localstack"
)

// statefulTypes hold data (or the key to it) that a stack deletion or a replacement must not
// destroy: they are retained, and removed by hand (README, "Removing a dev stack").
var statefulTypes = []string{
	"AWS::DynamoDB::Table", "AWS::SecretsManager::Secret", "AWS::KMS::Key", "AWS::SQS::Queue", "AWS::Logs::LogGroup",
}

func TestStatefulResourcesAreRetained(t *testing.T) {
	tm := mustLoad(t)
	n := 0
	for _, typ := range statefulTypes {
		for _, id := range tm.ofType(typ) {
			n++
			r := tm.Resources[id]
			for what, got := range map[string]string{"DeletionPolicy": r.DeletionPolicy, "UpdateReplacePolicy": r.UpdateReplacePolicy} {
				if got != "Retain" && got != "Snapshot" {
					t.Errorf("%s (%s) %s = %q, want Retain (or Snapshot)", id, typ, what, got)
				}
			}
		}
	}
	// 3 tables, the link secret, the topic key, 2 queues, 5 function log groups.
	if n < 12 {
		t.Errorf("%d stateful resources, want at least 12: did a type lose its resources?", n)
	}
}

// TestScheduleNameUniquePerStack checks two stacks in one account and region get different
// schedule names (serverless-application-model#3109), as the local stack resolves them too.
func TestScheduleNameUniquePerStack(t *testing.T) {
	names := map[string][]string{}
	for _, stack := range []string{"ipspc-referrals-dev", "ipspc-referrals-prod"} {
		tmpl, err := localstack.LoadTemplate(filepath.Join(root, "template.yaml"), localstack.TemplateOptions{StackName: stack})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range tmpl.Functions {
			for _, s := range f.Schedules {
				if !strings.HasPrefix(s.Name, stack+"-") {
					t.Errorf("stack %s: schedule %s.%s Name = %q, want it to start with the stack name", stack, f.LogicalID, s.Event, s.Name)
				}
				if len(s.Name) > 64 {
					t.Errorf("schedule name %q is longer than EventBridge Scheduler's 64 characters", s.Name)
				}
				names[stack] = append(names[stack], s.Name)
			}
		}
	}
	if len(names["ipspc-referrals-dev"]) == 0 {
		t.Fatal("no schedules")
	}
	for _, n := range names["ipspc-referrals-dev"] {
		if slices.Contains(names["ipspc-referrals-prod"], n) {
			t.Errorf("schedule name %q is the same in two stacks", n)
		}
	}
}

// TestKeyPolicyServicePrincipalsBoundToAccount checks every service principal allowed to use a key
// may do so only for this account (aws:SourceAccount), so another account's SES configuration set
// or alarm cannot use our key (confused deputy).
func TestKeyPolicyServicePrincipalsBoundToAccount(t *testing.T) {
	tm := mustLoad(t)
	keys := tm.ofType("AWS::KMS::Key")
	if len(keys) == 0 {
		t.Fatal("no keys")
	}
	for _, id := range keys {
		services := 0
		for _, st := range asList(at(tm.Resources[id].Properties, "KeyPolicy", "Statement")) {
			if at(st, "Principal", "Service") == nil {
				continue
			}
			services++
			if got := str(at(st, "Condition", "StringEquals", "aws:SourceAccount")); got != "AWS::AccountId" {
				t.Errorf("key %s statement %s: Condition StringEquals aws:SourceAccount = %q, want Ref AWS::AccountId", id, str(at(st, "Sid")), got)
			}
		}
		if services == 0 {
			t.Errorf("key %s: no statement for a service principal", id)
		}
	}
}

// TestAPIAccessLogs checks the HTTP API writes one JSON line per request to a log group of the
// template's with retention, and that no field can carry the query string (signed-link tokens).
func TestAPIAccessLogs(t *testing.T) {
	tm := mustLoad(t)
	apis := tm.ofType("AWS::Serverless::HttpApi")
	if len(apis) == 0 {
		t.Fatal("no HttpApi")
	}
	// HTTP API context variables that hold no query string.
	allowed := []string{"$context.requestId", "$context.requestTime", "$context.httpMethod", "$context.routeKey",
		"$context.path", "$context.status", "$context.protocol", "$context.responseLength", "$context.responseLatency",
		"$context.integrationStatus", "$context.integrationLatency", "$context.integrationErrorMessage",
		"$context.identity.sourceIp", "$context.error.message"}
	vars := regexp.MustCompile(`\$context\.[A-Za-z.]+`)
	for _, id := range apis {
		s := at(tm.Resources[id].Properties, "AccessLogSettings")
		group := str(at(s, "DestinationArn"))
		lg := tm.Resources[group]
		if lg.Type != "AWS::Logs::LogGroup" || str(lg.Properties["RetentionInDays"]) != "LogRetentionDays" {
			t.Errorf("%s access log destination %q: want !GetAtt of a log group with RetentionInDays !Ref LogRetentionDays", id, group)
		}
		format, _ := at(s, "Format").(string)
		var fields map[string]string
		if err := json.Unmarshal([]byte(format), &fields); err != nil {
			t.Fatalf("%s access log Format is not a JSON object: %v", id, err)
		}
		used := vars.FindAllString(format, -1)
		if !slices.Contains(used, "$context.path") && !slices.Contains(used, "$context.routeKey") {
			t.Errorf("%s access log has neither $context.path nor $context.routeKey", id)
		}
		for _, v := range used {
			if !slices.Contains(allowed, v) {
				t.Errorf("%s access log uses %s: not known to be free of the query string", id, v)
			}
		}
	}
}

// TestPermissionsBoundary checks the optional boundary reaches every role the stack makes: the
// functions' (Globals) and each schedule's (SAM makes the scheduler a role of its own).
func TestPermissionsBoundary(t *testing.T) {
	tm := mustLoad(t)
	want := map[string]any{"Fn::If": []any{"HasPermissionsBoundary", map[string]any{"Ref": "PermissionsBoundary"}, map[string]any{"Ref": "AWS::NoValue"}}}
	if p := tm.Parameters["PermissionsBoundary"]; p == nil || str(p["Default"]) != "" {
		t.Fatalf("parameter PermissionsBoundary = %v, want one defaulting to empty", p)
	}
	if cond := at(tm.Conditions, "HasPermissionsBoundary"); !reflect.DeepEqual(cond, map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "PermissionsBoundary"}, ""}}}}) {
		t.Errorf("condition HasPermissionsBoundary = %#v", cond)
	}
	for _, id := range tm.ofType("AWS::Serverless::Function") {
		if got := tm.function(id)["PermissionsBoundary"]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s PermissionsBoundary = %#v, want %#v", id, got, want)
		}
		for name, ev := range asMap(tm.function(id)["Events"]) {
			if typ := str(at(ev, "Type")); typ == "ScheduleV2" {
				if got := at(ev, "Properties", "PermissionsBoundary"); !reflect.DeepEqual(got, want) {
					t.Errorf("%s event %s PermissionsBoundary = %#v, want %#v", id, name, got, want)
				}
			}
		}
	}
	// Roles written out in the template would need it too; there are none today.
	for _, id := range tm.ofType("AWS::IAM::Role") {
		if got := tm.Resources[id].Properties["PermissionsBoundary"]; !reflect.DeepEqual(got, want) {
			t.Errorf("role %s PermissionsBoundary = %#v, want %#v", id, got, want)
		}
	}
}

// samconfigSections reads samconfig.toml's [section] key = "value" lines.
func samconfigSections(tb testing.TB) map[string]map[string]string {
	tb.Helper()
	src, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	out, section := map[string]map[string]string{}, ""
	kv := regexp.MustCompile(`^(\w+)\s*=\s*"(.*)"$`)
	for line := range strings.SplitSeq(string(src), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			out[section] = map[string]string{}
		} else if m := kv.FindStringSubmatch(line); m != nil && section != "" {
			out[section][m[1]] = m[2]
		}
	}
	return out
}

func overrides(s string) map[string]string {
	out := map[string]string{}
	for f := range strings.FieldsSeq(s) {
		k, v, _ := strings.Cut(f, "=")
		out[k] = v
	}
	return out
}

// TestSenderRequiredAndSetPerEnvironment checks the sender parameters have no default (a deploy
// without them fails instead of sending from example.org), a pattern, and a valid value in every
// samconfig environment, the local ones included; and that deploys are tagged.
func TestSenderRequiredAndSetPerEnvironment(t *testing.T) {
	tm := mustLoad(t)
	patterns := map[string]*regexp.Regexp{}
	for _, name := range []string{"SenderAddress", "SenderIdentity"} {
		p := tm.Parameters[name]
		if _, has := p["Default"]; has {
			t.Errorf("parameter %s has a Default %v: want none", name, p["Default"])
		}
		pat, _ := p["AllowedPattern"].(string)
		re, err := regexp.Compile(pat)
		if pat == "" || err != nil {
			t.Fatalf("parameter %s AllowedPattern %q: %v", name, pat, err)
		}
		patterns[name] = re
		for _, bad := range []string{"", "Referrals <referrals@example.nhs.uk>", "not an address"} {
			if re.MatchString(bad) {
				t.Errorf("%s AllowedPattern accepts %q", name, bad)
			}
		}
	}
	cfg := samconfigSections(t)
	for _, section := range []string{"default.deploy.parameters", "dev.deploy.parameters", "prod.deploy.parameters",
		"default.local_start_api.parameters", "default.local_start_lambda.parameters", "default.local_invoke.parameters"} {
		o := overrides(cfg[section]["parameter_overrides"])
		for name, re := range patterns {
			if v := o[name]; !re.MatchString(v) || strings.Contains(v, "example.org") {
				t.Errorf("samconfig [%s] %s = %q: want a value matching %s", section, name, v, re)
			}
		}
		if addr, id := o["SenderAddress"], o["SenderIdentity"]; !strings.HasSuffix(addr, "@"+id) && addr != id {
			t.Errorf("samconfig [%s] SenderAddress %q is not in SenderIdentity %q", section, addr, id)
		}
		if strings.Contains(section, "deploy") {
			tags := overrides(cfg[section]["tags"])
			env := overrides(cfg[section]["parameter_overrides"])["Environment"]
			if tags["Service"] != "ipspc-referrals" || tags["Environment"] != env || tags["DataClassification"] == "" {
				t.Errorf("samconfig [%s] tags = %v, want Service, Environment (%s) and DataClassification", section, tags, env)
			}
		}
	}
}

// TestSamLocalEnvIsComplete checks infra/sam-local-env.json gives every function every variable
// the template gives it (sam local passes only those), and the endpoints of every AWS service the
// functions call, Secrets Manager's included — which the template must therefore declare (empty).
func TestSamLocalEnvIsComplete(t *testing.T) {
	tm := mustLoad(t)
	src, err := os.ReadFile(filepath.Join(root, "infra", "sam-local-env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(src, &env); err != nil {
		t.Fatalf("sam-local-env.json: %v", err)
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SESV2", "AWS_ENDPOINT_URL_SECRETS_MANAGER"} {
		if env["Parameters"][k] == "" {
			t.Errorf("Parameters has no %s", k)
		}
	}
	for _, id := range tm.ofType("AWS::Serverless::Function") {
		vars := asMap(at(tm.function(id), "Environment", "Variables"))
		for k := range vars {
			if _, ok := env[id][k]; !ok && env["Parameters"][k] == "" {
				t.Errorf("%s: no %s (the template sets it)", id, k)
			}
		}
		for k := range env["Parameters"] {
			if _, declared := vars[k]; strings.HasPrefix(k, "AWS_ENDPOINT_URL") && !declared {
				t.Errorf("%s does not declare %s, so sam local would not pass it", id, k)
			}
		}
	}
}
