// Command directory manages the IPSPC directory in the DynamoDB DirectoryTable: imports the area and
// people files of infra/directory, lists areas and specialists, and adds, updates, activates and
// deactivates specialists and sets their capacity.
//
//	directory [-table NAME] [-referrals-table NAME] <command> [arguments]
//
// The table is -table or DIRECTORY_TABLE. A change that frees capacity (a new or reactivated
// specialist, a raised capacity, an import) then assigns waitlisted referrals, oldest first, when
// the referrals table is known (-referrals-table or REFERRALS_TABLE). AWS settings come from the SDK's usual sources
// (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_DYNAMODB…), so the same command works against DynamoDB
// Local and a real account. See infra/directory/README.md.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/bounce"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

const usage = `Usage: directory [-table NAME] [-referrals-table NAME] <command> [arguments]

Manages the IPSPC directory (areas, postcode prefixes, specialists) in the DynamoDB DirectoryTable.
The table is -table NAME, or the DIRECTORY_TABLE environment variable. After a change that frees
capacity, waitlisted referrals are assigned (oldest first, with fresh deadlines) when the referrals
table is known: -referrals-table NAME or REFERRALS_TABLE. AWS settings come from the
environment as usual: AWS_REGION, AWS_PROFILE, and AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local.

Commands:
  import FILE...
        import directory files in order, e.g. infra/directory/areas.json then a people file;
        caseloads are kept
  list
        areas with their lead and prefix count, and specialists with caseload/capacity and status;
        addresses SES reported as bouncing or complained about are marked EMAIL FAILING
  specialist add -area AREA -id ID -name NAME -email EMAIL [-capacity 20]
        add an active specialist to an area
  specialist update -id ID [-name NAME] [-email EMAIL] [-capacity N]
        change a specialist's details; the caseload is kept
  specialist deactivate -id ID
        give a specialist no new referrals (their current referrals stay with them)
  specialist activate -id ID
        give a specialist new referrals again
  capacity -id ID N
        set a specialist's capacity (caseload limit; the IPS fidelity limit is 20)
  clear-failing (-id SPECIALIST | -area AREA)
        remove the EMAIL FAILING mark from a specialist's or lead's address once it works again
  drain
        assign waitlisted referrals in every area where a specialist has capacity
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(report(err, os.Stderr))
}

// report prints err and returns the exit code: 0 on success, 2 for a usage error, 1 otherwise.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "directory: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "\n%s", ue.usage)
		return 2
	}
	return 1
}

// usageError is a mistake in the command line; its usage is printed with it.
type usageError struct {
	err   error
	usage string
}

func (e *usageError) Error() string { return e.err.Error() }

func usagef(usage, format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...), usage: usage}
}

// action is a parsed command, ready to run against the directory.
type action func(ctx context.Context, d *dynamo.Directory, stdout, stderr io.Writer) error

// run parses args (without the program name), then connects to the table and runs the command.
// A -h anywhere prints the relevant usage to stdout and returns nil.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("directory")
	table := fs.String("table", os.Getenv("DIRECTORY_TABLE"), "")
	referralsTable := fs.String("referrals-table", os.Getenv("REFERRALS_TABLE"), "")
	if err := fs.Parse(args); err != nil {
		if err := flagError(err, usage, stdout); !errors.Is(err, flag.ErrHelp) {
			return err
		}
		return nil
	}
	if fs.NArg() == 0 {
		return usagef(usage, "no command given")
	}
	cmd, cmdArgs := fs.Arg(0), fs.Args()[1:]
	var act action
	var err error
	switch cmd {
	case "import":
		act, err = parseImport(cmdArgs, stdout)
	case "list":
		act, err = parseList(cmdArgs, stdout)
	case "specialist":
		act, err = parseSpecialist(cmdArgs, stdout)
	case "capacity":
		act, err = parseCapacity(cmdArgs, stdout)
	case "clear-failing":
		act, err = parseClearFailing(cmdArgs, stdout)
	case "drain":
		if len(cmdArgs) > 0 {
			return usagef(usage, "drain takes no arguments")
		}
		act = func(context.Context, *dynamo.Directory, io.Writer, io.Writer) error { return nil }
		if *referralsTable == "" {
			return usagef(usage, "drain: no referrals table: give -referrals-table NAME or set REFERRALS_TABLE")
		}
	case "help":
		_, err = io.WriteString(stdout, usage)
		return err
	default:
		return usagef(usage, "unknown command %q", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if *table == "" {
		return usagef(usage, "no table: give -table NAME or set DIRECTORY_TABLE")
	}
	client, err := connect(ctx)
	if err != nil {
		return err
	}
	if err := act(ctx, dynamo.NewDirectory(client, *table), stdout, stderr); err != nil {
		return err
	}
	if !freesCapacity(cmd, cmdArgs) {
		return nil
	}
	if *referralsTable == "" {
		_, err := fmt.Fprintln(stderr, "Capacity may have freed: run `directory -referrals-table NAME drain` to assign waitlisted referrals.")
		return err
	}
	return drain(ctx, client, *table, *referralsTable, stdout)
}

// freesCapacity reports whether a command can give a specialist room for more referrals.
func freesCapacity(cmd string, args []string) bool {
	switch cmd {
	case "import", "capacity", "drain":
		return true
	case "specialist":
		return len(args) > 0 && (args[0] == "add" || args[0] == "update" || args[0] == "activate")
	}
	return false
}

// drain assigns waitlisted referrals, oldest first, in every area that has any (SPEC §5). The
// assignment emails follow from the referrals table's stream, as for any assignment.
func drain(ctx context.Context, client *dynamodb.Client, directoryTable, referralsTable string, stdout io.Writer) error {
	waiting, err := dynamo.NewDue(client, dynamo.Tables{Referrals: referralsTable, Directory: directoryTable}).WaitlistCounts(ctx)
	if err != nil {
		return err
	}
	policy := referral.DefaultPolicy()
	for name, days := range map[string]*int{"CONTACT_WORKING_DAYS": &policy.ContactWorkingDays, "MEETING_WORKING_DAYS": &policy.MeetingWorkingDays} {
		if v := os.Getenv(name); v != "" { // the deployment's settings, when they differ from SPEC's defaults
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("%s must be a whole number of days, not %q", name, v)
			}
			*days = n
		}
	}
	w := &referral.Waitlist{
		Store:    dynamo.NewReferrals(client, dynamo.Tables{Referrals: referralsTable, Directory: directoryTable}),
		Calendar: calendar.Embedded(), Policy: policy, Now: time.Now,
	}
	for _, area := range slices.Sorted(maps.Keys(waiting)) {
		assigned, err := w.Drain(ctx, area)
		if _, perr := fmt.Fprintf(stdout, "%s: %d of %d waitlisted referrals assigned\n", area, len(assigned), waiting[area]); perr != nil {
			return perr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// connect loads the AWS configuration: this is the only place the command does.
func connect(ctx context.Context) (*dynamodb.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION (the service runs in eu-west-2)")
	}
	return dynamodb.NewFromConfig(cfg), nil
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by report
	return fs
}

// flagError turns a flag parsing error into a usage error, or prints the usage for -h.
func flagError(err error, usage string, stdout io.Writer) error {
	if errors.Is(err, flag.ErrHelp) {
		if _, werr := io.WriteString(stdout, usage); werr != nil {
			return werr
		}
		return flag.ErrHelp
	}
	return &usageError{err: err, usage: usage}
}

const importUsage = "Usage: directory import FILE...\n"

func parseImport(args []string, stdout io.Writer) (action, error) {
	fs := newFlagSet("import")
	if err := fs.Parse(args); err != nil {
		return nil, flagError(err, importUsage, stdout)
	}
	if fs.NArg() == 0 {
		return nil, usagef(importUsage, "import: no files given")
	}
	var files []directory.File
	for _, name := range fs.Args() {
		f, err := readFile(name)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	merged := directory.Merge(files...)
	if err := merged.Validate(); err != nil {
		return nil, fmt.Errorf("the files together are not a valid directory:\n%w", err)
	}
	return func(ctx context.Context, d *dynamo.Directory, stdout, stderr io.Writer) error {
		if err := d.Import(ctx, merged); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "imported %d areas, %d postcode prefixes and %d specialists from %s\n",
			len(merged.Areas), len(merged.Prefixes()), len(merged.Specialists), strings.Join(fs.Args(), ", ")); err != nil {
			return err
		}
		return warnGaps(ctx, d, stderr)
	}, nil
}

// warnGaps warns about areas that cannot work yet: no lead to email, or no active specialist with
// capacity (every referral there would be waitlisted).
func warnGaps(ctx context.Context, d *dynamo.Directory, stderr io.Writer) error {
	areas, err := d.Areas(ctx)
	if err != nil {
		return err
	}
	for _, a := range areas {
		if a.Lead == (directory.Person{}) {
			fmt.Fprintf(stderr, "warning: area %s has no lead: waitlist and overdue emails have nobody to go to\n", a.ID)
		}
		specialists, err := d.Specialists(ctx, a.ID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(specialists, func(s directory.Specialist) bool { return s.Active && s.Capacity > 0 }) {
			fmt.Fprintf(stderr, "warning: area %s has no active specialist with capacity: its referrals will be waitlisted\n", a.ID)
		}
	}
	return nil
}

func readFile(name string) (directory.File, error) {
	r, err := os.Open(name)
	if err != nil {
		return directory.File{}, err
	}
	defer r.Close()
	f, err := directory.Parse(r)
	if err != nil {
		return directory.File{}, fmt.Errorf("%s:\n%w", name, err)
	}
	return f, nil
}

func parseList(args []string, stdout io.Writer) (action, error) {
	const listUsage = "Usage: directory list\n"
	fs := newFlagSet("list")
	if err := fs.Parse(args); err != nil {
		return nil, flagError(err, listUsage, stdout)
	}
	if fs.NArg() > 0 {
		return nil, usagef(listUsage, "list: unexpected argument %q", fs.Arg(0))
	}
	return list, nil
}

func list(ctx context.Context, d *dynamo.Directory, stdout, _ io.Writer) error {
	areas, err := d.Areas(ctx)
	if err != nil {
		return err
	}
	// Addresses SES reported as bouncing or complained about (the BounceFunction marks them).
	failing, err := d.FailingEmails(ctx)
	if err != nil {
		return err
	}
	failingNote := map[bounce.Holder]string{}
	for _, f := range failing {
		failingNote[f.Holder] = fmt.Sprintf("\tEMAIL FAILING: %s since %s", f.Reason, f.Since.Format(time.DateOnly))
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	var total, active int
	for _, a := range areas {
		specialists, err := d.Specialists(ctx, a.ID)
		if err != nil {
			return err
		}
		lead := "none"
		if a.Lead != (directory.Person{}) {
			lead = fmt.Sprintf("%s <%s>", a.Lead.Name, a.Lead.Email)
		}
		fmt.Fprintf(w, "area %s: %s\n", a.ID, a.Name)
		fmt.Fprintf(w, "  local authorities: %s\n", strings.Join(a.LocalAuthorities, ", "))
		fmt.Fprintf(w, "  lead: %s%s\n", lead, failingNote[bounce.Holder{AreaID: a.ID}])
		fmt.Fprintf(w, "  prefixes: %d\n", len(a.Postcodes))
		if len(specialists) == 0 {
			fmt.Fprintf(w, "  specialists: none (referrals here are waitlisted)\n")
		}
		for _, s := range specialists {
			total++
			if s.Active {
				active++
			}
			fmt.Fprintf(w, "  specialist\t%s%s\n", specialistLine(s), failingNote[bounce.Holder{AreaID: a.ID, SpecialistID: s.ID}])
		}
	}
	fmt.Fprintf(w, "%d areas, %d specialists (%d active)\n", len(areas), total, active)
	if len(failing) > 0 {
		fmt.Fprintf(w, "%d email addresses failing: correct them (docs/operations.md, \"Email bounces\")\n", len(failing))
	}
	return w.Flush()
}

func specialistLine(s directory.Specialist) string {
	status := "active"
	if !s.Active {
		status = "inactive"
	}
	return fmt.Sprintf("%s\t%s <%s>\tcaseload %d/%d\t%s", s.ID, s.Name, s.Email, s.Caseload, s.Capacity, status)
}

const (
	specialistUsage = `Usage:
  directory specialist add -area AREA -id ID -name NAME -email EMAIL [-capacity 20]
  directory specialist update -id ID [-name NAME] [-email EMAIL] [-capacity N]
  directory specialist deactivate -id ID
  directory specialist activate -id ID
`
	capacityUsage = "Usage: directory capacity -id ID N\n"
)

func parseSpecialist(args []string, stdout io.Writer) (action, error) {
	if len(args) == 0 {
		return nil, usagef(specialistUsage, "specialist: no subcommand given")
	}
	sub := args[0]
	fs := newFlagSet("specialist " + sub)
	id := fs.String("id", "", "")
	var area, name, email *string
	var capacity *int
	switch sub {
	case "add":
		area = fs.String("area", "", "")
		name, email = fs.String("name", "", ""), fs.String("email", "", "")
		capacity = fs.Int("capacity", directory.DefaultCapacity, "")
	case "update":
		name, email = fs.String("name", "", ""), fs.String("email", "", "")
		capacity = fs.Int("capacity", 0, "")
	case "activate", "deactivate":
	case "-h", "-help", "--help":
		return nil, flagError(flag.ErrHelp, specialistUsage, stdout)
	default:
		return nil, usagef(specialistUsage, "specialist: unknown subcommand %q", sub)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return nil, flagError(err, specialistUsage, stdout)
	}
	if fs.NArg() > 0 {
		return nil, usagef(specialistUsage, "specialist %s: unexpected argument %q", sub, fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var missing []string
	for _, f := range []string{"area", "id", "name", "email"} {
		if fs.Lookup(f) != nil && (sub == "add" || f == "id") && !given[f] {
			missing = append(missing, "-"+f)
		}
	}
	if len(missing) > 0 {
		return nil, usagef(specialistUsage, "specialist %s: %s required", sub, strings.Join(missing, ", "))
	}
	if capacity != nil && *capacity < 0 {
		return nil, usagef(specialistUsage, "specialist %s: -capacity must be 0 or more", sub)
	}

	switch sub {
	case "add":
		s := directory.Specialist{ID: *id, AreaID: *area, Name: *name, Email: *email, Capacity: *capacity, Active: true}
		return func(ctx context.Context, d *dynamo.Directory, stdout, stderr io.Writer) error {
			if existing, err := d.FindSpecialist(ctx, s.ID); err == nil {
				return fmt.Errorf("specialist %q already exists in area %q: use specialist update", s.ID, existing.AreaID)
			}
			if err := d.PutSpecialist(ctx, s); err != nil {
				return err
			}
			return show(ctx, d, stdout, s.ID, "added")
		}, nil
	case "update":
		if !given["name"] && !given["email"] && !given["capacity"] {
			return nil, usagef(specialistUsage, "specialist update: nothing to change: give -name, -email or -capacity")
		}
		return func(ctx context.Context, d *dynamo.Directory, stdout, stderr io.Writer) error {
			s, err := d.FindSpecialist(ctx, *id)
			if err != nil {
				return err
			}
			if given["name"] {
				s.Name = *name
			}
			if given["email"] {
				s.Email = *email
			}
			if given["capacity"] {
				s.Capacity = *capacity
			}
			if err := d.PutSpecialist(ctx, s); err != nil {
				return err
			}
			return show(ctx, d, stdout, s.ID, "updated")
		}, nil
	default:
		active := sub == "activate"
		return func(ctx context.Context, d *dynamo.Directory, stdout, stderr io.Writer) error {
			s, err := d.FindSpecialist(ctx, *id)
			if err != nil {
				return err
			}
			if err := d.SetActive(ctx, s.AreaID, s.ID, active); err != nil {
				return err
			}
			return show(ctx, d, stdout, s.ID, sub+"d")
		}, nil
	}
}

func parseCapacity(args []string, stdout io.Writer) (action, error) {
	fs := newFlagSet("capacity")
	id := fs.String("id", "", "")
	if err := fs.Parse(args); err != nil {
		return nil, flagError(err, capacityUsage, stdout)
	}
	if *id == "" {
		return nil, usagef(capacityUsage, "capacity: -id required")
	}
	if fs.NArg() != 1 {
		return nil, usagef(capacityUsage, "capacity: give the new capacity N after -id ID")
	}
	n, err := strconv.Atoi(fs.Arg(0))
	if err != nil || n < 0 {
		return nil, usagef(capacityUsage, "capacity: %q is not a whole number, 0 or more", fs.Arg(0))
	}
	return func(ctx context.Context, d *dynamo.Directory, stdout, stderr io.Writer) error {
		s, err := d.FindSpecialist(ctx, *id)
		if err != nil {
			return err
		}
		if err := d.SetCapacity(ctx, s.AreaID, s.ID, n); err != nil {
			return err
		}
		return show(ctx, d, stdout, s.ID, "capacity set")
	}, nil
}

// show prints a specialist as stored, after a change.
func show(ctx context.Context, d *dynamo.Directory, stdout io.Writer, id, what string) error {
	s, err := d.FindSpecialist(ctx, id)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "%s: %s\tin %s\n", what, specialistLine(s), s.AreaID)
	if err := w.Flush(); err != nil {
		return err
	}
	_, err = stdout.Write(b.Bytes())
	return err
}
