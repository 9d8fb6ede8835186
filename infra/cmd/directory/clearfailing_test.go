package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/edges/bounce"
)

// TestClearFailing marks a specialist's and a lead's address failing, as the BounceFunction does,
// then clears each through run as an operator would, and checks list no longer flags them.
func TestClearFailing(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Skip("set AWS_ENDPOINT_URL_DYNAMODB (make test does)")
	}
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
	} {
		t.Setenv(k, v)
	}
	client := dynamodb.NewFromConfig(aws.Config{
		Region:      "eu-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	table := createDirectoryTable(t, endpoint)
	d := dynamo.NewDirectory(client, table)
	for _, name := range []string{areasFile, peopleFile} {
		if err := d.Import(t.Context(), mustReadFile(t, name)); err != nil {
			t.Fatalf("import %s: %v", name, err)
		}
	}
	if _, err := d.MarkEmailFailing(t.Context(), []string{"sam.slough@example.org", "lead.surrey@example.org"}, bounce.ReasonBounce, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		args    []string
		wantOut string
		wantErr string
	}{
		{[]string{"list"}, "2 email addresses failing", ""},
		{[]string{"clear-failing", "-id", "slough-1"}, "specialist slough-1: failing mark cleared", ""},
		{[]string{"clear-failing", "-id", "slough-1"}, "not marked failing; nothing to clear", ""},
		{[]string{"clear-failing", "-area", "surrey"}, "lead of surrey: failing mark cleared", ""},
		{[]string{"clear-failing", "-id", "nobody"}, "", `no specialist "nobody"`},
		{[]string{"clear-failing", "-area", "atlantis"}, "", `no area "atlantis"`},
		{[]string{"clear-failing"}, "", "give one of -id SPECIALIST or -area AREA"},
		{[]string{"clear-failing", "-id", "slough-1", "-area", "slough"}, "", "give one of -id SPECIALIST or -area AREA"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), append([]string{"-table", table}, step.args...), &stdout, &stderr)
		if step.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), step.wantErr) {
				t.Errorf("directory %s: error %v, want %q", strings.Join(step.args, " "), err, step.wantErr)
			}
			continue
		}
		if err != nil || !strings.Contains(stdout.String(), step.wantOut) {
			t.Errorf("directory %s: %v, output %q; want %q", strings.Join(step.args, " "), err, stdout.String(), step.wantOut)
		}
	}
	var stdout bytes.Buffer
	if err := run(t.Context(), []string{"-table", table, "list"}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String(), "EMAIL FAILING") {
		t.Errorf("list after clearing still flags an address:\n%s", stdout.String())
	}
}
