package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/edges/bounce"
)

// TestListShowsFailingEmails checks that list marks the specialists and leads whose address the
// BounceFunction marked failing, and only them.
func TestListShowsFailingEmails(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Skip("set AWS_ENDPOINT_URL_DYNAMODB (make test does)")
	}
	client := dynamodb.NewFromConfig(aws.Config{
		Region:      "eu-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	d := dynamo.NewDirectory(client, createDirectoryTable(t, endpoint))
	ctx := context.Background()
	for _, name := range []string{areasFile, peopleFile} {
		if err := d.Import(ctx, mustReadFile(t, name)); err != nil {
			t.Fatalf("import %s: %v", name, err)
		}
	}
	at := time.Date(2026, 11, 24, 9, 15, 4, 0, time.UTC)
	if _, err := d.MarkEmailFailing(ctx, []string{"sam.slough@example.org"}, bounce.ReasonBounce, at); err != nil {
		t.Fatal(err)
	}
	if _, err := d.MarkEmailFailing(ctx, []string{"lead.surrey@example.org"}, bounce.ReasonComplaint, at); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := list(ctx, d, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("list: %v", err)
	}
	tests := []struct {
		name string
		re   string
		want int // matching lines
	}{
		{"failing specialist", `(?m)^\s+specialist\s+slough-1\s.*active\s+EMAIL FAILING: bounce since 2026-11-24$`, 1},
		{"failing lead", `(?m)^\s+lead: .*<lead\.surrey@example\.org>\s+EMAIL FAILING: complaint since 2026-11-24$`, 1},
		{"nobody else", `EMAIL FAILING`, 2},
		{"summary", `(?m)^2 email addresses failing`, 1},
	}
	for _, tt := range tests {
		if got := len(regexp.MustCompile(tt.re).FindAllString(out.String(), -1)); got != tt.want {
			t.Errorf("%s: %d lines match %s, want %d:\n%s", tt.name, got, tt.re, tt.want, out.String())
		}
	}
}
