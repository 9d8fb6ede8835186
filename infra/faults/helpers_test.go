package faults

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var client = &http.Client{Timeout: 60 * time.Second}

// response is an HTTP response read whole, with how long it took.
type response struct {
	Status  int
	Header  http.Header
	Body    string
	Elapsed time.Duration
}

type receipt struct {
	ReferralID string `json:"referralId"`
	Status     string `json:"status"`
	Area       string `json:"area"`
}

func (r response) receipt(t *testing.T) receipt {
	t.Helper()
	var got receipt
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil || got.ReferralID == "" {
		t.Fatalf("not a receipt (%d, %v): %.300s", r.Status, err, r.Body)
	}
	return got
}

// post sends a JSON referral, with an Idempotency-Key when key is not empty. It reports a
// transport error rather than failing, so it can be called from many goroutines.
func post(body []byte, key string) (response, error) {
	req, err := http.NewRequest(http.MethodPost, stack.HTTPURL()+"/referrals", strings.NewReader(string(body)))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b), Elapsed: time.Since(start)}, err
}

func mustPost(t *testing.T, body []byte, key string) response {
	t.Helper()
	res, err := post(body, key)
	if err != nil {
		t.Fatalf("POST /referrals: %v", err)
	}
	return res
}

// patient is a fictional person unique to one test.
type patient struct {
	GivenName, FamilyName, NHS, ReferrerEmail string
}

func newPatient(t *testing.T) patient {
	t.Helper()
	tag := randomHex(t, 4)
	return patient{GivenName: "Giv" + tag, FamilyName: "Fam" + tag, NHS: randomNHS(t), ReferrerEmail: "gp" + tag + "@nhs.net"}
}

// body is the JSON submission for p in the area of postcode.
func (p patient) body(t *testing.T, postcode string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"patient": map[string]any{
			"givenName": p.GivenName, "familyName": p.FamilyName, "dateOfBirth": "1980-05-17",
			"nhsNumber": p.NHS, "postcode": postcode, "phone": "07700 900123", "preferredContact": "phone",
		},
		"referrer":         map[string]any{"name": "Dr Test GP", "practiceCode": "C88038", "email": p.ReferrerEmail},
		"employmentStatus": "unemployed",
		"consent":          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// randomNHS returns a random valid NHS number (modulus 11).
func randomNHS(t *testing.T) string {
	t.Helper()
	for {
		var b strings.Builder
		sum := 0
		for i := range 9 {
			d := randomInt(t, 10)
			if i == 0 && d == 0 {
				d = 4
			}
			sum += d * (10 - i)
			b.WriteByte(byte('0' + d))
		}
		check := (11 - sum%11) % 11
		if check == 10 {
			continue
		}
		b.WriteByte(byte('0' + check))
		return b.String()
	}
}

func randomInt(t *testing.T, n int) int {
	t.Helper()
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		t.Fatal(err)
	}
	return int(v.Int64())
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// snapshot is every item of the stack's tables, each rendered as canonical JSON, by table.
type snapshot map[string][]string

func takeSnapshot(t *testing.T) snapshot {
	t.Helper()
	out := snapshot{}
	for logical, name := range stack.Tables() {
		for _, item := range scan(t, name) {
			var v map[string]any
			if err := attributevalue.UnmarshalMap(item, &v); err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(v) // map keys sorted: canonical
			if err != nil {
				t.Fatal(err)
			}
			out[logical] = append(out[logical], string(b))
		}
		slices.Sort(out[logical])
	}
	return out
}

// diff lists the items added to or removed from s by later.
func (s snapshot) diff(later snapshot) []string {
	var out []string
	for table := range mergeKeys(s, later) {
		for _, item := range later[table] {
			if !slices.Contains(s[table], item) {
				out = append(out, fmt.Sprintf("%s: new or changed %.200s", table, item))
			}
		}
		for _, item := range s[table] {
			if !slices.Contains(later[table], item) {
				out = append(out, fmt.Sprintf("%s: gone or changed %.200s", table, item))
			}
		}
	}
	return out
}

func mergeKeys(a, b snapshot) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

func scan(t *testing.T, table string) []map[string]ddb.AttributeValue {
	t.Helper()
	var items []map[string]ddb.AttributeValue
	p := dynamodb.NewScanPaginator(stack.DynamoDB(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		items = append(items, page.Items...)
	}
	return items
}

// storedReferral is the part of a referral item these tests read.
type storedReferral struct {
	ReferralID   string `dynamodbav:"referralId"`
	Status       string `dynamodbav:"status"`
	Area         string `dynamodbav:"area"`
	SpecialistID string `dynamodbav:"specialistId"`
	PatientKey   string `dynamodbav:"patientKey"`
	Patient      struct {
		NHSNumber string `dynamodbav:"nhsNumber"`
	} `dynamodbav:"patient"`
	Events []struct {
		Type   string `dynamodbav:"type"`
		Detail string `dynamodbav:"detail"`
	} `dynamodbav:"events"`
}

// referralsOf returns the referral items of the stack whose patient has the NHS number, and how
// many items of any kind are about the patient: those that mention the number (the referral) and
// the open cases keyed by those referrals' patient keys (no key holds the number itself).
func referralsOf(t *testing.T, nhs string) (refs []storedReferral, mentions int) {
	t.Helper()
	items := scan(t, stack.TableName("ReferralsTable"))
	keys := map[string]bool{}
	for _, item := range items {
		var r storedReferral
		if err := attributevalue.UnmarshalMap(item, &r); err != nil {
			t.Fatal(err)
		}
		pk := item["pk"].(*ddb.AttributeValueMemberS).Value
		if r.Patient.NHSNumber == nhs && strings.HasPrefix(pk, "REFERRAL#") {
			refs = append(refs, r)
			keys[r.PatientKey] = true
		}
		if strings.Contains(pk, nhs) {
			t.Errorf("key %s holds the NHS number", pk)
		}
		if r.Patient.NHSNumber == nhs {
			mentions++
		}
	}
	for _, item := range items {
		pk := item["pk"].(*ddb.AttributeValueMemberS).Value
		if i := strings.LastIndex(pk, "#"); strings.HasPrefix(pk, "OPEN#") && keys[pk[i+1:]] {
			mentions++
		}
	}
	return refs, mentions
}

func referralItem(t *testing.T, id string) map[string]ddb.AttributeValue {
	t.Helper()
	out, err := stack.DynamoDB().GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(stack.TableName("ReferralsTable")), ConsistentRead: aws.Bool(true),
		Key: map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "REFERRAL#" + id}, "sk": &ddb.AttributeValueMemberS{Value: "#REFERRAL"}},
	})
	if err != nil || out.Item == nil {
		t.Fatalf("read referral %s: %v", id, err)
	}
	return out.Item
}

// emailed returns the email kinds recorded as sent in the referral's audit events.
func emailed(t *testing.T, id string) []string {
	t.Helper()
	var r storedReferral
	if err := attributevalue.UnmarshalMap(referralItem(t, id), &r); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range r.Events {
		if e.Type == "emailed" {
			kinds = append(kinds, e.Detail)
		}
	}
	slices.Sort(kinds)
	return kinds
}

// waitEmailed waits until the notifier has recorded n emails for each referral.
func waitEmailed(t *testing.T, n int, within time.Duration, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, id := range ids {
		for len(emailed(t, id)) < n {
			if time.Now().After(deadline) {
				t.Fatalf("referral %s: emails recorded %v after %s, want %d", id, emailed(t, id), within, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// sesSubjects returns the subjects of the emails in the SES emulator that mention the referral.
func sesSubjects(t *testing.T, referralID string) []string {
	t.Helper()
	res, err := client.Get(sesURL + "/store")
	if err != nil {
		t.Fatalf("read SES store: %v", err)
	}
	defer res.Body.Close()
	var store struct {
		Emails []struct {
			Subject string `json:"subject"`
		} `json:"emails"`
	}
	if err := json.NewDecoder(res.Body).Decode(&store); err != nil {
		t.Fatalf("decode SES store: %v", err)
	}
	var out []string
	for _, e := range store.Emails {
		if strings.Contains(e.Subject, referralID) {
			out = append(out, e.Subject)
		}
	}
	return out
}

// caseloads returns specialist id → caseload for an area.
func caseloads(t *testing.T, area string) map[string]int {
	t.Helper()
	out, err := stack.DynamoDB().Query(context.Background(), &dynamodb.QueryInput{
		TableName:              aws.String(stack.TableName("DirectoryTable")),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :sk)"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":pk": &ddb.AttributeValueMemberS{Value: "AREA#" + area}, ":sk": &ddb.AttributeValueMemberS{Value: "SPECIALIST#"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("read caseloads of %s: %v", area, err)
	}
	var rows []struct {
		ID       string `dynamodbav:"specialistId"`
		Caseload int    `dynamodbav:"caseload"`
		Capacity int    `dynamodbav:"capacity"`
	}
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &rows); err != nil {
		t.Fatal(err)
	}
	loads := map[string]int{}
	for _, r := range rows {
		loads[r.ID] = r.Caseload
	}
	return loads
}
