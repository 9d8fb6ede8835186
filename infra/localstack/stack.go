package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Config describes a local stack. The zero value (plus a DynamoDB endpoint in the environment)
// runs every function of ./template.yaml on the contract ports.
type Config struct {
	// Root is the Go module root the functions build from; default: the module holding the
	// template (or the working directory).
	Root string
	// TemplatePath defaults to Root/template.yaml.
	TemplatePath string
	// Parameters override template parameter defaults (say, a small capacity for a test).
	Parameters map[string]string
	// Functions limits the stack to these logical ids; default all.
	Functions []string

	// HTTPAddr serves the HTTP API (default 127.0.0.1:3000); InvokeAddr the Lambda Invoke API
	// (default 127.0.0.1:3001). Use 127.0.0.1:0 for a free port.
	HTTPAddr   string
	InvokeAddr string

	// DynamoDBEndpoint is where tables are created and streams polled, and what functions get as
	// AWS_ENDPOINT_URL_DYNAMODB; default $AWS_ENDPOINT_URL_DYNAMODB.
	DynamoDBEndpoint string
	// SESEndpoint is what functions get as AWS_ENDPOINT_URL_SESV2; default $AWS_ENDPOINT_URL_SESV2.
	SESEndpoint string
	Region      string // default eu-west-2
	// TablePrefix is prepended to table logical ids, so parallel test stacks share one DynamoDB
	// Local without seeing each other's data.
	TablePrefix string
	// DropTables deletes the stack's tables on Close (for tests with unique prefixes).
	DropTables bool
	// Seed runs after the tables exist and before any function can be invoked, with logical id →
	// table name.
	Seed func(ctx context.Context, tables map[string]string) error

	// Env is added to every function's environment, over the template's (a fault-injection
	// endpoint, a local signing secret); FunctionEnv to one function's, over Env.
	Env         map[string]string
	FunctionEnv map[string]map[string]string
	// Secrets gives values to the template's Secrets Manager secrets by logical id; the others get
	// a random value per stack. They are served by a local GetSecretValue endpoint.
	Secrets map[string]string
	// Concurrency is the per-function worker limit (default DefaultConcurrency, or the template's
	// ReservedConcurrentExecutions); FunctionConcurrency overrides it per function.
	Concurrency         int
	FunctionConcurrency map[string]int

	// BuildDir receives the bootstraps (BuildDir/<LogicalId>/bootstrap); default a temporary
	// directory removed on Close.
	BuildDir string

	// DisableTriggers turns off the stream pollers and schedules read from the template.
	DisableTriggers bool
	// ScheduleSpeedup makes rate() schedules fire this many times faster (60: hourly becomes
	// every minute); default 1.
	ScheduleSpeedup float64
	// StreamMaxRetries bounds retries of a failing stream batch when the template leaves
	// MaximumRetryAttempts at Lambda's infinite default; default 3.
	StreamMaxRetries int
	// StreamRetriesOverride makes StreamMaxRetries replace the template's MaximumRetryAttempts
	// too, so a test of a poisoned record need not wait out the deployed retries.
	StreamRetriesOverride bool
	// OnStreamDiscard, when set, is told about the stream records of a function given up on after
	// their retries: the part of the on-failure destination (an SQS queue) a test can check.
	OnStreamDiscard func(function string, records []events.DynamoDBEventRecord, reason string)
	// Triggers are started with the template's.
	Triggers []Trigger

	// Log receives function output, each line prefixed with the logical id; default os.Stderr.
	Log io.Writer
	// Logger receives the stack's own messages; default a text logger on Log.
	Logger *slog.Logger
}

// Stack is a running local stack.
type Stack struct {
	cfg       Config
	tmpl      *Template
	pools     map[string]*functionPool
	tables    map[string]string
	existing  map[string]bool // tables that were there before Start (a -dbPath restart)
	ddb       *dynamodb.Client
	logs      *syncWriter
	logger    *slog.Logger
	httpSrv   *http.Server
	invokeSrv *http.Server
	httpURL   string
	invokeURL string
	// A local Secrets Manager (GetSecretValue only) for the template's secrets.
	secretsSrv *http.Server
	secretsURL string
	secrets    *secretsManager

	buildDir       string
	removeBuildDir bool

	stopTriggers context.CancelFunc
	pollers      []*StreamPoller // the template's stream triggers (StreamsCaughtUp)
	bg           sync.WaitGroup  // triggers and asynchronous invocations
	closeOnce    sync.Once
	closeErr     error
}

var _ Invoker = (*Stack)(nil)

// Start builds the functions, creates (and seeds) the tables, and serves the HTTP and Invoke
// APIs. Close the stack to stop everything it started.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Stack{cfg: cfg, pools: map[string]*functionPool{}, logs: &syncWriter{w: cfg.Log}, logger: cfg.Logger}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()

	s.tmpl, err = LoadTemplate(cfg.TemplatePath, TemplateOptions{
		Parameters: cfg.Parameters, Region: cfg.Region, TablePrefix: cfg.TablePrefix,
	})
	if err != nil {
		return nil, err
	}
	fns, err := s.selectFunctions()
	if err != nil {
		return nil, err
	}
	var routes []Route
	for _, f := range fns {
		routes = append(routes, f.Routes...)
		for _, ig := range f.Ignored {
			s.logger.Warn("event not emulated locally", "function", f.LogicalID, "event", ig)
		}
	}
	rt, err := newRouter(routes)
	if err != nil {
		return nil, err
	}

	// Bind the ports before the slow work, so a busy port fails at once.
	httpLn, err := listen(cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("HTTP API: %w", err)
	}
	invokeLn, err := listen(cfg.InvokeAddr)
	if err != nil {
		_ = httpLn.Close()
		return nil, fmt.Errorf("Invoke API: %w", err)
	}
	s.httpURL, s.invokeURL = "http://"+httpLn.Addr().String(), "http://"+invokeLn.Addr().String()
	s.httpSrv = &http.Server{
		Handler:           &httpAPI{router: rt, invoker: s, logger: s.logger, now: time.Now},
		ReadHeaderTimeout: 30 * time.Second,
	}
	s.invokeSrv = &http.Server{
		Handler: (&invokeAPI{
			invoker: s, region: cfg.Region, account: DefaultAccountID, logger: s.logger,
			functions: func(name string) bool { return s.pools[name] != nil },
			background: func(f func()) {
				s.bg.Go(f)
			},
		}).handler(),
		ReadHeaderTimeout: 30 * time.Second,
	}
	// Requests arriving before the functions are ready wait in the listen backlog.
	defer func() {
		if err != nil {
			_ = httpLn.Close()
			_ = invokeLn.Close()
		}
	}()

	s.buildDir = cfg.BuildDir
	if s.buildDir == "" {
		if s.buildDir, err = os.MkdirTemp("", "localstack-build-"); err != nil {
			return nil, err
		}
		s.removeBuildDir = true
	}
	bins, err := BuildFunctions(ctx, cfg.Root, s.buildDir, fns)
	if err != nil {
		return nil, err
	}

	if len(s.tmpl.Tables) > 0 {
		if cfg.DynamoDBEndpoint == "" {
			return nil, errors.New("the template has tables but no DynamoDB endpoint is set: " +
				"set Config.DynamoDBEndpoint or AWS_ENDPOINT_URL_DYNAMODB (make test and make local do)")
		}
		s.ddb = DynamoDBClient(cfg.DynamoDBEndpoint, cfg.Region)
		if s.existing, err = existingTables(ctx, s.ddb, s.tmpl, cfg.TablePrefix); err != nil {
			return nil, err
		}
		if s.tables, err = CreateTables(ctx, s.ddb, s.tmpl, cfg.TablePrefix); err != nil {
			return nil, err
		}
	}
	if cfg.Seed != nil {
		if err := cfg.Seed(ctx, maps.Clone(s.tables)); err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
	}

	// Before the workers: their environment names the secrets endpoint.
	if err := s.startSecrets(); err != nil {
		return nil, err
	}
	width := 0
	for _, f := range fns {
		width = max(width, len(f.LogicalID))
	}
	for _, f := range fns {
		prefix := fmt.Sprintf("%-*s  ", width, f.LogicalID)
		s.pools[f.LogicalID] = newFunctionPool(f, bins[f.LogicalID], s.functionEnv(f, bins[f.LogicalID]),
			s.concurrency(f), functionARN(cfg.Region, DefaultAccountID, f.LogicalID), s.logs, prefix)
	}

	go func() { _ = s.httpSrv.Serve(httpLn) }()
	go func() { _ = s.invokeSrv.Serve(invokeLn) }()

	triggers := slices.Clone(cfg.Triggers)
	if !cfg.DisableTriggers {
		triggers = append(triggers, s.templateTriggers(fns)...)
	}
	tctx, cancel := context.WithCancel(context.Background())
	s.stopTriggers = cancel
	for _, t := range triggers {
		s.bg.Go(func() {
			if err := t.Run(tctx, s); err != nil && tctx.Err() == nil {
				s.logger.Error("trigger stopped", "trigger", t.String(), "error", err)
			}
		})
	}
	return s, nil
}

func (c Config) withDefaults() (Config, error) {
	if c.Root == "" {
		start := "."
		if c.TemplatePath != "" {
			start = filepath.Dir(c.TemplatePath)
		}
		root, err := FindModuleRoot(start)
		if err != nil {
			return c, err
		}
		c.Root = root
	}
	if c.TemplatePath == "" {
		c.TemplatePath = filepath.Join(c.Root, "template.yaml")
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:3000"
	}
	if c.InvokeAddr == "" {
		c.InvokeAddr = "127.0.0.1:3001"
	}
	if c.DynamoDBEndpoint == "" {
		c.DynamoDBEndpoint = os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	}
	if c.SESEndpoint == "" {
		c.SESEndpoint = os.Getenv("AWS_ENDPOINT_URL_SESV2")
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.ScheduleSpeedup <= 0 {
		c.ScheduleSpeedup = 1
	}
	if c.StreamMaxRetries <= 0 {
		c.StreamMaxRetries = 3
	}
	if c.Log == nil {
		c.Log = os.Stderr
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(c.Log, nil)).With("component", "localstack")
	}
	return c, nil
}

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if _, port, splitErr := net.SplitHostPort(addr); splitErr == nil {
			if p, _ := strconv.Atoi(port); p != 0 {
				return nil, &PortInUseError{Port: p}
			}
		}
		return nil, err
	}
	return ln, nil
}

func (s *Stack) selectFunctions() ([]*Function, error) {
	if len(s.cfg.Functions) == 0 {
		return s.tmpl.Functions, nil
	}
	var out []*Function
	for _, id := range s.cfg.Functions {
		f := s.tmpl.Function(id)
		if f == nil {
			return nil, fmt.Errorf("function %s is not in %s", id, s.tmpl.Path)
		}
		out = append(out, f)
	}
	return out, nil
}

func (s *Stack) concurrency(f *Function) int {
	if n := s.cfg.FunctionConcurrency[f.LogicalID]; n > 0 {
		return n
	}
	if f.ReservedConcurrency > 0 {
		return f.ReservedConcurrency
	}
	if s.cfg.Concurrency > 0 {
		return s.cfg.Concurrency
	}
	return DefaultConcurrency
}

// functionEnv is the process environment of a function's workers: what Lambda sets, the
// emulator endpoints, the template's variables, then the Config's additions.
func (s *Stack) functionEnv(f *Function, binary string) []string {
	env := map[string]string{
		"PATH":                            os.Getenv("PATH"),
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC", // Lambda's: time.Local is UTC there
		"LAMBDA_TASK_ROOT":                filepath.Dir(binary),
		"_HANDLER":                        f.Handler,
		"AWS_LAMBDA_FUNCTION_NAME":        f.LogicalID,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(f.MemorySize),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + f.LogicalID,
		"AWS_LAMBDA_LOG_FORMAT":           f.LogFormat,
		"AWS_REGION":                      s.cfg.Region,
		"AWS_DEFAULT_REGION":              s.cfg.Region,
		"AWS_ACCESS_KEY_ID":               LocalAccessKey,
		"AWS_SECRET_ACCESS_KEY":           LocalSecretKey,
	}
	if f.ApplicationLogLevel != "" {
		env["AWS_LAMBDA_LOG_LEVEL"] = f.ApplicationLogLevel
	}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		env["TMPDIR"] = tmp
	}
	// Endpoints for other services set in our environment reach the functions too (say, a local
	// Secrets Manager); DynamoDB's and SES's come from the Config.
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
			env[k] = v
		}
	}
	if s.cfg.DynamoDBEndpoint != "" {
		env["AWS_ENDPOINT_URL_DYNAMODB"] = s.cfg.DynamoDBEndpoint
	}
	if s.cfg.SESEndpoint != "" {
		env["AWS_ENDPOINT_URL_SESV2"] = s.cfg.SESEndpoint
	}
	if s.secretsURL != "" {
		env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = s.secretsURL
	}
	for k, v := range f.Environment {
		// The template declares the endpoints empty (for sam local's --env-vars); an empty one
		// means "the service's own", so it never replaces the emulator's.
		if v == "" && strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
			continue
		}
		env[k] = v
	}
	maps.Copy(env, s.cfg.Env)
	maps.Copy(env, s.cfg.FunctionEnv[f.LogicalID])

	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// Invoke runs a function synchronously, as the Lambda Invoke API does: result is the function's
// response; functionErr is set when the function failed (error, panic, crash, timeout); err is
// set when it could not be invoked at all.
func (s *Stack) Invoke(ctx context.Context, functionLogicalID string, payload []byte) (result []byte, functionErr *FunctionError, err error) {
	inv, err := s.InvokeDetailed(ctx, functionLogicalID, payload, InvokeOptions{})
	if err != nil {
		return nil, nil, err
	}
	return inv.Result, inv.Error, nil
}

// InvokeDetailed is Invoke with per-invocation options and timings.
func (s *Stack) InvokeDetailed(ctx context.Context, functionLogicalID string, payload []byte, opts InvokeOptions) (*Invocation, error) {
	p := s.pools[functionLogicalID]
	if p == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownFunction, functionLogicalID)
	}
	return p.invoke(ctx, payload, opts)
}

// HTTPURL is the HTTP API's base URL, without a trailing slash.
func (s *Stack) HTTPURL() string { return s.httpURL }

// InvokeURL is the Lambda Invoke API's endpoint (for --endpoint-url or a Lambda client's
// BaseEndpoint).
func (s *Stack) InvokeURL() string { return s.invokeURL }

// TableName returns a table's local name, or "" when the template has no such table.
func (s *Stack) TableName(logicalID string) string { return s.tables[logicalID] }

// Tables returns logical id → local table name.
func (s *Stack) Tables() map[string]string { return maps.Clone(s.tables) }

// Template is the resolved template the stack runs.
func (s *Stack) Template() *Template { return s.tmpl }

// Functions returns the logical ids the stack runs, sorted.
func (s *Stack) Functions() []string { return slices.Sorted(maps.Keys(s.pools)) }

// DynamoDB returns the stack's client for its DynamoDB endpoint (nil without tables).
func (s *Stack) DynamoDB() *dynamodb.Client { return s.ddb }

// AWSConfig is an aws.Config with the local credentials and region; set BaseEndpoint per client.
func (s *Stack) AWSConfig() aws.Config { return LocalAWSConfig(s.cfg.Region) }

// Stats describes a function's invocations and workers so far.
func (s *Stack) Stats(functionLogicalID string) FunctionStats {
	if p := s.pools[functionLogicalID]; p != nil {
		return p.snapshot()
	}
	return FunctionStats{}
}

// ColdStarts returns the init duration (exec to first /next) of every worker the function has
// started.
func (s *Stack) ColdStarts(functionLogicalID string) []time.Duration {
	return s.Stats(functionLogicalID).ColdStarts
}

// Close stops triggers, workers and servers, drops the tables if asked to and removes the build
// directory it made. It waits until every process it started has exited.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Stack) close() error {
	var errs []error
	if s.stopTriggers != nil {
		s.stopTriggers()
	}
	var wg sync.WaitGroup
	for _, p := range s.pools {
		wg.Go(p.close)
	}
	wg.Wait()
	for _, srv := range []*http.Server{s.httpSrv, s.invokeSrv, s.secretsSrv} {
		if srv == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		cancel()
	}
	s.bg.Wait()
	if s.cfg.DropTables && s.ddb != nil && len(s.tables) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		errs = append(errs, DeleteTables(ctx, s.ddb, s.tables))
		cancel()
	}
	if s.removeBuildDir {
		errs = append(errs, os.RemoveAll(s.buildDir))
	}
	return errors.Join(errs...)
}
