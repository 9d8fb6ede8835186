package template

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ipspc/referrals/infra/localstack"
)

// The template is decoded into plain values (map[string]any, []any, string, nil) with every
// CloudFormation intrinsic in its long form: !Ref X is {"Ref": "X"}, !GetAtt A.B is
// {"Fn::GetAtt": ["A", "B"]}, !Sub s is {"Fn::Sub": s}, and so on. Scalars stay strings.

// root is the repository root, relative to this package.
const root = "../.."

// tmpl is a decoded template.
type tmpl struct {
	Parameters map[string]map[string]any
	Conditions map[string]any
	Globals    map[string]any // Globals.Function
	Resources  map[string]resource
	Outputs    map[string]map[string]any
}

type resource struct {
	ID        string
	Type      string
	Condition string
	// DeletionPolicy and UpdateReplacePolicy as written ("" when absent).
	DeletionPolicy      string
	UpdateReplacePolicy string
	Metadata            map[string]any
	Properties          map[string]any
}

// mustLoad decodes template.yaml, stopping the test if it cannot.
func mustLoad(tb testing.TB) *tmpl {
	tb.Helper()
	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		tb.Fatalf("read template: %v", err)
	}
	top, err := localstack.DecodeTemplate(src)
	if err != nil {
		tb.Fatalf("decode template: %v", err)
	}
	t := &tmpl{
		Parameters: map[string]map[string]any{},
		Conditions: asMap(top["Conditions"]),
		Globals:    asMap(asMap(top["Globals"])["Function"]),
		Resources:  map[string]resource{},
		Outputs:    map[string]map[string]any{},
	}
	for k, v := range asMap(top["Parameters"]) {
		t.Parameters[k] = asMap(v)
	}
	for k, v := range asMap(top["Outputs"]) {
		t.Outputs[k] = asMap(v)
	}
	for id, v := range asMap(top["Resources"]) {
		m := asMap(v)
		if m == nil {
			tb.Fatalf("resource %s is not a mapping", id)
		}
		r := resource{ID: id, Metadata: asMap(m["Metadata"]), Properties: asMap(m["Properties"])}
		r.Type, _ = m["Type"].(string)
		r.Condition, _ = m["Condition"].(string)
		r.DeletionPolicy, _ = m["DeletionPolicy"].(string)
		r.UpdateReplacePolicy, _ = m["UpdateReplacePolicy"].(string)
		if r.Properties == nil {
			r.Properties = map[string]any{}
		}
		t.Resources[id] = r
	}
	return t
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

// asList returns v as a list; a single value is a list of one (IAM's Action and Resource).
func asList(v any) []any {
	switch l := v.(type) {
	case nil:
		return nil
	case []any:
		return l
	}
	return []any{v}
}

// at walks a path of map keys.
func at(v any, path ...string) any {
	for _, p := range path {
		v = asMap(v)[p]
	}
	return v
}

// str renders a value for comparison: a string as it is; {"Ref": X} as "X"; {"Fn::GetAtt": [X,
// "Arn"]} as "X" and other attributes as "X.Attr"; {"Fn::Sub": s} as s with "${X.Arn}" turned into
// "X" and the account's ARN prefix dropped ("arn:${AWS::Partition}:ses:${AWS::Region}:
// ${AWS::AccountId}:identity/x" is "ses:identity/x"); anything else as its Go syntax, which
// matches nothing expected.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if len(x) != 1 {
			break
		}
		if r, ok := x["Ref"].(string); ok {
			return r
		}
		if ga := asList(x["Fn::GetAtt"]); len(ga) == 2 {
			if ga[1] == "Arn" {
				return fmt.Sprint(ga[0])
			}
			return fmt.Sprintf("%v.%v", ga[0], ga[1])
		}
		if s, ok := x["Fn::Sub"].(string); ok {
			s = arnAttr.ReplaceAllString(s, "$1")
			s = strings.ReplaceAll(s, "arn:${AWS::Partition}:", "")
			return strings.ReplaceAll(s, ":${AWS::Region}:${AWS::AccountId}:", ":")
		}
	}
	return fmt.Sprintf("%#v", v)
}

var arnAttr = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\.Arn\}`)

// function returns a function's properties with Globals.Function applied as SAM does: maps merge
// (the function wins), anything else in the function replaces the global.
func (t *tmpl) function(id string) map[string]any {
	return merge(t.Globals, t.Resources[id].Properties).(map[string]any)
}

func merge(global, local any) any {
	gm, lm := asMap(global), asMap(local)
	if gm == nil || lm == nil {
		if local == nil {
			return global
		}
		return local
	}
	out := map[string]any{}
	for k, v := range gm {
		out[k] = v
	}
	for k, v := range lm {
		out[k] = merge(gm[k], v)
	}
	return out
}

// ofType returns the logical ids of the resources of a type, sorted.
func (t *tmpl) ofType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// alarm is the part of an AWS::CloudWatch::Alarm the tests compare.
type alarm struct {
	ID         string
	Namespace  string
	Metric     string
	Dimensions map[string]string // rendered with str
	Comparison string
	Threshold  string
	Missing    string
	Statistic  string
	Period     string
	Evaluation string
	Props      map[string]any
}

func (t *tmpl) alarms() []alarm {
	var out []alarm
	for _, id := range t.ofType("AWS::CloudWatch::Alarm") {
		p := t.Resources[id].Properties
		a := alarm{ID: id, Namespace: str(p["Namespace"]), Metric: str(p["MetricName"]), Dimensions: map[string]string{},
			Comparison: str(p["ComparisonOperator"]), Threshold: str(p["Threshold"]), Missing: str(p["TreatMissingData"]),
			Statistic: str(p["Statistic"]), Period: str(p["Period"]), Evaluation: str(p["EvaluationPeriods"]), Props: p}
		for _, d := range asList(p["Dimensions"]) {
			a.Dimensions[str(at(d, "Name"))] = str(at(d, "Value"))
		}
		out = append(out, a)
	}
	return out
}

// githubSlug is the anchor GitHub gives a Markdown heading.
func githubSlug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// mustAnchors returns the anchors of the headings of a Markdown file.
func mustAnchors(tb testing.TB, path string) map[string]bool {
	tb.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	anchors := map[string]bool{}
	inFence := false
	for line := range strings.SplitSeq(string(src), "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if !inFence && strings.HasPrefix(line, "#") {
			anchors[githubSlug(strings.TrimLeft(line, "#"))] = true
		}
	}
	return anchors
}
