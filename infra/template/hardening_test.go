package template

import (
	"path/filepath"
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
