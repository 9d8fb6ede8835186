package bench

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/infra/localstack"
	"github.com/ipspc/referrals/infra/seed"
	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// actionsReferrals is how many referrals each life's figures average over.
const actionsReferrals = 20

// actionLives are the specialist's actions in two lives, each action a page view then a button:
// the usual one (SPEC §4's contact, meeting and close), and one that starts a job (SPEC §9's
// outcomes between the meeting and the close).
var actionLives = []actionLife{
	{Name: "usual", Actions: []referral.Action{referral.ActionContact, referral.ActionMeeting, referral.ActionClose}},
	{Name: "job", Actions: []referral.Action{referral.ActionContact, referral.ActionMeeting, referral.ActionEmployerContact,
		referral.ActionJobStart, referral.ActionOutcome, referral.ActionClose}},
}

type actionLife struct {
	Name    string
	Actions []referral.Action
}

// actionsResult is what a specialist's actions cost, per referral, through the real progress store
// (and, after a close, the real waitlist drain), as ActionsFunction wires them: one per life.
type actionsResult struct {
	Lives []lifeResult
}

type lifeResult struct {
	actionLife
	// View is one page view (GET): the referral's consistent read, as DynamoDB Local reports it.
	View reading
	// Local is each action's button (POST) as DynamoDB Local reports it: the re-read, the write and,
	// after a close, the drain.
	Local map[referral.Action]reading
	// AWS is each action's writes at AWS's rates, from the items' sizes before and after.
	AWS map[referral.Action]actionWrites
}

// actionWrites is one action's write units at AWS's rates, and what they are made of.
type actionWrites struct {
	Transactional bool
	Items         map[string]int     // item → bytes billed: the larger of before and after (a deleted item: its size)
	Index         map[string]float64 // index → units: 1 per KB for an entry put or deleted, 2 when its key changes
	Units         float64
}

// TestBenchActions is the specialist's actions alone (the report's actions figure): each life's
// actions through dynamo.Progress and referral.Progress against DynamoDB Local.
func TestBenchActions(t *testing.T) {
	a := measureActions(t, benchRoot(t))
	f := a.figure()
	fmt.Print(table([]figure{f}))
	fmt.Printf("\n%s\n", f.Why)
	// The shape the cost model relies on: every action but the close one plain write of the
	// referral, the close one transaction of the referral, the open case and the caseload.
	for _, life := range a.Lives {
		for _, act := range life.Actions {
			w := life.AWS[act]
			if w.Transactional != (act == referral.ActionClose) {
				t.Errorf("%s life, %s: transactional = %v", life.Name, act, w.Transactional)
			}
			if w.Units <= 0 || life.Local[act].Write <= 0 {
				t.Errorf("%s life, %s: no writes measured: %+v, local %+v", life.Name, act, w, life.Local[act])
			}
		}
		if n := len(life.AWS[referral.ActionClose].Items); n != 3 {
			t.Errorf("%s life: close wrote %d items, want 3 (referral, open case, caseload): %v", life.Name, n, life.AWS[referral.ActionClose].Items)
		}
	}
}

// measureActions records referrals with the intake's store (not metered), then for each life
// takes a specialist through its actions over a metered client: each action a page view
// (Progress.View) and its button (Progress.Record), as ActionsFunction does.
func measureActions(t *testing.T, root string) actionsResult {
	t.Helper()
	ctx := context.Background()
	db, tables := benchTables(t, root)
	if err := seed.Directory(ctx, db, tables["DirectoryTable"], filepath.Join("testdata", "directory.json")); err != nil {
		t.Fatal(err)
	}
	storeTables := dynamo.Tables{Referrals: tables["ReferralsTable"], Directory: tables["DirectoryTable"]}
	in := &referral.Intake{Areas: fixedArea(benchArea), Store: dynamo.NewReferrals(db, storeTables), Keys: benchKeys,
		Calendar: calendar.Embedded(), Policy: referral.DefaultPolicy(), Now: time.Now, NewID: referral.NewID}

	m := newMeter(tables)
	mdb := &meteredDB{db: db, m: m, mode: ddb.ReturnConsumedCapacityIndexes}
	waitlist := &referral.Waitlist{Store: dynamo.NewReferrals(mdb, storeTables), Calendar: calendar.Embedded(),
		Policy: referral.DefaultPolicy(), Now: time.Now}
	progress := &referral.Progress{Store: dynamo.NewProgress(mdb, storeTables), Now: time.Now,
		Drain: referral.DrainFunc(func(ctx context.Context, area string) error {
			_, err := waitlist.Drain(ctx, area)
			return err
		})}
	gsis := referralIndexes(t, root)
	today := time.Now().UTC().Format("2006-01-02")

	var out actionsResult
	for l, life := range actionLives {
		r := lifeResult{actionLife: life, Local: map[referral.Action]reading{}, AWS: map[referral.Action]actionWrites{}}
		var views []reading
		local := map[referral.Action][]reading{}
		for i := range actionsReferrals {
			sub, err := in.Submit(ctx, referral.Request{Submission: submissionFor(3_300_000 + 1_000*l + i), Via: "api", IdempotencyKey: randomKey()})
			if err != nil {
				t.Fatalf("record: %v", err)
			}
			id := sub.Receipt.ReferralID
			for _, act := range life.Actions {
				before := actionItems(t, db, tables, id)
				specialist := before["referral"]["specialistId"].(*ddb.AttributeValueMemberS).Value
				m.take()
				if _, err := progress.View(ctx, id, specialist); err != nil {
					t.Fatalf("view %s before %s: %v", id, act, err)
				}
				views = append(views, m.take())
				rec, err := progress.Record(ctx, referral.ActionRequest{ReferralID: id, SpecialistID: specialist, Action: act,
					Reason: referral.CloseReasons[0], Date: today, StartDate: today, HoursPerWeek: "30", SelfEmployed: "no", Sustained: "yes"})
				if err != nil || rec.AlreadyRecorded || rec.DrainErr != nil {
					t.Fatalf("%s life, %s on %s: %v (already recorded %v, drain %v)", life.Name, act, id, err, rec.AlreadyRecorded, rec.DrainErr)
				}
				local[act] = append(local[act], m.take())
				w := writesAtAWSRates(gsis, before, actionItems(t, db, tables, id), act == referral.ActionClose)
				if prev, ok := r.AWS[act]; ok && prev.Units != w.Units {
					t.Logf("%s on %s: %s WCU at AWS rates, the first referral's was %s", act, id, units(w.Units), units(prev.Units))
				}
				r.AWS[act] = w
			}
		}
		r.View = mean(views)
		for act, rs := range local {
			r.Local[act] = mean(rs)
		}
		t.Logf("actions, %s life: %+v", life.Name, r)
		out.Lives = append(out.Lives, r)
	}
	return out
}

// actionItems are the items an action may write, as stored now (nil: not there): the referral, the
// patient's open case in its area, and the caseload of the specialist the referral names.
func actionItems(t *testing.T, db *dynamodb.Client, tables map[string]string, id string) map[string]map[string]ddb.AttributeValue {
	t.Helper()
	ref := getItem(t, db, tables["ReferralsTable"], "REFERRAL#"+id, "#REFERRAL")
	s := func(name string) string {
		v, _ := ref[name].(*ddb.AttributeValueMemberS)
		if v == nil {
			t.Fatalf("referral %s has no %s", id, name)
		}
		return v.Value
	}
	area := s("area")
	return map[string]map[string]ddb.AttributeValue{
		"referral":   ref,
		"open case":  findItem(t, db, tables["ReferralsTable"], "OPEN#"+area+"#"+s("patientKey"), "#OPEN"),
		"specialist": findItem(t, db, tables["DirectoryTable"], "AREA#"+area, "SPECIALIST#"+s("specialistId")),
	}
}

// findItem is getItem for an item that may be gone: nil then.
func findItem(t *testing.T, db *dynamodb.Client, table, pk, sk string) map[string]ddb.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: pk}, "sk": &ddb.AttributeValueMemberS{Value: sk}}})
	if err != nil {
		t.Fatalf("get %s %s from %s: %v", pk, sk, table, err)
	}
	return out.Item
}

// referralIndexes are the key attributes of each of the referrals table's indexes in template.yaml
// (pk and sk, which every KEYS_ONLY entry carries, then the index's own).
func referralIndexes(t *testing.T, root string) map[string][]string {
	t.Helper()
	tmpl, err := localstack.LoadTemplate(filepath.Join(root, "template.yaml"), localstack.TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, gsi := range tmpl.Table("ReferralsTable").Input.GlobalSecondaryIndexes {
		if gsi.Projection == nil || gsi.Projection.ProjectionType != ddb.ProjectionTypeKeysOnly {
			t.Fatalf("index %s is not KEYS_ONLY: the write model below assumes it", aws.ToString(gsi.IndexName))
		}
		keys := []string{"pk", "sk"}
		for _, k := range gsi.KeySchema {
			keys = append(keys, aws.ToString(k.AttributeName))
		}
		out[aws.ToString(gsi.IndexName)] = keys
	}
	return out
}

// writesAtAWSRates is what changing before into after costs by DynamoDB's published rules: each
// item written costs 1 unit per KB started of the larger of its two versions (a deleted item: its
// size), twice that in a transaction; each index entry put or deleted 1 per KB, and 2 (a delete
// and a put) when its key changes; an entry whose keys did not change costs nothing, as every
// index projects keys only.
func writesAtAWSRates(gsis map[string][]string, before, after map[string]map[string]ddb.AttributeValue, transactional bool) actionWrites {
	w := actionWrites{Transactional: transactional, Items: map[string]int{}, Index: map[string]float64{}}
	rate := 1.0
	if transactional {
		rate = 2
	}
	for name, old := range before {
		now := after[name]
		if reflect.DeepEqual(old, now) {
			continue
		}
		w.Items[name] = max(itemSize(old), itemSize(now))
		w.Units += rate * writeUnits(w.Items[name])
	}
	ref, now := before["referral"], after["referral"]
	for index, keys := range gsis {
		was, is := keysOnly(ref, keys...), keysOnly(now, keys...)
		had, has := len(was) == len(keys), len(is) == len(keys)
		var u float64
		switch {
		case had && has && !reflect.DeepEqual(was, is):
			u = writeUnits(itemSize(was)) + writeUnits(itemSize(is))
		case had && !has:
			u = writeUnits(itemSize(was))
		case has && !had:
			u = writeUnits(itemSize(is))
		}
		if u > 0 {
			w.Index[index] = u
			w.Units += u
		}
	}
	return w
}

func mean(rs []reading) reading {
	var sum reading
	sum.ByRead, sum.ByWrite = map[string]float64{}, map[string]float64{}
	for _, r := range rs {
		sum.Read += r.Read
		sum.Write += r.Write
		for k, v := range r.ByRead {
			sum.ByRead[k] += v
		}
		for k, v := range r.ByWrite {
			sum.ByWrite[k] += v
		}
	}
	return per(sum, len(rs))
}

// totals are a life's actions together: writes at AWS rates, and reads (a page view and a button
// each) as DynamoDB Local reports them.
func (l lifeResult) totals() (writes, reads float64) {
	for _, act := range l.Actions {
		writes += l.AWS[act].Units
		reads += l.View.Read + l.Local[act].Read
	}
	return writes, reads
}

// figure is the report's line for the specialist's actions.
func (a actionsResult) figure() figure {
	var measured, why []string
	for _, l := range a.Lives {
		writes, reads := l.totals()
		var parts, local []string
		for _, act := range l.Actions {
			w := l.AWS[act]
			var items []string
			for _, name := range slices.Sorted(maps.Keys(w.Items)) {
				rate := 1.0
				if w.Transactional {
					rate = 2
				}
				items = append(items, fmt.Sprintf("%s %d B: %s", name, w.Items[name], units(rate*writeUnits(w.Items[name]))))
			}
			for _, index := range slices.Sorted(maps.Keys(w.Index)) {
				items = append(items, fmt.Sprintf("%s entry %s", index, units(w.Index[index])))
			}
			kind := "one UpdateItem"
			if w.Transactional {
				kind = "one TransactWriteItems"
			}
			parts = append(parts, fmt.Sprintf("%s %s WCU (%s: %s)", act, units(w.Units), kind, strings.Join(items, ", ")))
			local = append(local, fmt.Sprintf("%s %s WCU, %s RCU", act, units(l.Local[act].Write), units(l.Local[act].Read)))
		}
		measured = append(measured, fmt.Sprintf("%s life (%d actions): %s WCU at AWS rates, %s RCU (DynamoDB Local: %s; each page view %s RCU)",
			l.Name, len(l.Actions), units(writes), units(reads), strings.Join(local, "; "), units(l.View.Read)))
		why = append(why, fmt.Sprintf("%s life: %s", l.Name, strings.Join(parts, "; ")))
	}
	return figure{
		Name:     "Specialist actions per referral (a page view and a button each)",
		Measured: strings.Join(measured, ". "),
		Why: fmt.Sprintf("At AWS rates, from the items' sizes before and after each action: %s. Reads are DynamoDB Local's "+
			"count: each page view and each button reads the referral (consistent), a close also the open case, and its "+
			"drain queries the area's waitlist (empty here: DynamoDB Local counts 0 for it, AWS up to 0.5 RCU more). "+
			"DynamoDB Local's own write count charges a transaction's items twice AWS's rate.", strings.Join(why, ". ")),
	}
}

// TestWritesAtAWSRates checks the write model the actions figure rests on against DynamoDB's
// published rules (no emulator needed).
func TestWritesAtAWSRates(t *testing.T) {
	s := func(v string) ddb.AttributeValue { return &ddb.AttributeValueMemberS{Value: v} }
	ref := func(notes int, due string) map[string]ddb.AttributeValue {
		item := map[string]ddb.AttributeValue{"pk": s("REFERRAL#R-1"), "sk": s("#REFERRAL"), "notes": s(strings.Repeat("x", notes))}
		if due != "" {
			item["dueShard"], item["dueAt"] = s("area"), s(due)
		}
		return item
	}
	open := map[string]ddb.AttributeValue{"pk": s("OPEN#a#k"), "sk": s("#OPEN")}
	gsis := map[string][]string{"Due": {"pk", "sk", "dueShard", "dueAt"}}
	tests := []struct {
		name          string
		before, after map[string]map[string]ddb.AttributeValue
		transactional bool
		want          float64
	}{
		{"small update, same due entry", map[string]map[string]ddb.AttributeValue{"referral": ref(10, "2026-12-07")},
			map[string]map[string]ddb.AttributeValue{"referral": ref(20, "2026-12-07")}, false, 1},
		{"the larger version counts", map[string]map[string]ddb.AttributeValue{"referral": ref(1500, "2026-12-07")},
			map[string]map[string]ddb.AttributeValue{"referral": ref(10, "2026-12-07")}, false, 2},
		{"due key changes: delete and put", map[string]map[string]ddb.AttributeValue{"referral": ref(10, "2026-12-07")},
			map[string]map[string]ddb.AttributeValue{"referral": ref(20, "2026-12-21")}, false, 3},
		{"transaction: double, a delete costs its size, an index entry removed 1",
			map[string]map[string]ddb.AttributeValue{"referral": ref(10, "2026-12-07"), "open case": open},
			map[string]map[string]ddb.AttributeValue{"referral": ref(20, ""), "open case": nil}, true, 2 + 2 + 1},
		{"nothing changed costs nothing here", map[string]map[string]ddb.AttributeValue{"referral": ref(10, "")},
			map[string]map[string]ddb.AttributeValue{"referral": ref(10, "")}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := writesAtAWSRates(gsis, tt.before, tt.after, tt.transactional); got.Units != tt.want {
				t.Errorf("units = %v, want %v (%+v)", got.Units, tt.want, got)
			}
		})
	}
}
