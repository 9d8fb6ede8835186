package bench

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// figure is one line of the report: what was measured against its target.
type figure struct {
	Name     string
	Measured string
	Target   string // empty: reported without a target
	Met      bool
	// Why explains a miss from what was measured, and what would close it.
	Why string
}

func (f figure) result() string {
	switch {
	case f.Target == "":
		return "reported"
	case f.Met:
		return "pass"
	default:
		return "MISS"
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func units(u float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", u), "0"), ".")
}

// figures turns the measurements into the report's lines, each judged against its target, with
// the reasons for a miss worked out from what was measured.
func (r results) figures() []figure {
	var out []figure
	lat := r.Latency
	p50, p99 := ratio(lat.Intake.P50, lat.Put.P50), ratio(lat.Intake.P99, lat.Put.P99)
	store50, store99 := ratio(lat.Store.P50, lat.Put.P50), ratio(lat.Store.P99, lat.Put.P99)
	latencyWhy := func(q string, intake, put, store, path, transact time.Duration, target float64) string {
		storeSays := fmt.Sprintf("already %.1f× the PutItem on its own", ratio(store, put))
		if ratio(store, put) <= target {
			storeSays = fmt.Sprintf("%.1f× the PutItem on its own, within the target", ratio(store, put))
		}
		return fmt.Sprintf("A referral is not one PutItem: the intake writes a three-item TransactWriteItems (referral, "+
			"open case, caseload), routed from the area's caseloads as this process last read or wrote them (cached for "+
			"1.5 s; read again only when stale or when the choice would be to waitlist), so the common path is one round "+
			"trip. That work alone, run in-process against the same DynamoDB Local, takes %s at %s: %s. Of the other %s, "+
			"the local stack's path by itself takes %s (a hello world through the same local HTTP API and Runtime API, "+
			"sampled alongside: the request handed to another process through /next and back through /response, as "+
			"Lambda does), and the function's own work (validation, JSON, the keyed hash, building the transaction, its "+
			"log lines, a separate process's client) the remaining %s. A bare TransactWriteItems of the same shape (two "+
			"conditional puts of small items and an ADD, sampled alongside) takes %s here: %.1f× the PutItem before any of "+
			"the referral's content, so on this emulator the store alone leaves little or no room under the target. What "+
			"would close it: nothing left in the store's round trips (one transaction, no read on the common path); "+
			"DynamoDB Local runs a transaction as several writes under a lock.",
			ms(store), q, storeSays, ms(intake-store), ms(path), ms(max(intake-store-path, 0)), ms(transact), ratio(transact, put))
	}
	out = append(out,
		figure{Name: "Intake latency p50 (POST /referrals, warm, sequential)",
			Measured: fmt.Sprintf("%s = %.1f× bare PutItem (%s)", ms(lat.Intake.P50), p50, ms(lat.Put.P50)),
			Target:   "≤ 3×", Met: p50 <= 3, Why: latencyWhy("p50", lat.Intake.P50, lat.Put.P50, lat.Store.P50, lat.Path.P50, lat.Transact.P50, 3)},
		figure{Name: "Intake latency p99",
			Measured: fmt.Sprintf("%s = %.1f× bare PutItem (%s)", ms(lat.Intake.P99), p99, ms(lat.Put.P99)),
			Target:   "≤ 5×", Met: p99 <= 5, Why: latencyWhy("p99", lat.Intake.P99, lat.Put.P99, lat.Store.P99, lat.Path.P99, lat.Transact.P99, 5)},
		figure{Name: "The intake's DynamoDB work alone, in-process (transaction; Query only when the cache is stale)",
			Measured: fmt.Sprintf("p50 %s = %.1f×, p99 %s = %.1f× bare PutItem", ms(lat.Store.P50), store50, ms(lat.Store.P99), store99)},
		figure{Name: "The local stack's own path (a hello world through the same local HTTP API and Runtime API)",
			Measured: fmt.Sprintf("p50 %s, p99 %s", ms(lat.Path.P50), ms(lat.Path.P99))},
		figure{Name: "A bare three-item TransactWriteItems of small items (the intake's write without its content)",
			Measured: fmt.Sprintf("p50 %s = %.1f×, p99 %s = %.1f× bare PutItem", ms(lat.Transact.P50), ratio(lat.Transact.P50, lat.Put.P50),
				ms(lat.Transact.P99), ratio(lat.Transact.P99, lat.Put.P99))},
	)

	c := r.Capacity
	out = append(out, c.writeFigure())
	totalIncludesIndex := c.IntakeTotal.Write >= c.IntakeIndexes.Write-0.01
	out = append(out,
		figure{Name: "TOTAL vs INDEXES for the intake's writes",
			Measured: fmt.Sprintf("TOTAL %s, INDEXES %s WCU per intake (the store's own Consumed hook, asking TOTAL, saw %s): %s",
				units(c.IntakeTotal.Write), units(c.IntakeIndexes.Write), units(c.RecordHook),
				map[bool]string{true: "TOTAL already counts the Due index write; INDEXES only adds the breakdown",
					false: "TOTAL leaves out the index writes: ask for INDEXES"}[totalIncludesIndex])},
		figure{Name: "Read capacity per intake",
			Measured: fmt.Sprintf("%s RCU averaged over %d back-to-back referrals (the consistent Query of the area's specialists, "+
				"now made only when the 1.5 s cache is stale or a choice was refused; postcode prefixes are cached for minutes)",
				units(c.IntakeIndexes.Read), capacityReferrals)},
		figure{Name: "Notifications per referral (acknowledgement + assignment)",
			Measured: fmt.Sprintf("%s WCU, %s RCU (by table: writes %s; reads %s): each email is loaded, claimed (PutItem) and "+
				"confirmed (a two-item transaction), and the confirms' MODIFY stream record costs one more load",
				units(c.Notify.Write), units(c.Notify.Read), breakdown(c.Notify.ByWrite), breakdown(c.Notify.ByRead))},
	)

	out = append(out, r.Actions.figure())
	out = append(out, r.Sweep.figures()...)
	out = append(out, r.Revisit.figure())

	out = append(out, r.Report.figure())

	cold := r.Cold
	hello, intake := median(cold.Hello), median(cold.Intake)
	coldRatio := ratio(intake, hello)
	var tops, remedies, ownInits []string
	var unused bool
	var sdkNote string
	for _, p := range cold.IntakeTopInits {
		name := strings.TrimPrefix(p.Package, "github.com/ipspc/referrals/")
		name = strings.Replace(name, "github.com/aws/aws-sdk-go-v2/", "aws-sdk-go-v2/", 1)
		tops = append(tops, fmt.Sprintf("%s %s", name, ms(p.Clock)))
		switch {
		case name == "shared/render/email":
			unused = true
		case strings.HasPrefix(name, "shared/") && p.Clock >= 50*time.Microsecond: // below that, noise
			ownInits = append(ownInits, name)
		case name == "aws-sdk-go-v2/service/dynamodb/schemas":
			sdkNote = " (the SDK's DynamoDB schemas package builds its serialisation tables at init: a cost any DynamoDB " +
				"client of this SDK version pays)"
		}
	}
	if len(ownInits) > 0 {
		remedies = append(remedies, fmt.Sprintf("do %s's init work on first use, "+
			"behind a sync.Once, rather than at start-up", strings.Join(ownInits, "'s and ")))
	}
	if unused {
		remedies = append(remedies, "stop initialising code the intake never runs: shared/render/email (the email templates) "+
			"comes in through shared/adapters/dynamo's dependency on shared/edges/notify")
	}
	remedies = append(remedies, "link less (see the size below), since the rest of the difference is the binary's size; "+
		"the secrets are no longer part of it: the intake reads them when the first request needs them (startup.Deferred)")
	sizes := r.Sizes
	out = append(out, figure{Name: fmt.Sprintf("Cold start IntakeFunction (exec → first /next, median of %d)", coldRounds),
		Measured: fmt.Sprintf("%s vs hello world %s = %.2f×", ms(intake), ms(hello), coldRatio),
		Target:   "≤ 1.5×", Met: coldRatio <= 1.5,
		Why: fmt.Sprintf("Of the %s difference, package initialisation accounts for about %s (the intake's %s against the "+
			"hello world's %s: medians of %d starts with GODEBUG=inittrace=1); the costliest: %s%s. The rest is the runtime "+
			"mapping and faulting in a binary %.1f× the size. What would close it: %s.",
			ms(intake-hello), ms(cold.IntakeInit-cold.HelloInit), ms(cold.IntakeInit), ms(cold.HelloInit), traceRounds,
			strings.Join(tops, ", "), sdkNote, float64(sizes.IntakeHost)/float64(sizes.HelloHost), strings.Join(remedies, "; "))})

	if len(cold.IntakeFirst) > 0 {
		helloFirst, intakeFirst := median(cold.HelloFirst), median(cold.IntakeFirst)
		out = append(out, figure{Name: fmt.Sprintf("First response of a cold start (exec → the first request's answer, GET / with its secret read, median of %d)", coldRounds),
			Measured: fmt.Sprintf("intake %s vs hello world %s = %.2f× (what a user behind a cold start waits for: the intake "+
				"reads its two secrets when the first request that needs them arrives, startup.Deferred, so that round trip "+
				"is counted here, not in the cold start above)", ms(intakeFirst), ms(helloFirst), ratio(intakeFirst, helloFirst))})
	}
	sdk := sizes.StaticConfigArm64 - sizes.HelloArm64
	chain := sizes.DefaultConfigArm64 - sizes.StaticConfigArm64
	own := sizes.IntakeArm64 - sizes.StaticConfigArm64
	without := sizes.IntakeArm64 - sizes.Assets
	var biggest string
	var each []string
	for _, name := range slices.Sorted(maps.Keys(sizes.Functions)) {
		each = append(each, fmt.Sprintf("%s %s", name, mb(sizes.Functions[name])))
		if biggest == "" || sizes.Functions[name] > sizes.Functions[biggest] {
			biggest = name
		}
	}
	out = append(out,
		figure{Name: "Largest bootstrap, linux/arm64 as deployed (-s -w, lambda.norpc)",
			Measured: fmt.Sprintf("%s %s (%s)", biggest, mb(sizes.Functions[biggest]), strings.Join(each, ", ")),
			Target:   "every one ≤ 10 MB", Met: sizes.Functions[biggest] <= 10<<20,
			Why: "Three changes brought every function under 10 MB (docs/decisions.md): the SDK clients reach the adapters as " +
				"method-value bindings (dynamo.Bind, ses.Bind), so only the operations used are linked; Secrets Manager is one " +
				"signed call (secrets.Client), not the SDK client; and the pages and emails are written in plain Go, not " +
				"html/template, whose reflect MethodByName call made the linker keep every exported method of every type " +
				"converted to an interface (about 1.7 MB per function). The guards in make test: TestBootstrapSizeBudget (each " +
				"within 10% of its committed budget), TestSDKClientsBoundNotConverted (a client reaching an interface again) and " +
				"TestFunctionsDoNotLinkTemplates (a template package linked again)."},
		figure{Name: "Bootstrap size IntakeFunction, linux/arm64 as deployed",
			Measured: fmt.Sprintf("%s = %.1f× hello world (%s)", mb(sizes.IntakeArm64), float64(sizes.IntakeArm64)/float64(sizes.HelloArm64), mb(sizes.HelloArm64)),
			Target:   "≤ 10 MB", Met: sizes.IntakeArm64 <= 10<<20,
			Why: fmt.Sprintf("Over the hello world's %s: the DynamoDB client adds %s (a DynamoDB-only function with an aws.Config "+
				"built from Lambda's environment, as every function now builds it with shared/adapters/awsenv, is %s; "+
				"config.LoadDefaultConfig's credential chain would add %s more: %s); the intake's own code and the form's "+
				"embedded assets (%s) make the other %s. Its pages are written in plain Go, not html/template, whose reflection "+
				"(reflect's MethodByName) kept every exported method of every interface-converted type, about 1.9 MB "+
				"(docs/decisions.md, \"Pages without html/template\"). Serving the assets from S3 or CloudFront would save %s "+
				"more (%s left).",
				mb(sizes.HelloArm64), mb(sdk), mb(sizes.StaticConfigArm64), mb(chain), mb(sizes.DefaultConfigArm64),
				mb(sizes.Assets), mb(own), mb(sizes.Assets), mb(without))},
		figure{Name: "Bootstrap size, host build the local stack runs (not stripped)",
			Measured: fmt.Sprintf("%s = %.1f× hello world (%s)", mb(sizes.IntakeHost), float64(sizes.IntakeHost)/float64(sizes.HelloHost), mb(sizes.HelloHost))},
	)

	tp, crowd := r.Throughput, r.Crowd
	errs := tp.errorCount()
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(tp.Errors)) {
		kinds = append(kinds, fmt.Sprintf("%d × %s", tp.Errors[k], k))
	}
	errorText := "There were no errors"
	if errs > 0 {
		errorText = "Errors: " + strings.Join(kinds, ", ")
	}
	sequential := 1 / lat.Intake.P50.Seconds()
	cpus, _ := strconv.Atoi(r.Machine.CPUs)
	cpuSays := ""
	if per := tp.CPU.per(tp.OK).total(); per > 0 && cpus > 0 {
		ceiling := float64(cpus) / per.Seconds()
		cpuSays = fmt.Sprintf(" CPU time per referral was %s, so this machine's %d CPUs could take at most about %.0f/s "+
			"with nothing else on them; the run reached %.0f%% of that (the 1-minute load average was %.1f: other work shared the "+
			"CPUs).", tp.cpuText(), cpus, ceiling, 100*tp.Rate/ceiling, tp.Load)
	}
	out = append(out,
		figure{Name: fmt.Sprintf("Sustained referrals per second (%d clients, %s, local stack)", tp.Clients, tp.Duration.Round(100*time.Millisecond)),
			Measured: fmt.Sprintf("%.0f/s, %d accepted, %d errors", tp.Rate, tp.OK, errs),
			Target:   "≥ 200/s, no errors", Met: tp.Rate >= 200 && errs == 0,
			Why: fmt.Sprintf("%s. One client alone manages about %.0f/s (p50 %s); %d clients reach %.1f× that, so the limit "+
				"is this machine's CPUs, shared by DynamoDB Local (one JVM, doing the transaction of every referral), the "+
				"function processes, the local API and the load generator, not their waiting on each other.%s What would "+
				"close it: CPUs (on AWS, Lambda and DynamoDB scale out, and the HTTP API is throttled at 50/s steady and 100 "+
				"burst by template.yaml); here, less CPU per referral in DynamoDB Local, which is most of it.",
				errorText, sequential, ms(lat.Intake.P50), tp.Clients, tp.Rate/sequential, cpuSays)},
		figure{Name: fmt.Sprintf("Referrals per second with %d clients (more than the CPUs by far, %s)", crowd.Clients, crowd.Duration.Round(100*time.Millisecond)),
			Measured: fmt.Sprintf("%.0f/s, %d accepted, %d errors; CPU per referral %s", crowd.Rate, crowd.OK, crowd.errorCount(), crowd.cpuText())},
	)
	return out
}

func breakdown(by map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(by)) {
		parts = append(parts, fmt.Sprintf("%s %s", k, units(by[k])))
	}
	return strings.Join(parts, ", ")
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// table is the plain-text summary printed by make bench.
func table(figures []figure) string {
	var b strings.Builder
	w := 0
	for _, f := range figures {
		w = max(w, len([]rune(f.Name)))
	}
	for _, f := range figures {
		target := f.Target
		if target == "" {
			target = "—"
		}
		fmt.Fprintf(&b, "%-*s  %-8s  %-20s  %s\n", w, f.Name, f.result(), target, f.Measured)
	}
	return b.String()
}

// writeFigure is the intake's write capacity at AWS rates against issue 14's target, explained from
// the stored items' sizes and the referral's index entries as measured.
func (c capacityResult) writeFigure() figure {
	sz := c.Sizes
	tx := func(item string) float64 { return 2 * writeUnits(sz[item]) }
	largest := "referral"
	for _, k := range []string{"open case", "specialist"} {
		if sz[k] > sz[largest] {
			largest = k
		}
	}
	shrink := fmt.Sprintf("Every item is under 1 KB (the largest, the %s, is %d bytes), so this is the floor for a three-item transaction.", largest, sz[largest])
	if sz[largest] > 1024 {
		shrink = fmt.Sprintf("The %s is %d bytes, over 1 KB: keeping it under would save %s.", largest, sz[largest], units(tx(largest)-2))
	}
	var entries, others []string
	indexUnits := 0.0
	for _, name := range slices.Sorted(maps.Keys(c.IndexEntries)) {
		u := writeUnits(c.IndexEntries[name])
		indexUnits += u
		entries = append(entries, fmt.Sprintf("%s %s", name, units(u)))
		if name != "Due" {
			others = append(others, name)
		}
	}
	rest := fmt.Sprintf("It meets the target: the floor is the three items (%s) and the one Due entry.", units(c.ModelWrites-indexUnits))
	if c.ModelWrites > 7 {
		rest = fmt.Sprintf("What would close the rest: the referral's other index entries (%s), each 1 WCU on every intake; "+
			"without them it is %s.", strings.Join(others, ", "), units(c.ModelWrites-indexUnits+writeUnits(c.IndexEntries["Due"])))
	}
	return figure{
		Name: "Write capacity per intake (with Idempotency-Key)",
		Measured: fmt.Sprintf("%s WCU at AWS rates, index entries included; DynamoDB Local reports %s (by table: %s)",
			units(c.ModelWrites), units(c.IntakeIndexes.Write), breakdown(c.IntakeIndexes.ByWrite)),
		Target: "≤ 7 WCU", Met: c.ModelWrites <= 7,
		Why: fmt.Sprintf("Transactional writes cost 2 WCU per KB started, per item, and the intake's transaction writes three "+
			"items: the referral (%d bytes with its idempotency claim: %s WCU), the open case (%d B: %s) and the specialist's "+
			"caseload (%d B: %s); each index entry the referral makes adds 1 per KB at the standard rate: %s. The Due index "+
			"(per area, every open referral with a specialist, at its next deadline or 9999-12-31) serves both the reminders "+
			"sweep and the lead's worklist, so an assigned referral has one entry for them. %s "+
			"The idempotency key costs nothing extra: the referral's id is derived from it, so the referral's own "+
			"attribute_not_exists is the claim (issue 14's 9 counted four items and the Due entry; a separate claim item would "+
			"make this %s). %s (DynamoDB Local's own count, %s, charges each item of this transaction 4 units per KB, twice "+
			"AWS's rate.)",
			sz["referral"], units(tx("referral")), sz["open case"], units(tx("open case")), sz["specialist"], units(tx("specialist")),
			strings.Join(entries, ", "), shrink, units(c.ModelWrites+2), rest, units(c.IntakeIndexes.Write)),
	}
}

// figures are the sweep's lines: its cost per due referral, and its reads as stored referrals grow.
func (sw sweepResult) figures() []figure {
	perDue := per(sw.Small, sweepDue)
	sweepRatio := sw.Large.Read / sw.Small.Read
	return []figure{
		{Name: "Reminder sweep per due referral",
			Measured: fmt.Sprintf("%s RCU, %s WCU (its share of the directory's area list and of the Due index queries, the "+
				"load, and the reminder's claim and confirm)", units(perDue.Read), units(perDue.Write))},
		{Name: fmt.Sprintf("Sweep reads at %s vs %s stored referrals (%d due)", thousands(sweepLarge), thousands(sweepSmall), sweepDue),
			Measured: fmt.Sprintf("%s vs %s RCU = %.2f×", units(sw.Large.Read), units(sw.Small.Read), sweepRatio),
			Target:   "≤ 1.2×", Met: sweepRatio <= 1.2,
			Why: fmt.Sprintf("The sweep should read only the directory's areas, each area's Due entries up to its horizon and "+
				"those referrals; reads by table at %s stored: %s. A ratio above 1.2 means it reads something that grows with "+
				"all stored referrals (a Scan, or a Query not bounded by the horizon).", thousands(sweepLarge), breakdown(sw.Large.ByRead))},
	}
}

// issue14Targets are the rows of issue 14's targets table, each with the figure that measures it
// (by the start of its name) and the issue's "now".
var issue14Targets = []struct{ name, before, figure string }{
	{"intake latency p50 vs bare PutItem", "5.3×", "Intake latency p50"},
	{"intake latency p99 vs bare PutItem", "3.9×", "Intake latency p99"},
	{"WCU per intake at AWS rates, with an Idempotency-Key", "9", "Write capacity per intake"},
	{"cold start (exec → first /next) vs hello world", "2.9×", "Cold start IntakeFunction"},
	{"largest bootstrap, arm64 stripped", "16.7 MB (intake 14.4)", "Largest bootstrap"},
	{"throughput through the local stack, 0 errors", "144/s", "Sustained referrals per second"},
}

// markdown is docs/benchmarks.md.
func (r results) markdown(figures []figure) string {
	var b strings.Builder
	m := r.Machine
	commit := m.Commit
	if m.Dirty {
		commit += " (with uncommitted changes)"
	}
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Generated by `make bench` (infra/bench); do not edit by hand. Run it again after a change that could move a figure.\n\n")
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Commit | %s |\n| Date | %s |\n| Machine | %s CPUs, %s, %s |\n| Go | %s |\n| Took | %s |\n\n",
		commit, m.Date, m.CPUs, m.CPU, m.OS, m.Go, r.Took.Round(time.Second))
	fmt.Fprintf(&b, "Everything ran on this one machine: DynamoDB Local (in-memory), the real function binaries under the local "+
		"Lambda Runtime API (infra/localstack), and the load generator. Latencies and rates are this emulator's, not AWS's; "+
		"ratios to a bare PutItem against the same emulator are what carry over. Capacity units are as DynamoDB Local reports "+
		"them unless marked \"at AWS rates\" (computed from the stored items' sizes by DynamoDB's published rules).\n\n")
	fmt.Fprintf(&b, "## Figures\n\n| Figure | Measured | Target | Result |\n|---|---|---|---|\n")
	for _, f := range figures {
		target := f.Target
		if target == "" {
			target = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.Name, f.Measured, target, map[string]string{"pass": "pass", "MISS": "**miss**", "reported": "—"}[f.result()])
	}
	fmt.Fprintf(&b, "\n## Issue 14's targets\n\n| figure | issue 14 (before) | this run | target | met |\n|---|---|---|---|---|\n")
	for _, row := range issue14Targets {
		for _, f := range figures {
			if strings.HasPrefix(f.Name, row.figure) {
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row.name, row.before, f.Measured, f.Target,
					map[string]string{"pass": "yes", "MISS": "**no** (see below)", "reported": "—"}[f.result()])
			}
		}
	}
	var misses []figure
	for _, f := range figures {
		if f.result() == "MISS" {
			misses = append(misses, f)
		}
	}
	if len(misses) > 0 {
		fmt.Fprintf(&b, "\n## Misses: why, and what would close them\n\n")
		for _, f := range misses {
			fmt.Fprintf(&b, "**%s** (%s; target %s). %s\n\n", f.Name, f.Measured, f.Target, f.Why)
		}
	}
	fmt.Fprintf(&b, "\n## Method\n\n")
	fmt.Fprintf(&b, "- **Latency**: IntakeFunction alone under the local stack (no stream trigger), %d warm-up then %d samples, "+
		"sequential. Each sample is one JSON `POST /referrals` (a new patient, an Idempotency-Key) through the local HTTP API, "+
		"then one bare `PutItem` of a two-attribute item to the same DynamoDB Local, then the intake's store in-process "+
		"(`referral.Intake` over `dynamo.Referrals`: the transaction, and the Query when its cache is stale), then one "+
		"`POST /hello` to the hello world (infra/bench/testdata/hello.yaml) under its own local stack, the path without "+
		"the work, interleaved so drift hits all four alike. The referrals table's stream is switched off for these runs: "+
		"DynamoDB Local's streams slow every write more as records pile up, which AWS's do not, and the notifier that "+
		"reads it is measured in-process instead.\n", latencyWarmup, latencySamples)
	fmt.Fprintf(&b, "- **Throughput**: %d clients (issue 14's own measure, and enough to keep this machine's CPUs busy: "+
		"a referral's path is CPU in one process or another) posting back to back for %s into an area of eight specialists "+
		"with room for millions, then %d clients for as long, reported; a 2 s burst of %d clients first starts every worker "+
		"(concurrency %d). Any answer but 201 is an error. CPU time per referral is each process's user and system time "+
		"(/proc) over the timed run: this process (load generator, local HTTP API and Runtime API), the function processes and "+
		"DynamoDB Local's JVM. DynamoDB Local runs with the JIT's first tier only (-XX:TieredStopAtLevel=1, infra/localstack), which "+
		"costs it about a third less CPU per referral in its first minutes than the default (docs/decisions.md).\n",
		loadClients, loadFor, crowdClients, crowdClients, crowdClients)
	fmt.Fprintf(&b, "- **Capacity**: the stores in-process over a client that sets `ReturnConsumedCapacity` on every call (TOTAL, then "+
		"INDEXES), %d referrals each, averaged. Notifications: `notify.Notifier` with a mailer that discards, for each referral "+
		"the acknowledgement and assignment, plus one more pass (the confirms' MODIFY stream record).\n", capacityReferrals)
	fmt.Fprintf(&b, "- **Specialist actions**: %d referrals recorded by the intake's store for each life (contact, first "+
		"meeting, close; and contact, meeting, employer contact, job start, outcome, close), each action taken as ActionsFunction does (`referral.Progress.View` for the page, then `Record` for the "+
		"button, over `dynamo.Progress` and the waitlist drain) on the metered client (INDEXES), averaged; writes at AWS "+
		"rates from each item's size before and after the action (the larger; 2 units per KB in a transaction) and the "+
		"index entries whose keys changed (delete and put).\n", actionsReferrals)
	fmt.Fprintf(&b, "- **Sweep**: %s and %s copies of a stored referral written with parallel BatchWriteItem (%s took %s), "+
		"%d of them due for contact by the sweep's horizon and the rest 30 days or more later; one `notify.Sweep` run each, at %s.\n",
		thousands(sweepSmall), thousands(sweepLarge), thousands(sweepLarge), r.Sweep.SeedLarge.Round(time.Second), sweepDue, sweepNowRFC)
	fmt.Fprintf(&b, "- **Sweep re-visit**: %s stored referrals, %d of them due; the sweep run once (it reminds them), then "+
		"again half an hour later (nothing resent) on the metered client: the second run's units per due referral.\n",
		thousands(sweepSmall), sweepDue)
	fmt.Fprintf(&b, "- **Report**: the returns table holds %s facts a referral for %s referrals of one area spread over the 12 "+
		"months asked for, that area's month-end snapshot before them, and %s or %s other referrals' facts (a quarter in the "+
		"same area's earlier months, the rest in eleven other areas over 2024–2026; %s took %s to write); one `returns.Read` "+
		"of the area for %s to %s each.\n", fmt.Sprint(factsPerReferral), thousands(reportOwn), thousands(reportSmall),
		thousands(reportLarge), thousands(reportLarge), r.Report.SeedLarge.Round(time.Second), reportFrom, reportTo)
	fmt.Fprintf(&b, "- **Cold start**: a fresh local stack per sample, so each invocation is a new worker's first; Init Duration "+
		"is exec of the bootstrap to its first Runtime API `/next`. The hello world (infra/bench/testdata/hello) is built and run "+
		"the same way from its own template. Samples (ms): hello %s; intake %s.\n", durations(r.Cold.Hello), durations(r.Cold.Intake))
	fmt.Fprintf(&b, "- **Size**: `CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags \"-s -w\"` "+
		"(as `make sam-build`), and the host build the local stack makes (`-trimpath -tags lambda.norpc`).\n")
	return b.String()
}

func durations(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmt.Sprintf("%.1f", float64(d.Microseconds())/1000))
	}
	return strings.Join(s, ", ")
}
