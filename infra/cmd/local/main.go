// Command local runs the whole service on this machine without Docker: DynamoDB Local, the SES
// emulator, and every function of template.yaml as its real bootstrap behind a local HTTP API
// (like sam local start-api) and Lambda Invoke API (like sam local start-lambda).
//
//	go run ./infra/cmd/local                         # make local
//	go run ./infra/cmd/local -dbPath .local/dynamodb # keep data between runs
//	go run ./infra/cmd/local -emulators-only -- go test ./...  # make test
//
// Ports come from HTTP_PORT (or API_PORT), LAMBDA_PORT, DYNAMODB_PORT and SES_PORT (defaults 3000,
// 3001, 8000, 8005). AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SESV2 set in the environment are
// passed to the functions instead of the emulators' (a real SES sandbox, a fault-injecting proxy);
// the emulators start all the same.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	seeddata "github.com/ipspc/referrals/infra/seed"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/infra/localstack"
)

const host = "127.0.0.1"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags and environment.
type options struct {
	dbPath          string
	emulatorsOnly   bool
	template        string
	paramsFile      string
	params          paramFlag
	envVarsFile     string
	scheduleSpeedup float64
	noTriggers      bool
	command         []string

	httpPort, lambdaPort, dynamoPort, sesPort int
}

// paramFlag collects repeated -param Name=Value flags.
type paramFlag map[string]string

func (p paramFlag) String() string { return fmt.Sprint(map[string]string(p)) }

func (p paramFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want Name=Value, got %q", s)
	}
	p[k] = v
	return nil
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{params: paramFlag{}}
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dbPath, "dbPath", "", "keep DynamoDB Local's data in `DIR` instead of in memory")
	fs.BoolVar(&o.emulatorsOnly, "emulators-only", false, "start only DynamoDB Local and SES, run the command after --, then stop them")
	fs.StringVar(&o.template, "template", "", "SAM template (default: template.yaml at the module root)")
	fs.StringVar(&o.paramsFile, "params", "", "JSON `FILE` of template parameter overrides ({\"MinAge\": \"16\"})")
	fs.Var(o.params, "param", "template parameter override `Name=Value` (repeatable; wins over -params)")
	fs.StringVar(&o.envVarsFile, "env-vars", "", "sam local --env-vars style JSON `FILE`: {\"Parameters\": {...}, \"IntakeFunction\": {...}}")
	fs.Float64Var(&o.scheduleSpeedup, "schedule-speedup", 1, "fire rate() schedules this many times faster")
	fs.BoolVar(&o.noTriggers, "no-triggers", false, "do not poll streams or fire schedules")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: local [flags]\n       local -emulators-only [flags] -- COMMAND [ARGS...]\n\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nports: HTTP_PORT or API_PORT (3000), LAMBDA_PORT (3001), DYNAMODB_PORT (8000), SES_PORT (8005)\n")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.command = fs.Args()
	if o.emulatorsOnly && len(o.command) == 0 {
		return nil, errors.New("-emulators-only needs a command after --")
	}
	if !o.emulatorsOnly && len(o.command) > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (did you mean -emulators-only -- ...?)", o.command)
	}
	var err error
	ports := []struct {
		dst  *int
		envs []string
		def  int
	}{
		{&o.httpPort, []string{"HTTP_PORT", "API_PORT"}, 3000},
		{&o.lambdaPort, []string{"LAMBDA_PORT"}, 3001},
		{&o.dynamoPort, []string{"DYNAMODB_PORT"}, 8000},
		{&o.sesPort, []string{"SES_PORT"}, 8005},
	}
	for _, p := range ports {
		if *p.dst, err = portFromEnv(p.def, p.envs...); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// freePort asks the kernel for a free loopback port. The emulators bind it a moment later; another
// process taking it in between would make their start fail loudly, not silently.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func portFromEnv(def int, names ...string) (int, error) {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil || p < 0 || p > 65535 {
				return 0, fmt.Errorf("%s=%q is not a port number", n, v)
			}
			if p == 0 { // any free port: lets tests run beside a running make local
				return freePort()
			}
			return p, nil
		}
	}
	return def, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "local:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if o.emulatorsOnly {
		code, err := runWithEmulators(ctx, o, stdout, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "local:", err)
		}
		return code
	}
	if err := runStack(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "local:", err)
		return 1
	}
	return 0
}

// emulators are the two emulator processes.
type emulators struct {
	dynamo, ses *localstack.Process
}

func (e *emulators) stop() {
	for _, p := range []*localstack.Process{e.ses, e.dynamo} {
		if p != nil {
			_ = p.Stop()
		}
	}
}

func startEmulators(ctx context.Context, o *options, root string, log io.Writer) (*emulators, error) {
	nodeModules := filepath.Join(root, "node_modules")
	// Check both ports first, so a clash does not cost a JVM start.
	if err := localstack.CheckPort(host, o.dynamoPort, "DYNAMODB_PORT"); err != nil {
		return nil, fmt.Errorf("DynamoDB Local: %w", err)
	}
	if err := localstack.CheckPort(host, o.sesPort, "SES_PORT"); err != nil {
		return nil, fmt.Errorf("SES emulator: %w", err)
	}
	e := &emulators{}
	var err error
	e.dynamo, err = localstack.StartDynamoDBLocal(ctx, localstack.EmulatorOptions{
		NodeModules: nodeModules, Host: host, Port: o.dynamoPort, PortEnv: "DYNAMODB_PORT", DBPath: o.dbPath, Log: log,
	})
	if err != nil {
		return nil, err
	}
	e.ses, err = localstack.StartSES(ctx, localstack.EmulatorOptions{
		NodeModules: nodeModules, Host: host, Port: o.sesPort, PortEnv: "SES_PORT", Log: log,
	})
	if err != nil {
		e.stop()
		return nil, err
	}
	return e, nil
}

// runWithEmulators starts the emulators, runs the command with their endpoints in its
// environment, stops them and returns the command's exit status.
func runWithEmulators(ctx context.Context, o *options, stdout, stderr io.Writer) (int, error) {
	root, err := localstack.FindModuleRoot(".")
	if err != nil {
		return 1, err
	}
	em, err := startEmulators(ctx, o, root, io.Discard)
	if err != nil {
		return 1, err
	}
	defer em.stop()

	cmd := exec.Command(o.command[0], o.command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = append(os.Environ(),
		"AWS_ENDPOINT_URL_DYNAMODB="+em.dynamo.URL,
		"AWS_ENDPOINT_URL_SESV2="+em.ses.URL,
		"AWS_ACCESS_KEY_ID="+localstack.LocalAccessKey,
		"AWS_SECRET_ACCESS_KEY="+localstack.LocalSecretKey,
		"AWS_REGION="+localstack.DefaultRegion,
		"AWS_DEFAULT_REGION="+localstack.DefaultRegion,
	)
	if err := cmd.Start(); err != nil {
		return 1, fmt.Errorf("start %s: %w", o.command[0], err)
	}
	// The command shares our process group, so a Ctrl-C reaches it directly; a SIGTERM sent to
	// us alone is passed on. Either way we wait for it before stopping the emulators.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			var ee *exec.ExitError
			switch {
			case err == nil:
				return 0, nil
			case errors.As(err, &ee):
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal()), nil
				}
				return ee.ExitCode(), nil
			default:
				return 1, err
			}
		}
	}
}

// runStack is make local: emulators, tables, seed data and functions, until a signal.
func runStack(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	root, err := localstack.FindModuleRoot(".")
	if err != nil {
		return err
	}
	params, err := loadParameters(o)
	if err != nil {
		return err
	}
	globalEnv, functionEnv, err := loadEnvVars(o.envVarsFile)
	if err != nil {
		return err
	}
	// Fail on a busy API port before starting anything slow.
	if err := localstack.CheckPort(host, o.httpPort, "HTTP_PORT"); err != nil {
		return fmt.Errorf("HTTP API: %w", err)
	}
	if err := localstack.CheckPort(host, o.lambdaPort, "LAMBDA_PORT"); err != nil {
		return fmt.Errorf("Invoke API: %w", err)
	}

	fmt.Fprintln(stdout, "Starting DynamoDB Local and the SES emulator…")
	em, err := startEmulators(ctx, o, root, stderr)
	if err != nil {
		return err
	}
	defer em.stop()

	// Links in emails must point at this machine, not at an execute-api URL that does not exist.
	if err := defaultLocalURL(root, o, params); err != nil {
		return err
	}

	// SPEC §3: endpoints already set in our environment go to the functions instead.
	env := globalEnv
	for _, k := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SESV2"} {
		if v := os.Getenv(k); v != "" {
			env[k] = v
		}
	}
	fmt.Fprintln(stdout, "Building functions and creating tables…")
	stack, err := localstack.Start(ctx, localstack.Config{
		Root:             root,
		TemplatePath:     o.template,
		Parameters:       params,
		HTTPAddr:         fmt.Sprintf("%s:%d", host, o.httpPort),
		InvokeAddr:       fmt.Sprintf("%s:%d", host, o.lambdaPort),
		DynamoDBEndpoint: em.dynamo.URL,
		SESEndpoint:      em.ses.URL,
		Env:              env,
		FunctionEnv:      functionEnv,
		DisableTriggers:  o.noTriggers,
		ScheduleSpeedup:  o.scheduleSpeedup,
		Log:              stdout,
		Seed: func(ctx context.Context, tables map[string]string) error {
			cfg := localstack.LocalAWSConfig(localstack.DefaultRegion)
			return seed(ctx, seedConfig{
				Root: root, AWS: cfg,
				DynamoDB: dynamodb.NewFromConfig(cfg, func(opt *dynamodb.Options) { opt.BaseEndpoint = aws.String(em.dynamo.URL) }),
			}, tables)
		},
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(stdout, "Stopping…")
		if err := stack.Close(); err != nil {
			fmt.Fprintln(stderr, "local: close:", err)
		}
	}()

	printBanner(stdout, o, stack, em)

	select {
	case <-ctx.Done():
		return nil
	case <-em.dynamo.Done():
		return errors.New("DynamoDB Local exited unexpectedly")
	case <-em.ses.Done():
		return errors.New("the SES emulator exited unexpectedly")
	}
}

func printBanner(w io.Writer, o *options, s *localstack.Stack, em *emulators) {
	storage := "in memory"
	if o.dbPath != "" {
		storage = "data in " + o.dbPath
	}
	fnEndpoint := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v + " (from your environment)"
		}
		return def
	}
	fmt.Fprintf(w, `
IPSPC Referrals is running locally:
  Referral form    %[1]s/
  HTTP API         %[1]s  (POST /referrals)
  Invoke API       %[2]s  (aws lambda invoke --endpoint-url %[2]s --function-name RemindersFunction out.json)
  DynamoDB Local   %[3]s  (%[4]s)
  SES mail         %[5]s/  (JSON: %[5]s/store)
Functions: %[6]s
Functions reach DynamoDB at %[7]s and SES at %[8]s.
Press Ctrl-C to stop.

`, s.HTTPURL(), s.InvokeURL(), em.dynamo.URL, storage, em.ses.URL, strings.Join(s.Functions(), ", "),
		fnEndpoint("AWS_ENDPOINT_URL_DYNAMODB", em.dynamo.URL), fnEndpoint("AWS_ENDPOINT_URL_SESV2", em.ses.URL))
}

// localURLParameter is the template parameter holding the public base URL of the HTTP API.
const localURLParameter = "PublicBaseUrl"

// defaultLocalURL sets the public base URL parameter to the local HTTP API when the template has
// one and nobody overrode it.
func defaultLocalURL(root string, o *options, params map[string]string) error {
	if _, set := params[localURLParameter]; set {
		return nil
	}
	path := o.template
	if path == "" {
		path = filepath.Join(root, "template.yaml")
	}
	t, err := localstack.LoadTemplate(path, localstack.TemplateOptions{Parameters: params})
	if err != nil {
		return err
	}
	if _, ok := t.Parameters[localURLParameter]; ok {
		params[localURLParameter] = fmt.Sprintf("http://%s:%d", host, o.httpPort)
	}
	return nil
}

// loadParameters merges -params FILE and -param flags.
func loadParameters(o *options) (map[string]string, error) {
	params := map[string]string{}
	if o.paramsFile != "" {
		b, err := os.ReadFile(o.paramsFile)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &params); err != nil {
			return nil, fmt.Errorf("%s: want a JSON object of strings: %w", o.paramsFile, err)
		}
	}
	for k, v := range o.params {
		params[k] = v
	}
	return params, nil
}

// loadEnvVars reads a sam local --env-vars file: "Parameters" applies to every function, a
// logical id's object to that function.
func loadEnvVars(path string) (map[string]string, map[string]map[string]string, error) {
	global, perFunction := map[string]string{}, map[string]map[string]string{}
	if path == "" {
		return global, perFunction, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var doc map[string]map[string]string
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: want {\"Parameters\": {...}, \"FunctionId\": {...}} with string values: %w", path, err)
	}
	for k, vars := range doc {
		if k == "Parameters" {
			global = vars
			continue
		}
		perFunction[k] = vars
	}
	return global, perFunction, nil
}

// seedConfig is what seeding needs to reach the local tables.
type seedConfig struct {
	Root     string           // module root: the directory data is under Root/infra/directory
	AWS      aws.Config       // local credentials and region
	DynamoDB *dynamodb.Client // points at the local DynamoDB
}

// seed loads the directory into the freshly created tables (tables: logical id → table name):
// the 12 areas with their postcode districts, and fictional leads and specialists (SPEC §3).
func seed(ctx context.Context, cfg seedConfig, tables map[string]string) error {
	dir := filepath.Join(cfg.Root, "infra", "directory")
	return seeddata.Directory(ctx, cfg.DynamoDB, tables["DirectoryTable"],
		filepath.Join(dir, "areas.json"), filepath.Join(dir, "demo-people.json"))
}
