package bench

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ipspc/referrals/infra/localstack"
)

// TestCostFixedCountsMatchTemplate keeps docs/cost.md's fixed-cost counts honest: each row named
// below must state, as the first number of its count column, how many resources of that type
// template.yaml declares. Adding an alarm, a secret or a key without pricing it fails here.
func TestCostFixedCountsMatchTemplate(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	top, err := localstack.DecodeTemplate(src)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]int{}
	resources, _ := top["Resources"].(map[string]any)
	for _, v := range resources {
		r, _ := v.(map[string]any)
		typ, _ := r["Type"].(string)
		declared[typ]++
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cost.md"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ row, resourceType string }{
		{"Alarms", "AWS::CloudWatch::Alarm"},
		{"Dashboard", "AWS::CloudWatch::Dashboard"},
		{"KMS", "AWS::KMS::Key"},
		{"Secrets Manager", "AWS::SecretsManager::Secret"},
		{"Log groups", "AWS::Logs::LogGroup"},
	}
	for _, tt := range tests {
		t.Run(tt.row, func(t *testing.T) {
			got, ok := countInRow(string(doc), tt.row)
			if !ok {
				t.Fatalf("docs/cost.md has no fixed-cost row %q with a count", tt.row)
			}
			if want := declared[tt.resourceType]; got != want {
				t.Errorf("docs/cost.md row %q counts %d, template.yaml declares %d %s", tt.row, got, want, tt.resourceType)
			}
		})
	}
}

var firstNumber = regexp.MustCompile(`\d+`)

// countInRow finds the table row whose first cell starts with row (bold or not) and returns the
// first number in its second cell.
func countInRow(doc, row string) (int, bool) {
	for _, line := range strings.Split(doc, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		if !strings.HasPrefix(strings.Trim(strings.TrimSpace(cells[1]), "*"), row) {
			continue
		}
		if n := firstNumber.FindString(cells[2]); n != "" {
			v, err := strconv.Atoi(n)
			return v, err == nil
		}
	}
	return 0, false
}
