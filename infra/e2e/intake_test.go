package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

func TestFormIsServed(t *testing.T) {
	requireStack(t)
	t.Parallel()
	res := do(t, http.MethodGet, "/", "", "", nil)
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", res.Status, res.Header.Get("Content-Type"))
	}
	for _, name := range []string{"patient.givenName", "patient.nhsNumber", "referrer.email", "healthConditions", "consent", "idempotencyToken", "website"} {
		if !strings.Contains(res.Body, `name="`+name+`"`) {
			t.Errorf("form lacks input %s", name)
		}
	}
	css := do(t, http.MethodGet, "/assets/nhsuk-frontend.min.css", "", "", nil)
	if css.Status != 200 || !strings.Contains(css.Body, ".nhsuk-") {
		t.Errorf("stylesheet = %d, %d bytes", css.Status, len(css.Body))
	}
}

// The acceptance check: S1 2HH goes to South Yorkshire with SPEC §6 deadlines.
func TestJSONReferralIsAccepted(t *testing.T) {
	requireStack(t)
	t.Parallel()
	res := postJSON(t, newPatient(t).submission("s1 2hh"), nil)
	if res.Status != http.StatusCreated {
		t.Fatalf("status = %d: %s", res.Status, res.Body)
	}
	var got receipt
	res.json(t, &got)
	if got.Area != "south-yorkshire" || got.Status != "assigned" || !regexp.MustCompile(`^R-[2-9A-HJKMNP-Z]{8}$`).MatchString(got.ReferralID) {
		t.Errorf("receipt = %+v", got)
	}
	if loc := res.Header.Get("Location"); loc != "/referrals/"+got.ReferralID {
		t.Errorf("Location = %q", loc)
	}
	received, err := time.Parse(time.RFC3339, got.ReceivedAt)
	if err != nil || time.Since(received) > time.Minute || received.Location() != time.UTC {
		t.Fatalf("receivedAt = %q (%v)", got.ReceivedAt, err)
	}
	contactBy, meetBy, err := referral.Deadlines(calendar.Embedded(), received, referral.DefaultPolicy())
	if err != nil || got.ContactBy != contactBy.String() || got.MeetBy != meetBy.String() {
		t.Errorf("deadlines = %s/%s, want %s/%s (%v)", got.ContactBy, got.MeetBy, contactBy, meetBy, err)
	}
}

func TestResponseTable(t *testing.T) {
	requireStack(t)
	t.Parallel()
	tests := []struct {
		name        string
		contentType string
		body        func(t *testing.T) string
		wantStatus  int
		wantFields  []string // JSON error fields, in order; nil to skip
	}{
		{name: "every required field missing", contentType: "application/json", body: func(*testing.T) string { return `{}` }, wantStatus: 400,
			wantFields: []string{"patient.givenName", "patient.familyName", "patient.dateOfBirth", "patient.nhsNumber", "patient.postcode", "patient.phone", "referrer.name", "referrer.practiceCode", "referrer.email", "employmentStatus", "consent"}},
		{name: "bad NHS number", contentType: "application/json", body: func(t *testing.T) string {
			return mustJSON(t, withField(newPatient(t).submission("ZE3 1AA"), "patient", "nhsNumber", "943 476 5918"))
		}, wantStatus: 400, wantFields: []string{"patient.nhsNumber"}},
		{name: "wrong type and a rule error together", contentType: "application/json", body: func(t *testing.T) string {
			s := newPatient(t).submission("ZE3 1AA")
			s["consent"] = "yes"
			return mustJSON(t, withField(s, "referrer", "email", "gp@gmail.com"))
		}, wantStatus: 400, wantFields: []string{"consent", "referrer.email"}},
		{name: "malformed JSON", contentType: "application/json", body: func(*testing.T) string { return `{"patient": {` }, wantStatus: 400, wantFields: []string{""}},
		{name: "not an object", contentType: "application/json", body: func(*testing.T) string { return `[1,2,3]` }, wantStatus: 400, wantFields: []string{""}},
		{name: "postcode outside every area", contentType: "application/json", body: func(t *testing.T) string { return mustJSON(t, newPatient(t).submission("EH1 1YZ")) },
			wantStatus: 422, wantFields: []string{"patient.postcode"}},
		{name: "body over 64 KiB", contentType: "application/json", body: func(t *testing.T) string {
			return mustJSON(t, withTop(newPatient(t).submission("ZE3 1AA"), "notes", strings.Repeat("x", 65<<10)))
		}, wantStatus: 413},
		{name: "plain text", contentType: "text/plain", body: func(*testing.T) string { return "hello" }, wantStatus: 415},
		{name: "no content type", contentType: "", body: func(*testing.T) string { return "{}" }, wantStatus: 415},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", body: func(*testing.T) string { return "--x--" }, wantStatus: 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := do(t, http.MethodPost, "/referrals", tt.contentType, tt.body(t), nil)
			if res.Status != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %.400s", res.Status, tt.wantStatus, res.Body)
			}
			var fe fieldErrors
			res.json(t, &fe)
			if len(fe.Errors) == 0 || fe.Errors[0].Message == "" {
				t.Errorf("no error message: %s", res.Body)
			}
			if tt.wantFields != nil && !slices.Equal(fe.fields(), tt.wantFields) {
				t.Errorf("fields = %q, want %q", fe.fields(), tt.wantFields)
			}
		})
	}
}

func TestOutOfAreaStoresNothing(t *testing.T) {
	requireStack(t)
	t.Parallel()
	p := newPatient(t)
	if res := postJSON(t, p.submission("EH1 1YZ"), nil); res.Status != 422 {
		t.Fatalf("status = %d", res.Status)
	}
	if n := itemsMentioning(t, p.NHS); n != 0 {
		t.Errorf("%d items stored for an out-of-area referral", n)
	}
	if !strings.Contains(logs.String(), `"PostcodeArea":"EH"`) {
		t.Error("no OutOfAreaReferrals metric by postcode area in the function output")
	}
	if strings.Contains(logs.String(), `"EH1"`) {
		t.Error("the postcode district reached the function output")
	}
}

func TestIdempotency(t *testing.T) {
	requireStack(t)
	t.Parallel()
	p := newPatient(t)
	key := map[string]string{"Idempotency-Key": "e2e-" + randomHex(t, 8)}
	first := postJSON(t, p.submission("ZE3 1AA"), key)
	if first.Status != 201 {
		t.Fatalf("first = %d %s", first.Status, first.Body)
	}
	again := postJSON(t, p.submission("ze3 1aa"), key) // the same referral, typed differently
	if again.Status != 201 || again.Body != first.Body {
		t.Errorf("replay = %d %s, want the original %s", again.Status, again.Body, first.Body)
	}
	other := newPatient(t)
	if res := postJSON(t, other.submission("ZE3 1AA"), key); res.Status != http.StatusConflict {
		t.Errorf("same key, another body = %d %s, want 409", res.Status, res.Body)
	}
	if n := itemsMentioning(t, p.NHS); n != 2 { // the referral and its open case
		t.Errorf("%d items for the patient after a replay, want 2 (one referral, one open case)", n)
	}
	if n := itemsMentioning(t, other.NHS); n != 0 {
		t.Errorf("the conflicting referral stored %d items", n)
	}
	var r receipt
	first.json(t, &r)
	got := waitForEmails(t, r.ReferralID, 2, 20*time.Second)
	if len(got) != 2 {
		t.Errorf("emails after a replay = %q, want one acknowledgement and one assignment", subjects(got))
	}
}

// TestFormTokenMustBeIssued: a form post with no token, a made-up one or one signed elsewhere gets
// the form again (400, values kept, a fresh token) and stores nothing (SPEC §4).
func TestFormTokenMustBeIssued(t *testing.T) {
	requireStack(t)
	t.Parallel()
	for _, token := range []string{"", "anything", "AgAAAABnZ2dnbm9uY2UAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		p := newPatient(t)
		res := do(t, http.MethodPost, "/referrals", "application/x-www-form-urlencoded", p.form("ZE3 1AA", token).Encode(), nil)
		if res.Status != 400 || !strings.Contains(res.Body, "send the form again") || !strings.Contains(res.Body, `value="`+p.FamilyName+`"`) {
			t.Errorf("token %q: status %d: %.300s", token, res.Status, res.Body)
		}
		if !regexp.MustCompile(`name="idempotencyToken" value="[^"]{40,}"`).MatchString(res.Body) {
			t.Errorf("token %q: no fresh signed token in the form again", token)
		}
		// The post was answered synchronously: anything it wrote is already in the table.
		if n := itemsMentioning(t, p.NHS); n != 0 {
			t.Errorf("token %q: %d items stored", token, n)
		}
	}
}

// formToken loads the form as a browser would and returns the hidden token the service issued.
func formToken(t *testing.T) string {
	t.Helper()
	res := do(t, http.MethodGet, "/", "", "", nil)
	m := regexp.MustCompile(`name="idempotencyToken" value="([^"]+)"`).FindStringSubmatch(res.Body)
	if res.Status != 200 || m == nil {
		t.Fatalf("GET / = %d without a form token", res.Status)
	}
	return m[1]
}

func TestFormSubmission(t *testing.T) {
	requireStack(t)
	t.Parallel()
	p := newPatient(t)
	token := formToken(t)

	// Errors: the form comes back with a summary, the values kept and a fresh token.
	bad := p.form("ZE3 1AA", token)
	bad.Set("patient.nhsNumber", "123")
	bad.Del("consent")
	res := do(t, http.MethodPost, "/referrals", "application/x-www-form-urlencoded", bad.Encode(), nil)
	if res.Status != 400 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("invalid form = %d %s", res.Status, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{"There is a problem", `href="#patient-nhsNumber"`, `href="#consent"`, `value="` + p.FamilyName + `"`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("error page lacks %q", want)
		}
	}
	if strings.Contains(res.Body, `value="`+token+`"`) || !strings.Contains(res.Body, `name="idempotencyToken"`) {
		t.Error("error page must carry a fresh token, not the one posted")
	}

	// Accepted: a confirmation page; posting the same form again (a double click) replays it.
	good := p.form("ZE3 1AA", token).Encode()
	res = do(t, http.MethodPost, "/referrals", "application/x-www-form-urlencoded", good, nil)
	ref := regexp.MustCompile(`R-[2-9A-HJKMNP-Z]{8}`).FindString(res.Body)
	if res.Status != 201 || ref == "" || !strings.Contains(res.Body, "E2E General") {
		t.Fatalf("form accepted = %d, reference %q: %.300s", res.Status, ref, res.Body)
	}
	if res.Header.Get("Location") != "/referrals/"+ref || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers = %v", res.Header)
	}
	again := do(t, http.MethodPost, "/referrals", "application/x-www-form-urlencoded", good, nil)
	if again.Status != 201 || !strings.Contains(again.Body, ref) {
		t.Errorf("double submit = %d, want the same reference %s", again.Status, ref)
	}
	if n := itemsMentioning(t, p.NHS); n != 2 {
		t.Errorf("%d items after a double submit, want 2", n)
	}
}

func TestNoServerErrorForJunk(t *testing.T) {
	requireStack(t)
	t.Parallel()
	junk := []struct{ contentType, body string }{
		{"application/json", ""},
		{"application/json", "null"},
		{"application/json", `"string"`},
		{"application/json", strings.Repeat("[", 10000)},
		{"application/json", `{"patient": {"givenName": 1e999}}`},
		{"application/json", `{"patient": null, "referrer": [], "healthConditions": {"a": 1}, "consent": 1}`},
		{"application/json", "{\"patient\": {\"givenName\": \"\xff\xfe\"}}"},
		{"application/json; charset=utf-16", `{}`},
		{"application/x-www-form-urlencoded", "%zz=%%%&patient.givenName=%00"},
		{"application/x-www-form-urlencoded", strings.Repeat("a=b&", 5000)},
		{"application/json", `{"patient": {"givenName": "a\u0000b", "nhsNumber": "９４３４７６５９１９"}}`},
	}
	for _, j := range junk {
		res := do(t, http.MethodPost, "/referrals", j.contentType, j.body, nil)
		if res.Status >= 500 || res.Status < 400 {
			t.Errorf("%s %.40q = %d, want a 4xx", j.contentType, j.body, res.Status)
		}
	}
	for _, path := range []string{"/referrals/../../etc/passwd", "/assets/%2e%2e/web.go", "/nope", "/referrals/R-0000"} {
		if res := do(t, http.MethodGet, path, "", "", nil); res.Status >= 500 {
			t.Errorf("GET %s = %d", path, res.Status)
		}
	}
}

// 100 simultaneous referrals into an area whose total capacity is 10 (SPEC §5).
func TestConcurrentReferralsNeverExceedCapacity(t *testing.T) {
	requireStack(t)
	t.Parallel()
	const n = 100
	statuses := make([]int, n)
	receipts := make([]receipt, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res := postJSON(t, newPatient(t).submission("ZE1 1AA"), nil)
			statuses[i] = res.Status
			if res.Status == 201 {
				res.json(t, &receipts[i])
			}
		})
	}
	wg.Wait()
	count := map[string]int{}
	for i := range n {
		if statuses[i] != 201 {
			t.Errorf("referral %d: status %d", i, statuses[i])
		}
		count[receipts[i].Status]++
	}
	if count["assigned"] != 10 || count["waitlisted"] != 90 {
		t.Errorf("assigned %d, waitlisted %d; want 10 and 90", count["assigned"], count["waitlisted"])
	}
	for id, want := range map[string]int{"cap-four": 4, "cap-six": 6} {
		if got := caseload(t, "e2e-capacity", id); got != want {
			t.Errorf("caseload of %s = %d, want %d (full, never over)", id, got, want)
		}
	}
}

func caseload(t *testing.T, area, specialist string) int {
	t.Helper()
	out, err := stack.DynamoDB().GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(stack.TableName("DirectoryTable")), ConsistentRead: aws.Bool(true),
		Key: map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "AREA#" + area}, "sk": &ddb.AttributeValueMemberS{Value: "SPECIALIST#" + specialist}},
	})
	if err != nil || out.Item == nil {
		t.Fatalf("read %s: %v", specialist, err)
	}
	n, ok := out.Item["caseload"].(*ddb.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%s has no caseload", specialist)
	}
	v := 0
	for _, c := range n.Value {
		v = v*10 + int(c-'0')
	}
	return v
}

// itemsMentioning counts items in the referrals table whose text mentions s (a scan: tests only).
func itemsMentioning(t *testing.T, s string) int {
	t.Helper()
	count := 0
	p := dynamodb.NewScanPaginator(stack.DynamoDB(), &dynamodb.ScanInput{TableName: aws.String(stack.TableName("ReferralsTable")), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			if strings.Contains(flatten(item), s) {
				count++
			}
		}
	}
	return count
}

func flatten(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]ddb.AttributeValue:
			for _, e := range x {
				walk(e)
			}
		case *ddb.AttributeValueMemberM:
			walk(x.Value)
		case *ddb.AttributeValueMemberL:
			for _, e := range x.Value {
				walk(e)
			}
		case *ddb.AttributeValueMemberS:
			b.WriteString(x.Value + "\n")
		}
	}
	walk(v)
	return b.String()
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func withField(s map[string]any, group, field string, v any) map[string]any {
	s[group].(map[string]any)[field] = v
	return s
}

func withTop(s map[string]any, field string, v any) map[string]any {
	s[field] = v
	return s
}

// TestAmbiguousInputRejected: through the local gateway (which base64-encodes what is not UTF-8
// text, as the real one does), bytes that are not UTF-8, a lone surrogate escape, a duplicated key
// and an invisible character in a name are each a 400, and nothing is stored (SPEC §4).
func TestAmbiguousInputRejected(t *testing.T) {
	requireStack(t)
	t.Parallel()
	tests := []struct {
		name, contentType string
		body              func(p patient) string
		want              string
	}{
		{"json raw byte", "application/json", func(p patient) string {
			return strings.Replace(string(mustJSON(t, p.submission("ZE3 1AA"))), p.GivenName, "S\xffam", 1)
		}, `"field":""`},
		{"json lone surrogate", "application/json", func(p patient) string {
			return strings.Replace(string(mustJSON(t, p.submission("ZE3 1AA"))), p.GivenName, `S\ud800am`, 1)
		}, "surrogate"},
		{"json duplicate key", "application/json", func(p patient) string {
			return strings.Replace(string(mustJSON(t, p.submission("ZE3 1AA"))), `"consent":true`, `"consent":true,"consent":true`, 1)
		}, "consent twice"},
		{"json zero-width space in a name", "application/json", func(p patient) string {
			return strings.Replace(string(mustJSON(t, p.submission("ZE3 1AA"))), p.GivenName, "Sa\u200bm", 1)
		}, `"field":"patient.givenName"`},
		{"form escaped byte", "application/x-www-form-urlencoded", func(p patient) string {
			v := p.form("ZE3 1AA", formToken(t))
			v.Set("patient.givenName", "S\xffam")
			return v.Encode()
		}, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPatient(t)
			res := do(t, http.MethodPost, "/referrals", tt.contentType, tt.body(p), map[string]string{"Idempotency-Key": "hyg-" + randomHex(t, 8)})
			if res.Status != 400 || !strings.Contains(res.Body, tt.want) {
				t.Errorf("status %d, want 400 mentioning %q: %.300s", res.Status, tt.want, res.Body)
			}
			if n := itemsMentioning(t, p.NHS); n != 0 {
				t.Errorf("%d items stored", n)
			}
		})
	}
}
