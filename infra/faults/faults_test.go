package faults

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/infra/localstack"
	"github.com/ipspc/referrals/shared/domain/referral"
)

// maxUnavailable bounds how long a referral may take to be refused: the intake's 8 s budget plus
// a margin, and under the function's 10 s timeout (past it the client would get a 502 instead).
const maxUnavailable = 9500 * time.Millisecond

// The proxy speaks DynamoDB: through it the SDK sees a throttling error it knows, a refused
// connection or no answer, and afterwards the real thing again.
func TestProxyFaultsAreWhatTheSDKSees(t *testing.T) {
	requireStack(t)
	db := dynamodb.NewFromConfig(localstack.LocalAWSConfig(""), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(ddbProxy.URL())
		o.RetryMaxAttempts = 1 // the SDK's own retries are measured through the intake below
	})
	list := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
		return err
	}
	write := func() error {
		_, err := db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{{
			ConditionCheck: &ddb.ConditionCheck{TableName: aws.String(stack.TableName("ReferralsTable")), ConditionExpression: aws.String("attribute_not_exists(pk)"),
				Key: map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "nothing"}, "sk": &ddb.AttributeValueMemberS{Value: "here"}}},
		}}})
		return err
	}
	if err := errors.Join(list(), write()); err != nil {
		t.Fatalf("passing through: %v", err)
	}
	setMode(t, throttle)
	if err := list(); err == nil || !strings.Contains(err.Error(), "ThrottlingException: Rate exceeded") {
		t.Errorf("throttled: err = %v, want a ThrottlingException", err)
	}
	setMode(t, throttleWrites)
	var exceeded *ddb.ProvisionedThroughputExceededException
	if err := write(); !errors.As(err, &exceeded) {
		t.Errorf("throttled writes: transaction err = %v, want a ProvisionedThroughputExceededException", err)
	}
	if err := list(); err != nil {
		t.Errorf("throttled writes: reads fail too: %v", err)
	}
	setMode(t, hang)
	if err := list(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging: err = %v, want the caller's deadline", err)
	}
	setMode(t, refuse)
	if err := list(); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("refusing: err = %v, want connection refused", err)
	}
	setMode(t, pass)
	if err := errors.Join(list(), write()); err != nil {
		t.Errorf("after the faults: %v", err)
	}
}

// SPEC §4: with DynamoDB unreachable a referral is answered 503 with Retry-After, promptly, and
// nothing of it is stored; the same request with the same key then succeeds, exactly once.
func TestDynamoDBUnavailable(t *testing.T) {
	requireStack(t)
	referDuringFault(t, refuse)
}

// A DynamoDB that takes calls and never answers: the intake's budget turns it into a 503 before
// the function's timeout would turn it into a 502.
func TestDynamoDBHangs(t *testing.T) {
	requireStack(t)
	referDuringFault(t, hang)
}

// The same when DynamoDB throttles every call: the SDK retries throttling by itself, and the
// intake must still answer within its budget.
func TestDynamoDBThrottled(t *testing.T) {
	requireStack(t)
	referDuringFault(t, throttle)
}

// Throttled transactions (a hot caseload item) are retried by the referrals store as well as by
// the SDK: the budget must still end them with a 503.
func TestDynamoDBThrottlesWrites(t *testing.T) {
	requireStack(t)
	referDuringFault(t, throttleWrites)
}

func referDuringFault(t *testing.T, m mode) {
	const postcode = "ZE4 1AA"
	// A warm worker with the directory cached, as in steady use; its emails are recorded before
	// the snapshot, so the notifier has nothing in flight.
	warm := mustPost(t, newPatient(t).body(t, postcode), "")
	if warm.Status != http.StatusCreated {
		t.Fatalf("warm-up: %d %s", warm.Status, warm.Body)
	}
	waitEmailed(t, 2, 20*time.Second, warm.receipt(t).ReferralID)
	before := takeSnapshot(t)
	loadsBefore := caseloads(t, "faults-outage")

	// Three referrals at once: the first finds the warm worker, the others start cold ones.
	patients := []patient{newPatient(t), newPatient(t), newPatient(t)}
	key := "faults-" + randomHex(t, 8)
	results := make([]response, len(patients))
	errs := make([]error, len(patients))
	faultedBefore := ddbProxy.Faulted()
	setMode(t, m)
	var wg sync.WaitGroup
	for i, p := range patients {
		wg.Go(func() {
			if i > 0 {
				time.Sleep(20 * time.Millisecond) // after the first has taken the warm worker
			}
			results[i], errs[i] = post(p.body(t, postcode), map[bool]string{true: key}[i == 0])
		})
	}
	wg.Wait()
	setMode(t, pass)
	var timings []string
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("POST during %s: %v", m, errs[i])
		}
		timings = append(timings, fmt.Sprintf("%d in %s", res.Status, res.Elapsed.Round(time.Millisecond)))
		if res.Status != http.StatusServiceUnavailable {
			t.Errorf("referral %d: status = %d, want 503: %.300s", i, res.Status, res.Body)
		}
		if res.Header.Get("Retry-After") == "" {
			t.Errorf("referral %d: no Retry-After", i)
		}
		if res.Elapsed > maxUnavailable {
			t.Errorf("referral %d: answered after %s, want within %s", i, res.Elapsed, maxUnavailable)
		}
		if strings.Contains(res.Body, "Throughput") || strings.Contains(res.Body, "Throttling") || strings.Contains(res.Body, "refused") {
			t.Errorf("the cause leaked to the client: %s", res.Body)
		}
	}
	t.Logf("DynamoDB %s: POST /referrals answered %s (warm worker first; Retry-After %q; %d DynamoDB calls throttled or held)",
		m, strings.Join(timings, ", "), results[0].Header.Get("Retry-After"), ddbProxy.Faulted()-faultedBefore)
	for _, p := range patients {
		if refs, n := referralsOf(t, p.NHS); n != 0 {
			t.Errorf("%d items about a refused patient were stored: %+v", n, refs)
		}
	}
	if d := before.diff(takeSnapshot(t)); len(d) > 0 {
		t.Errorf("the refused referrals changed the tables:\n%s", strings.Join(d, "\n"))
	}

	// DynamoDB is back: the client's retry with the same key goes through once.
	body := patients[0].body(t, postcode)
	again := mustPost(t, body, key)
	if again.Status != http.StatusCreated {
		t.Fatalf("retry after %s: %d %s", m, again.Status, again.Body)
	}
	first := again.receipt(t)
	replay := mustPost(t, body, key)
	if replay.Status != http.StatusCreated || replay.receipt(t).ReferralID != first.ReferralID {
		t.Errorf("replay = %d %s, want 201 with %s", replay.Status, replay.Body, first.ReferralID)
	}
	refs, n := referralsOf(t, patients[0].NHS)
	if len(refs) != 1 || n != 2 || refs[0].ReferralID != first.ReferralID {
		t.Errorf("stored %d referrals (%d items) for the patient, want 1 (and its open case): %+v", len(refs), n, refs)
	}
	loadsAfter := caseloads(t, "faults-outage")
	added := 0
	for id, load := range loadsAfter {
		added += load - loadsBefore[id]
	}
	if added != 1 {
		t.Errorf("caseloads went from %v to %v, want one more in all", loadsBefore, loadsAfter)
	}
	waitEmailed(t, 2, 20*time.Second, first.ReferralID)
	if got := emailed(t, first.ReferralID); !slices.Equal(got, []string{"acknowledgement", "assignment"}) {
		t.Errorf("emails recorded = %v", got)
	}
}

func setMode(t *testing.T, m mode) {
	t.Helper()
	if err := ddbProxy.Set(m); err != nil {
		t.Fatal(err)
	}
}

// SPEC §8: a stream record the notifier can never handle is retried a bounded number of times
// and then goes to the failure queue, while the records around it in its batch are delivered.
// The poison is a referral whose specialist is not in the directory, so its assignment email
// fails every time; its neighbours are sound copies of a real referral.
func TestPoisonedStreamRecordGoesToTheFailureQueue(t *testing.T) {
	requireStack(t)
	res := mustPost(t, newPatient(t).body(t, "ZE5 1AA"), "")
	if res.Status != http.StatusCreated {
		t.Fatalf("template referral: %d %s", res.Status, res.Body)
	}
	template := referralItem(t, res.receipt(t).ReferralID)
	// Its history as stored by the intake (received, assigned), whatever the notifier has added.
	if history, ok := template["events"].(*ddb.AttributeValueMemberL); ok && len(history.Value) > 2 {
		template["events"] = &ddb.AttributeValueMemberL{Value: history.Value[:2]}
	}

	const n = 7
	poisonAt := n / 2
	ids := make([]string, n)
	var puts []ddb.TransactWriteItem
	for i := range n {
		ids[i] = referral.NewID()
		item := maps.Clone(template)
		item["pk"] = &ddb.AttributeValueMemberS{Value: "REFERRAL#" + ids[i]}
		item["referralId"] = &ddb.AttributeValueMemberS{Value: ids[i]}
		if i == poisonAt {
			item["specialistId"] = &ddb.AttributeValueMemberS{Value: "no-such-specialist"}
		}
		puts = append(puts, ddb.TransactWriteItem{Put: &ddb.Put{TableName: aws.String(stack.TableName("ReferralsTable")), Item: item}})
	}
	// One transaction, so the records reach the stream together and share a batch.
	if _, err := stack.DynamoDB().TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: puts}); err != nil {
		t.Fatal(err)
	}
	poison := ids[poisonAt]
	good := slices.Delete(slices.Clone(ids), poisonAt, poisonAt+1)

	start := time.Now()
	waitEmailed(t, 2, 30*time.Second, good...)
	var queued []discarded
	for time.Since(start) < 30*time.Second {
		if queued = discardedFor(poison); len(queued) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("poisoned batch: %d sound referrals emailed, poisoned record queued after %s", len(good), time.Since(start).Round(time.Millisecond))
	if len(queued) != 1 {
		t.Fatalf("the poisoned record %s reached the failure queue %d times, want once; queue: %+v", poison, len(queued), failures.all())
	}
	if queued[0].Function != "NotifierFunction" || queued[0].Record.EventName != "INSERT" {
		t.Errorf("queued = %s %s, want NotifierFunction's INSERT", queued[0].Function, queued[0].Record.EventName)
	}
	for _, id := range good {
		if got := emailed(t, id); !slices.Equal(got, []string{"acknowledgement", "assignment"}) {
			t.Errorf("sound referral %s: emails %v, want acknowledgement and assignment", id, got)
		}
		if len(discardedFor(id)) > 0 {
			t.Errorf("sound referral %s went to the failure queue", id)
		}
	}
	// Its acknowledgement could go; the assignment never did.
	if got := emailed(t, poison); !slices.Equal(got, []string{"acknowledgement"}) {
		t.Errorf("poisoned referral: emails %v, want the acknowledgement only", got)
	}
	if got := sesSubjects(t, poison); len(got) != 1 || !strings.HasSuffix(got[0], " received") {
		t.Errorf("emails sent about the poisoned referral: %q, want its acknowledgement only", got)
	}
}

func discardedFor(referralID string) []discarded {
	var out []discarded
	for _, d := range failures.all() {
		if d.Record.Change.Keys["pk"].String() == "REFERRAL#"+referralID {
			out = append(out, d)
		}
	}
	return out
}

// SPEC §5: 200 simultaneous referrals into an area with room for 15 fill it exactly, never past
// a specialist's capacity, and nobody gets a 5xx.
func TestCrowdNeverExceedsCapacity(t *testing.T) {
	requireStack(t)
	const n = 200
	bodies := make([][]byte, n)
	for i := range n {
		bodies[i] = newPatient(t).body(t, "ZE6 1AA")
	}
	results := make([]response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() { results[i], errs[i] = post(bodies[i], "") })
	}
	wg.Wait()
	elapsed := time.Since(start)

	statuses := map[int]int{}
	outcomes := map[string]int{}
	var slowest time.Duration
	for i, res := range results {
		if errs[i] != nil {
			t.Errorf("referral %d: %v", i, errs[i])
			continue
		}
		statuses[res.Status]++
		slowest = max(slowest, res.Elapsed)
		if res.Status == http.StatusCreated {
			outcomes[res.receipt(t).Status]++
		}
	}
	t.Logf("%d simultaneous referrals in %s (slowest %s): statuses %v, outcomes %v",
		n, elapsed.Round(time.Millisecond), slowest.Round(time.Millisecond), statuses, outcomes)
	if statuses[http.StatusCreated] != n {
		t.Errorf("statuses = %v, want %d × 201", statuses, n)
	}
	if outcomes["assigned"] != 15 || outcomes["waitlisted"] != n-15 {
		t.Errorf("assigned %d, waitlisted %d; want 15 and %d", outcomes["assigned"], outcomes["waitlisted"], n-15)
	}
	loads := caseloads(t, "faults-crowd")
	if loads["crowd-seven"] != 7 || loads["crowd-eight"] != 8 {
		t.Errorf("caseloads = %v, want crowd-seven 7 and crowd-eight 8 (full, never over)", loads)
	}
	// The caseloads count what is stored, too.
	assigned := map[string]int{}
	for _, item := range scan(t, stack.TableName("ReferralsTable")) {
		if s, ok := item["area"].(*ddb.AttributeValueMemberS); ok && s.Value == "faults-crowd" {
			if sk := item["sk"].(*ddb.AttributeValueMemberS).Value; sk == "#REFERRAL" {
				if sp, ok := item["specialistId"].(*ddb.AttributeValueMemberS); ok {
					assigned[sp.Value]++
				}
			}
		}
	}
	if !maps.Equal(assigned, loads) {
		t.Errorf("stored assignments %v differ from caseloads %v", assigned, loads)
	}
}
