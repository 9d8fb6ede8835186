package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/infra/localstack"
)

// The backfill moves referrals stored in the old layout (one "DUE" partition, only referrals with
// a deadline pending) to the per-area layout, touches nothing else, and is idempotent.
func TestBackfillAgainstDynamoDBLocal(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Skip("set AWS_ENDPOINT_URL_DYNAMODB (make test does)")
	}
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"REFERRALS_TABLE": "",
	} {
		t.Setenv(k, v)
	}
	ctx := t.Context()
	db := localstack.DynamoDBClient(endpoint, "eu-west-2")
	tmpl, err := localstack.LoadTemplate("../../../template.yaml", localstack.TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tables, err := localstack.CreateTables(ctx, db, tmpl, "duebackfill-"+hex.EncodeToString(suffix)+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := localstack.DeleteTables(ctx, db, tables); err != nil {
			t.Errorf("drop tables: %v", err)
		}
	})
	table := tables["ReferralsTable"]

	s := func(v string) ddb.AttributeValue { return &ddb.AttributeValueMemberS{Value: v} }
	put := func(id, status string, extra map[string]string) {
		item := map[string]ddb.AttributeValue{
			"pk": s("REFERRAL#" + id), "sk": s("#REFERRAL"), "referralId": s(id), "status": s(status), "area": s("norfolk"),
			"receivedAt": s("2026-11-23T10:00:00Z"), "contactBy": s("2026-11-25"), "meetBy": s("2026-12-07"),
			"events": &ddb.AttributeValueMemberL{},
		}
		for k, v := range extra {
			item[k] = s(v)
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	old := func(at, kind string) map[string]string {
		return map[string]string{"dueShard": "DUE", "dueAt": at, "dueKind": kind}
	}
	put("R-assigned", "assigned", old("2026-11-25", "contact"))
	put("R-contacted", "contacted", old("2026-12-07", "meeting"))
	put("R-engaged", "engaged", nil)
	put("R-in-work", "in-work", nil)
	put("R-waitlisted", "waitlisted", map[string]string{"waitArea": "norfolk", "waitSince": "2026-11-23T10:00:00.000000000Z#R-waitlisted"})
	put("R-closed", "closed", nil)
	put("R-withdrawn", "withdrawn", nil)
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddb.AttributeValue{
		"pk": s("OPEN#norfolk#k"), "sk": s("#OPEN"), "referralId": s("R-assigned"), "area": s("norfolk"),
	}}); err != nil {
		t.Fatal(err)
	}
	want := map[string][3]string{
		"R-assigned":  {"norfolk", "2026-11-25", "contact"},
		"R-contacted": {"norfolk", "2026-12-07", "meeting"},
		"R-engaged":   {"norfolk", "9999-12-31", ""},
		"R-in-work":   {"norfolk", "9999-12-31", ""},
	}
	due := func() map[string][3]string {
		out := map[string][3]string{}
		scan, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		str := func(it map[string]ddb.AttributeValue, k string) string {
			v, _ := it[k].(*ddb.AttributeValueMemberS)
			if v == nil {
				return ""
			}
			return v.Value
		}
		for _, it := range scan.Items {
			if e := [3]string{str(it, "dueShard"), str(it, "dueAt"), str(it, "dueKind")}; e != ([3]string{}) {
				out[str(it, "referralId")] = e
			}
		}
		return out
	}
	before := due()

	for _, step := range []struct {
		args    []string
		wantOut string
		want    map[string][3]string
	}{
		{[]string{"-dry-run"}, "7 referrals scanned: 4 due entries to rewrite (dry run), 0 changed", before},
		{nil, "7 referrals scanned: 4 due entries rewritten, 0 changed", want},
		{nil, "7 referrals scanned: 0 due entries rewritten, 0 changed", want},
	} {
		var out bytes.Buffer
		if err := run(ctx, append([]string{"-referrals-table", table}, step.args...), &out); err != nil {
			t.Fatalf("duebackfill %v: %v", step.args, err)
		}
		if !strings.Contains(out.String(), step.wantOut) {
			t.Errorf("duebackfill %v said %q, want %q", step.args, out.String(), step.wantOut)
		}
		if got := due(); !maps.Equal(got, step.want) {
			t.Errorf("after duebackfill %v: due entries %v, want %v", step.args, got, step.want)
		}
	}

	// The per-area partition now lists the area's open, assigned referrals.
	q, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, IndexName: aws.String("Due"),
		KeyConditionExpression:    aws.String("dueShard = :a"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":a": s("norfolk")}})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, it := range q.Items {
		listed = append(listed, strings.TrimPrefix(it["pk"].(*ddb.AttributeValueMemberS).Value, "REFERRAL#"))
	}
	slices.Sort(listed)
	if w := []string{"R-assigned", "R-contacted", "R-engaged", "R-in-work"}; !slices.Equal(listed, w) {
		t.Errorf("norfolk's Due partition = %v, want %v", listed, w)
	}

	if err := run(ctx, []string{"extra"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("no table and an argument: %v, want a usage error", err)
	}
}
