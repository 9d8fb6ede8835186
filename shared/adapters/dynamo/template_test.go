package dynamo

import (
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/infra/localstack"
)

var (
	templateOnce sync.Once
	templ        *localstack.Template
	templErr     error
)

// templateTable returns the CreateTableInput of a table in template.yaml, so store tests run on
// exactly the keys and indexes that are deployed.
func templateTable(tb testing.TB, logicalID string) *dynamodb.CreateTableInput {
	tb.Helper()
	templateOnce.Do(func() {
		templ, templErr = localstack.LoadTemplate("../../../template.yaml", localstack.TemplateOptions{})
	})
	if templErr != nil {
		tb.Fatalf("load template.yaml: %v", templErr)
	}
	for _, t := range templ.Tables {
		if t.LogicalID == logicalID {
			return t.Input
		}
	}
	tb.Fatalf("template.yaml has no table %s", logicalID)
	return nil
}
