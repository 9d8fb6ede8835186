package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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
	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/returns"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args  []string
		field string
	}{
		{[]string{"-to", "2026-11"}, "from:"},
		{[]string{"-from", "2026-11", "-to", "2026-13"}, "to:"},
		{[]string{"-from", "2026-11", "-to", "2026-10"}, "to:"},
		{[]string{"-from", "2026-11", "-to", "2026-11", "-format", "xml"}, "format:"},
		{[]string{"-from", "2026-11", "-to", "2026-11", "-format", "html"}, "area:"},
		{[]string{"-from", "2026-11", "-to", "2026-11", "-table", "", "-returns-table", ""}, "table:"},
		{[]string{"-rebuild", "-table", "d", "-returns-table", "r"}, "table:"},
	}
	t.Setenv("DIRECTORY_TABLE", "")
	t.Setenv("REFERRALS_TABLE", "")
	t.Setenv("RETURNS_TABLE", "")
	for _, tt := range tests {
		err := run(t.Context(), tt.args, &bytes.Buffer{})
		var u usageError
		if err == nil || !strings.HasPrefix(err.Error(), tt.field) || !errors.As(err, &u) {
			t.Errorf("report %v = %v, want a usage error naming %s", tt.args, err, tt.field)
		}
	}
}

// Referrals recorded and contacted through the real adapter appear in the area's CSV, each once,
// from the returns table: before it holds their facts the report shows none (it never reads the
// referrals), after -rebuild it does.
func TestReportAgainstDynamoDBLocal(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Skip("set AWS_ENDPOINT_URL_DYNAMODB (make test does)")
	}
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
	} {
		t.Setenv(k, v)
	}
	client := dynamodb.NewFromConfig(aws.Config{Region: "eu-west-2", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	tmpl, err := localstack.LoadTemplate("../../../template.yaml", localstack.TemplateOptions{TablePrefix: "cmd-report-" + hex.EncodeToString(suffix) + "-"})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := localstack.CreateTables(t.Context(), client, tmpl, tmpl.Options.TablePrefix)
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
	dirTable, refTable, retTable := tables["DirectoryTable"], tables["ReferralsTable"], tables["ReturnsTable"]
	if err := dynamo.NewDirectory(client, dirTable).Import(t.Context(), directory.File{
		Areas:       []directory.Area{{ID: "north", Name: "North", Postcodes: []string{"S35"}}, {ID: "south", Name: "South", Postcodes: []string{"S36"}}},
		Specialists: []directory.Specialist{{ID: "n1", AreaID: "north", Name: "N One", Email: "n1@nhs.net", Capacity: 2, Active: true}},
	}); err != nil {
		t.Fatal(err)
	}

	now := time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC) // mid-month: no month boundary between events
	today := calendar.DateOf(now)
	store := dynamo.NewReferrals(client, dynamo.Tables{Referrals: refTable, Directory: dirTable})
	progress := dynamo.NewProgress(client, dynamo.Tables{Referrals: refTable, Directory: dirTable})
	// Three referrals for a specialist with room for two: two assigned, one waitlisted.
	for i, nhs := range []string{"9434765919", "4010232137", "9990548609"} {
		at := now.Add(time.Duration(i) * time.Millisecond)
		r := referral.Referral{ID: referral.NewID(), Area: "north", PatientKey: testPatientKeys.PatientKey(nhs), ReceivedAt: at,
			ContactBy: today.AddDays(5), MeetBy: today.AddDays(14),
			Submission: referral.Submission{Patient: referral.Patient{GivenName: "A", FamilyName: "B", NHSNumber: nhs}, EmploymentStatus: "unemployed"},
			Events:     []referral.Event{{At: at, Type: referral.EventReceived, By: referral.System, Via: "api"}}}
		got, err := store.Record(t.Context(), r, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			e := referral.Event{At: at.Add(time.Second), Type: referral.EventContacted, By: got.SpecialistID, Via: referral.ViaSignedLink}
			if err := progress.RecordContact(t.Context(), got, contacted(got, e)); err != nil {
				t.Fatal(err)
			}
		}
	}

	month := returns.Month(now)
	var out bytes.Buffer
	args := []string{"-table", dirTable, "-returns-table", retTable, "-from", month, "-to", month}
	if err := run(t.Context(), args, &out); err != nil {
		t.Fatal(err)
	}
	if want := "north," + month + ",0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0"; !strings.Contains(out.String(), want) {
		t.Errorf("report before the returns table holds the facts:\n%s\nwant %s", out.String(), want)
	}
	out.Reset()
	if err := run(t.Context(), []string{"-rebuild", "-table", dirTable, "-returns-table", retTable, "-referrals-table", refTable}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "rebuilt ") {
		t.Errorf("rebuild said %q", out.String())
	}
	out.Reset()
	if err := run(t.Context(), args, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		strings.Join(returns.Header, ","),
		"north," + month + ",3,2,1,1,0,0,0,0,0,0,0,0,0,0,0,2,1",
		"south," + month + ",0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("report:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}

	// One area as HTML: the area's name, counts only.
	out.Reset()
	if err := run(t.Context(), append(args, "-area", "north", "-format", "html"), &out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Programme return for North", `role="img"`} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("html report lacks %q", s)
		}
	}
	if strings.Contains(out.String(), "n1") || strings.Contains(out.String(), "9434765919") {
		t.Errorf("html report shows a specialist id or NHS number")
	}
}

// testPatientKeys keys the test's patients as the intake would (a fixed test secret).
var testPatientKeys, _ = referral.NewKeyer([]byte("cmd-test-patient-key-secret-32-bytes"))

// contacted is the transition function's decision for a contact on r.
func contacted(r referral.Referral, e referral.Event) referral.Transition {
	from := r.Status
	r.Status = referral.StatusContacted
	return referral.Transition{From: from, Referral: r, Event: e}
}
