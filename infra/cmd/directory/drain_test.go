package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/infra/localstack"
	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// Raising a capacity assigns the oldest waitlisted referrals in the freed area (SPEC §5).
func TestCapacityChangeDrainsTheWaitlist(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Skip("set AWS_ENDPOINT_URL_DYNAMODB (make test does)")
	}
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"DIRECTORY_TABLE": "", "REFERRALS_TABLE": "", "CONTACT_WORKING_DAYS": "", "MEETING_WORKING_DAYS": "",
	} {
		t.Setenv(k, v)
	}
	dirTable := createDirectoryTable(t, endpoint)
	client := dynamodb.NewFromConfig(aws.Config{Region: "eu-west-2", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	refTable := createReferralsTable(t, client)

	cmd := func(args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), append([]string{"-table", dirTable}, args...), &stdout, &stderr); err != nil {
			t.Fatalf("directory %s: %v", strings.Join(args, " "), err)
		}
		return stdout.String(), stderr.String()
	}
	cmd("import", areasFile, peopleFile)
	if _, stderr := cmd("capacity", "-id", "slough-1", "0"); !strings.Contains(stderr, "drain") {
		t.Errorf("without a referrals table the operator must be told to drain: %q", stderr)
	}

	store := dynamo.NewReferrals(client, dynamo.Tables{Referrals: refTable, Directory: dirTable})
	var ids []string
	for i, nhs := range []string{"9434765919", "4010232137"} {
		r := referral.Referral{ID: referral.NewID(), Area: "slough", PatientKey: testPatientKeys.PatientKey(nhs), ReceivedAt: time.Now().Add(time.Duration(i) * time.Second).UTC(),
			ContactBy: calendar.Date{Year: 2026, Month: 12, Day: 1}, MeetBy: calendar.Date{Year: 2026, Month: 12, Day: 11},
			Submission: referral.Submission{Patient: referral.Patient{GivenName: "A", FamilyName: "B", NHSNumber: nhs}},
			Events:     []referral.Event{{At: time.Now(), Type: referral.EventReceived, By: referral.System, Via: "api"}}}
		got, err := store.Record(t.Context(), r, nil)
		if err != nil || got.Status != referral.StatusWaitlisted {
			t.Fatalf("record: %v, %v", got.Status, err)
		}
		ids = append(ids, got.ID)
	}

	out, _ := cmd("-referrals-table", refTable, "capacity", "-id", "slough-1", "1")
	if !strings.Contains(out, "slough: 1 of 2 waitlisted referrals assigned") {
		t.Errorf("capacity 1 output = %q, want one of two assigned", out)
	}
	if out, _ := cmd("-referrals-table", refTable, "drain"); !strings.Contains(out, "slough: 0 of 1") {
		t.Errorf("drain with no room = %q", out)
	}
	for i, want := range []referral.Status{referral.StatusAssigned, referral.StatusWaitlisted} {
		got, _, err := dynamo.NewNotifications(client, refTable).Load(t.Context(), ids[i])
		if err != nil || got.Status != want {
			t.Errorf("referral %d = %s, %v; want %s (oldest first)", i, got.Status, err, want)
		}
	}
}

// createReferralsTable makes a referrals table exactly as template.yaml defines it.
func createReferralsTable(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	tmpl, err := localstack.LoadTemplate("../../../template.yaml", localstack.TemplateOptions{TablePrefix: "cmd-directory-" + hex.EncodeToString(suffix) + "-"})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := localstack.CreateTables(context.Background(), client, tmpl, tmpl.Options.TablePrefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := localstack.DeleteTables(ctx, client, tables); err != nil {
			t.Errorf("delete tables: %v", err)
		}
	})
	return tables["ReferralsTable"]
}

// testPatientKeys keys the test's patients as the intake would (a fixed test secret).
var testPatientKeys, _ = referral.NewKeyer([]byte("cmd-test-patient-key-secret-32-bytes"))
