package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/directory"
)

const (
	areasFile  = "../../directory/areas.json"
	peopleFile = "../../directory/demo-people.json"
)

// The programme's areas (SPEC §1).
var specAreas = []string{"south-yorkshire", "greater-manchester", "west-london", "norfolk",
	"cheshire-west-and-chester", "west-midlands", "enfield", "essex", "newham", "nottingham", "slough", "surrey"}

func mustReadFile(tb testing.TB, name string) directory.File {
	tb.Helper()
	f, err := readFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestCommittedDirectoryFiles(t *testing.T) {
	t.Parallel()
	areas := mustReadFile(t, areasFile)
	people := mustReadFile(t, peopleFile)

	var ids []string
	for _, a := range areas.Areas {
		ids = append(ids, a.ID)
		if a.Name == "" || len(a.LocalAuthorities) == 0 || len(a.Postcodes) == 0 {
			t.Errorf("areas.json: area %s lacks a name, local authorities or postcodes", a.ID)
		}
		if a.Lead != (directory.Person{}) {
			t.Errorf("areas.json: area %s names a lead; people belong in a people file", a.ID)
		}
	}
	if !slices.Equal(ids, specAreas) {
		t.Errorf("areas.json areas = %v, want %v", ids, specAreas)
	}
	if len(areas.Specialists) != 0 {
		t.Errorf("areas.json lists %d specialists; people belong in a people file", len(areas.Specialists))
	}

	merged := directory.Merge(areas, people)
	if err := merged.Validate(); err != nil {
		t.Fatalf("areas.json + demo-people.json: %v", err)
	}
	if len(merged.Areas) != len(specAreas) {
		t.Errorf("demo-people.json adds areas: %d in all", len(merged.Areas))
	}
	active := map[string]int{}
	for _, s := range merged.Specialists {
		if !strings.HasSuffix(s.Email, "@example.org") {
			t.Errorf("demo specialist %s: email %s is not at example.org", s.ID, s.Email)
		}
		if s.Active && s.Capacity == directory.DefaultCapacity {
			active[s.AreaID]++
		}
	}
	for _, a := range merged.Areas {
		if !strings.HasSuffix(a.Lead.Email, "@example.org") {
			t.Errorf("area %s: demo lead %q is not at example.org", a.ID, a.Lead.Email)
		}
		if active[a.ID] == 0 {
			t.Errorf("area %s has no active demo specialist with the default capacity", a.ID)
		}
	}

	// Spot checks of routing with the committed prefixes.
	prefixes := merged.Prefixes()
	for postcode, want := range map[string]string{
		"S1 2HH": "south-yorkshire", "M1 1AE": "greater-manchester", "W12 7RJ": "west-london",
		"NR1 3QU": "norfolk", "CH1 2HJ": "cheshire-west-and-chester", "B1 1BB": "west-midlands",
		"EN1 3XA": "enfield", "CM1 1QH": "essex", "E15 4BQ": "newham", "NG1 5FS": "nottingham",
		"SL1 1DP": "slough", "GU1 4RR": "surrey", "W1A 1AA": "", "TW1 3SX": "",
	} {
		if got, _ := prefixes.AreaFor(postcode); got != want {
			t.Errorf("AreaFor(%q) = %q, want %q", postcode, got, want)
		}
	}
}

func TestRunUsage(t *testing.T) {
	t.Setenv("DIRECTORY_TABLE", "")
	dir := t.TempDir()
	invalid := filepath.Join(dir, "invalid.json")
	if err := os.WriteFile(invalid, []byte(`{"areas":[{"id":"Bad Id"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	clash := filepath.Join(dir, "clash.json")
	if err := os.WriteFile(clash, []byte(`{"areas":[{"id":"elsewhere","name":"Elsewhere","postcodes":["S1"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string // in stderr
		wantOut  string // in stdout
	}{
		{"no command", nil, 2, "no command given", ""},
		{"unknown command", []string{"-table", "t", "frobnicate"}, 2, `unknown command "frobnicate"`, ""},
		{"unknown global flag", []string{"-tabel", "t", "list"}, 2, "flag provided but not defined: -tabel", ""},
		{"help", []string{"-h"}, 0, "", "Usage: directory [-table NAME]"},
		{"help command", []string{"help"}, 0, "", "specialist add -area AREA"},
		{"no table", []string{"list"}, 2, "no table: give -table NAME or set DIRECTORY_TABLE", ""},
		{"import without files", []string{"-table", "t", "import"}, 2, "import: no files given", "Usage: directory import"},
		{"import a missing file", []string{"-table", "t", "import", filepath.Join(dir, "nope.json")}, 1, "no such file", ""},
		{"import an invalid file", []string{"-table", "t", "import", invalid}, 1, `area "Bad Id": id`, ""},
		{"import files that clash", []string{"-table", "t", "import", areasFile, clash}, 1,
			`"S1" is already in area "south-yorkshire"`, ""},
		{"list with an argument", []string{"-table", "t", "list", "x"}, 2, `unexpected argument "x"`, ""},
		{"specialist without subcommand", []string{"-table", "t", "specialist"}, 2, "no subcommand", ""},
		{"specialist add missing flags", []string{"-table", "t", "specialist", "add", "-id", "x", "-name", "X"}, 2,
			"specialist add: -area, -email required", ""},
		{"specialist add negative capacity", []string{"-table", "t", "specialist", "add", "-area", "slough", "-id", "x",
			"-name", "X", "-email", "x@example.org", "-capacity", "-1"}, 2, "-capacity must be 0 or more", ""},
		{"specialist update nothing", []string{"-table", "t", "specialist", "update", "-id", "x"}, 2, "nothing to change", ""},
		{"specialist deactivate without id", []string{"-table", "t", "specialist", "deactivate"}, 2, "-id required", ""},
		{"specialist unknown subcommand", []string{"-table", "t", "specialist", "promote", "-id", "x"}, 2, `unknown subcommand "promote"`, ""},
		{"specialist help", []string{"specialist", "add", "-h"}, 0, "", "directory specialist update -id ID"},
		{"capacity without a number", []string{"-table", "t", "capacity", "-id", "x"}, 2, "give the new capacity N", ""},
		{"capacity not a number", []string{"-table", "t", "capacity", "-id", "x", "lots"}, 2, `"lots" is not a whole number`, ""},
		{"capacity negative", []string{"-table", "t", "capacity", "-id", "x", "-3"}, 2, "flag provided but not defined: -3", ""},
		{"capacity without id", []string{"-table", "t", "capacity", "5"}, 2, "capacity: -id required", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, &stdout, &stderr)
			code := report(err, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (error: %v)", code, tt.wantCode, err)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantErr)
			}
			if tt.wantOut != "" && !strings.Contains(stdout.String()+stderr.String(), tt.wantOut) {
				t.Errorf("output = %q, want it to contain %q", stdout.String()+stderr.String(), tt.wantOut)
			}
		})
	}
}

// TestRunAgainstDynamoDBLocal seeds a table from the committed files and manages a specialist,
// through run and the AWS configuration the command loads, as an operator would.
func TestRunAgainstDynamoDBLocal(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Skip("set AWS_ENDPOINT_URL_DYNAMODB (make test does)")
	}
	// What run's configuration sees: static credentials, a region, no shared files.
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"DIRECTORY_TABLE": "",
	} {
		t.Setenv(k, v)
	}
	table := createDirectoryTable(t, endpoint)

	steps := []struct {
		args    []string
		wantOut []string
		wantErr string // "" for success
	}{
		{args: []string{"import", areasFile}, wantOut: []string{"imported 12 areas, 458 postcode prefixes and 0 specialists"}},
		{args: []string{"import", areasFile, peopleFile}, wantOut: []string{"imported 12 areas, 458 postcode prefixes and 15 specialists"}},
		{args: []string{"list"}, wantOut: []string{
			"area south-yorkshire: South Yorkshire\n",
			"  lead: Alex Lead <lead.newham@example.org>\n",
			"  prefixes: 43\n",
			"12 areas, 15 specialists (15 active)\n",
		}},
		{args: []string{"specialist", "deactivate", "-id", "slough-1"}, wantOut: []string{"deactivated: slough-1", "inactive"}},
		{args: []string{"capacity", "-id", "surrey-1", "25"}, wantOut: []string{"caseload 0/25"}},
		{args: []string{"specialist", "add", "-area", "slough", "-id", "slough-2", "-name", "Lee Specialist",
			"-email", "lee.slough@example.org"}, wantOut: []string{"added: slough-2", "caseload 0/20", "active"}},
		{args: []string{"specialist", "add", "-area", "surrey", "-id", "slough-2", "-name", "Lee Specialist",
			"-email", "lee@example.org"}, wantErr: `specialist "slough-2" already exists in area "slough"`},
		{args: []string{"specialist", "update", "-id", "slough-2", "-capacity", "5"}, wantOut: []string{"caseload 0/5"}},
		{args: []string{"specialist", "activate", "-id", "nobody"}, wantErr: `no specialist "nobody"`},
		{args: []string{"list"}, wantOut: []string{
			"12 areas, 16 specialists (15 active)\n",
		}},
	}
	for _, step := range steps {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), append([]string{"-table", table}, step.args...), &stdout, &stderr)
		if step.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), step.wantErr) {
				t.Fatalf("directory %s: error %v, want one containing %q", strings.Join(step.args, " "), err, step.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("directory %s: %v", strings.Join(step.args, " "), err)
		}
		for _, want := range step.wantOut {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("directory %s: output\n%s\nwant it to contain %q", strings.Join(step.args, " "), stdout.String(), want)
			}
		}
		if step.args[0] == "list" {
			if n := len(regexp.MustCompile(`(?m)^area `).FindAllString(stdout.String(), -1)); n != len(specAreas) {
				t.Errorf("list shows %d areas, want %d", n, len(specAreas))
			}
		}
		if step.args[0] == "import" && len(step.args) == 2 && !strings.Contains(stderr.String(), "warning: area surrey has no lead") {
			t.Errorf("import of areas alone: stderr %q, want a warning about missing leads", stderr.String())
		}
	}

	// The deactivated specialist is listed as inactive, with their area.
	var stdout bytes.Buffer
	if err := run(t.Context(), []string{"-table", table, "list"}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`specialist\s+slough-1\s+Sam Specialist <sam.slough@example.org>\s+caseload 0/20\s+inactive`).Match(stdout.Bytes()) {
		t.Errorf("list does not show slough-1 inactive:\n%s", stdout.String())
	}
}

// createDirectoryTable creates a DirectoryTable with a unique name and deletes it when the test ends.
func createDirectoryTable(tb testing.TB, endpoint string) string {
	tb.Helper()
	client := dynamodb.NewFromConfig(aws.Config{
		Region:      "eu-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		tb.Fatal(err)
	}
	name := "cmd-directory-" + hex.EncodeToString(suffix)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		tb.Fatalf("create table: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			tb.Errorf("delete table %s: %v", name, err)
		}
	})
	err = dynamodb.NewTableExistsWaiter(client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute)
	if err != nil {
		tb.Fatalf("wait for table: %v", err)
	}
	return name
}
