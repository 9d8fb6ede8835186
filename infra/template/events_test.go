package template

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/infra/localstack"
)

// TestEventFixtures reads every fixture in events/ (the `sam local invoke -e` events). Each must be
// a link to a handler's own testdata fixture, so the two cannot drift; decode strictly as the event
// its function receives and survive a round trip; and, for HTTP events, match one of that
// function's routes in template.yaml. There is one for every kind of event the service handles.
func TestEventFixtures(t *testing.T) {
	tmpl, err := localstack.LoadTemplate(filepath.Join(root, "template.yaml"), localstack.TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]struct {
		function string
		decode   func() any
	}{
		"intake":    {"IntakeFunction", func() any { return new(events.APIGatewayV2HTTPRequest) }},
		"actions":   {"ActionsFunction", func() any { return new(events.APIGatewayV2HTTPRequest) }},
		"notifier":  {"NotifierFunction", func() any { return new(events.DynamoDBEvent) }},
		"reminders": {"RemindersFunction", func() any { return new(events.EventBridgeEvent) }},
		"bounce":    {"BounceFunction", func() any { return new(events.SNSEvent) }},
		"returns":   {"ReturnsFunction", func() any { return new(events.DynamoDBEvent) }},
	}
	dir := filepath.Join(root, "events")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			target, err := os.Readlink(path)
			if err != nil || !strings.Contains(target, "/testdata/") || !strings.HasPrefix(target, "../shared/") {
				t.Fatalf("%s must be a link to a handler's testdata fixture under shared/ (got %q, %v)", name, target, err)
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read %s (its link target %s must exist): %v", name, target, err)
			}
			prefix, _, _ := strings.Cut(name, "-")
			kind, ok := kinds[prefix]
			if !ok {
				t.Fatalf("%s: name must start with one of intake-, actions-, notifier-, reminders-, bounce-, returns-", name)
			}
			covered[prefix] = true
			if tmpl.Function(kind.function) == nil {
				t.Fatalf("%s: template.yaml has no %s", name, kind.function)
			}
			first := kind.decode()
			dec := json.NewDecoder(bytes.NewReader(src))
			dec.DisallowUnknownFields()
			if err := dec.Decode(first); err != nil {
				t.Fatalf("%s is not a valid %T: %v", name, first, err)
			}
			again := kind.decode()
			if b, err := json.Marshal(first); err != nil || json.Unmarshal(b, again) != nil || !reflect.DeepEqual(first, again) {
				t.Errorf("%s does not survive a round trip (%v)", name, err)
			}
			if req, ok := first.(*events.APIGatewayV2HTTPRequest); ok {
				method, path, _ := strings.Cut(req.RouteKey, " ")
				if req.RawPath == "" || req.RequestContext.HTTP.Method != method {
					t.Errorf("%s: routeKey %q, method %q, rawPath %q do not agree", name, req.RouteKey, req.RequestContext.HTTP.Method, req.RawPath)
				}
				found := false
				for _, r := range tmpl.Function(kind.function).Routes {
					found = found || (r.Method == method || r.Method == "ANY") && r.Path == path
				}
				if !found {
					t.Errorf("%s: no route %q on %s in template.yaml", name, req.RouteKey, kind.function)
				}
			}
		})
	}
	for prefix := range kinds {
		if !covered[prefix] {
			t.Errorf("events/ has no fixture for %s", kinds[prefix].function)
		}
	}
}
