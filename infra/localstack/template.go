package localstack

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Local stand-ins for account-level values. 123456789012 is the account sam local uses.
const (
	DefaultRegion    = "eu-west-2"
	DefaultAccountID = "123456789012"
	DefaultStackName = "local"
	localAPIID       = "local"
)

// TemplateOptions say how the template's intrinsics resolve locally.
type TemplateOptions struct {
	// Parameters override parameter defaults (a parameter not in the template is an error, so a
	// typo cannot silently do nothing).
	Parameters  map[string]string
	Region      string // default DefaultRegion
	AccountID   string // default DefaultAccountID
	StackName   string // default DefaultStackName
	TablePrefix string // prepended to table logical ids to make local table names
}

func (o TemplateOptions) withDefaults() TemplateOptions {
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.AccountID == "" {
		o.AccountID = DefaultAccountID
	}
	if o.StackName == "" {
		o.StackName = DefaultStackName
	}
	return o
}

// Template is the part of a SAM template the local stack runs: functions with their resolved
// environment and triggers, and tables.
type Template struct {
	Path       string
	Dir        string // directory of the template; CodeUri is relative to it
	Parameters map[string]Parameter
	Values     map[string]string // parameter values after overrides
	Functions  []*Function       // sorted by logical id
	Tables     []*Table          // sorted by logical id
	Secrets    []Secret          // AWS::SecretsManager::Secret resources, sorted by logical id
	Options    TemplateOptions
}

// Parameter is a template parameter.
type Parameter struct {
	Name          string
	Type          string
	Default       string
	HasDefault    bool
	AllowedValues []string
}

func (p Parameter) isList() bool {
	return p.Type == "CommaDelimitedList" || strings.HasPrefix(p.Type, "List<")
}

// Function is an AWS::Serverless::Function with Globals applied and intrinsics resolved.
type Function struct {
	LogicalID           string
	CodeURI             string // as written in the template
	CodeDir             string // absolute
	Handler             string
	Runtime             string
	Timeout             time.Duration
	MemorySize          int
	ReservedConcurrency int // 0 when not set
	LogFormat           string
	ApplicationLogLevel string
	SystemLogLevel      string
	Environment         map[string]string
	Routes              []Route
	Streams             []StreamEvent
	Schedules           []ScheduleEvent
	// Ignored lists events the local stack does not emulate ("Name (Type)"), so Start can say so.
	Ignored []string
}

// StreamEvent is a DynamoDB stream event source mapping.
type StreamEvent struct {
	Function         string
	Event            string
	Table            string // logical id of the table whose stream triggers the function
	StartingPosition string // TRIM_HORIZON or LATEST
	BatchSize        int
	BatchWindow      time.Duration
	// ReportBatchItemFailures is set by FunctionResponseTypes: [ReportBatchItemFailures].
	ReportBatchItemFailures bool
	// MaximumRetryAttempts is -1 for Lambda's default (retry until the record expires).
	MaximumRetryAttempts int
	BisectOnError        bool
	Filters              []string // FilterCriteria patterns, JSON
	Enabled              bool
}

// ScheduleEvent is a Schedule or ScheduleV2 event.
type ScheduleEvent struct {
	Function   string
	Event      string
	Name       string
	Expression string // rate(1 hour), cron(0 * * * ? *), at(...)
	Timezone   string
	Input      string // JSON; empty means an EventBridge-shaped event is sent
	Enabled    bool
}

// LoadTemplate reads and resolves a SAM template.
func LoadTemplate(path string, opts TemplateOptions) (*Template, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("template path: %w", err)
	}
	// samconfig.toml's local values come first; the caller's overrides win over them.
	local, err := samconfigParameters(filepath.Dir(abs))
	if err != nil {
		return nil, err
	}
	if len(local) > 0 {
		maps.Copy(local, opts.Parameters)
		opts.Parameters = local
	}
	t, err := ParseTemplate(src, filepath.Dir(abs), opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Path = abs
	return t, nil
}

// resource is a raw template resource.
type resource struct {
	LogicalID  string
	Type       string
	Condition  string
	Properties map[string]any
}

// ParseTemplate resolves a SAM template's source; dir is the directory CodeUri is relative to.
func ParseTemplate(src []byte, dir string, opts TemplateOptions) (*Template, error) {
	root, err := DecodeTemplate(src)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()

	params, values, err := parseParameters(mapOf(root["Parameters"]), opts.Parameters)
	if err != nil {
		return nil, err
	}
	resources := map[string]resource{}
	for id, v := range mapOf(root["Resources"]) {
		m := mapOf(v)
		if m == nil {
			return nil, fmt.Errorf("resource %s is not a mapping", id)
		}
		typ, _ := m["Type"].(string)
		cond, _ := m["Condition"].(string)
		resources[id] = resource{LogicalID: id, Type: typ, Condition: cond, Properties: mapOf(m["Properties"])}
	}
	ev := &evaluator{
		params:     params,
		values:     values,
		conditions: mapOf(root["Conditions"]),
		mappings:   mapOf(root["Mappings"]),
		resources:  resources,
		env:        opts,
		condCache:  map[string]bool{},
		condBusy:   map[string]bool{},
	}
	t := &Template{Dir: dir, Parameters: params, Values: values, Options: opts}
	globals := mapOf(mapOf(root["Globals"])["Function"])

	for _, id := range slices.Sorted(maps.Keys(resources)) {
		r := resources[id]
		if r.Condition != "" {
			on, err := ev.condition(r.Condition)
			if err != nil {
				return nil, fmt.Errorf("resource %s: %w", id, err)
			}
			if !on {
				continue // CloudFormation would not create it either
			}
		}
		switch r.Type {
		case "AWS::Serverless::Function":
			f, err := parseFunction(ev, r, globals, dir)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
			t.Functions = append(t.Functions, f)
		case "AWS::SecretsManager::Secret":
			t.Secrets = append(t.Secrets, Secret{LogicalID: id, ARN: ev.arn(r), Name: ev.localName(id)})
		case "AWS::DynamoDB::Table":
			tb, err := parseTable(ev, r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
			t.Tables = append(t.Tables, tb)
		}
	}
	return t, nil
}

func parseParameters(defs map[string]any, overrides map[string]string) (map[string]Parameter, map[string]string, error) {
	params := map[string]Parameter{}
	values := map[string]string{}
	for name, v := range defs {
		m := mapOf(v)
		p := Parameter{Name: name}
		p.Type, _ = m["Type"].(string)
		if d, ok := m["Default"]; ok {
			s, err := scalarString(d)
			if list, isList := d.([]any); isList { // a YAML list default for a list parameter
				parts := make([]string, len(list))
				for i, el := range list {
					parts[i], _ = el.(string)
				}
				s, err = strings.Join(parts, ","), nil
			}
			if err != nil {
				return nil, nil, fmt.Errorf("parameter %s: Default: %w", name, err)
			}
			p.Default, p.HasDefault = s, true
			values[name] = s
		}
		for _, a := range asList(m["AllowedValues"]) {
			if s, ok := a.(string); ok {
				p.AllowedValues = append(p.AllowedValues, s)
			}
		}
		params[name] = p
	}
	for name, v := range overrides {
		p, ok := params[name]
		if !ok {
			return nil, nil, fmt.Errorf("parameter override %s: the template has no such parameter", name)
		}
		if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
			return nil, nil, fmt.Errorf("parameter override %s=%q: allowed values are %s", name, v, strings.Join(p.AllowedValues, ", "))
		}
		values[name] = v
	}
	return params, values, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// mergeGlobals applies SAM's Globals rules: maps merge (the function wins), lists concatenate, any
// other value in the function replaces the global one. A value that is an intrinsic is never
// merged into, as SAM does.
func mergeGlobals(global, local any) any {
	if global == nil {
		return local
	}
	if local == nil {
		return global
	}
	_, _, gIntr := intrinsicName(global)
	_, _, lIntr := intrinsicName(local)
	if gm, lm := mapOf(global), mapOf(local); gm != nil && lm != nil && !gIntr && !lIntr {
		out := maps.Clone(gm)
		for k, v := range lm {
			out[k] = mergeGlobals(gm[k], v)
		}
		return out
	}
	if gl, ok := global.([]any); ok {
		if ll, ok := local.([]any); ok {
			return append(slices.Clone(gl), ll...)
		}
	}
	return local
}

// property evaluates one property path of a merged property map; ok is false when it is absent.
func property(ev *evaluator, props map[string]any, path ...string) (v any, ok bool, err error) {
	cur := any(props)
	for _, p := range path {
		m := mapOf(cur)
		if m == nil {
			// An intrinsic in the middle of a path (Environment: !If …) is resolved first.
			if _, _, intr := intrinsicName(cur); !intr {
				return nil, false, nil
			}
			r, err := ev.eval(cur)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", strings.Join(path, "."), err)
			}
			if m = mapOf(r); m == nil {
				return nil, false, nil
			}
		}
		if cur, ok = m[p]; !ok {
			return nil, false, nil
		}
	}
	r, err := ev.eval(cur)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", strings.Join(path, "."), err)
	}
	if _, none := r.(noValue); none {
		return nil, false, nil
	}
	return r, true, nil
}

func stringProp(ev *evaluator, props map[string]any, def string, path ...string) (string, error) {
	v, ok, err := property(ev, props, path...)
	if err != nil || !ok {
		return def, err
	}
	s, err := scalarString(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", strings.Join(path, "."), err)
	}
	return s, nil
}

func intProp(ev *evaluator, props map[string]any, def int, path ...string) (int, error) {
	s, err := stringProp(ev, props, strconv.Itoa(def), path...)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", strings.Join(path, "."), s)
	}
	return n, nil
}

func boolProp(ev *evaluator, props map[string]any, def bool, path ...string) (bool, error) {
	s, err := stringProp(ev, props, strconv.FormatBool(def), path...)
	if err != nil {
		return false, err
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%s: %q is not true or false", strings.Join(path, "."), s)
	}
	return b, nil
}

func parseFunction(ev *evaluator, r resource, globals map[string]any, dir string) (*Function, error) {
	props := mapOf(mergeGlobals(globals, r.Properties))
	if props == nil {
		props = map[string]any{}
	}
	f := &Function{LogicalID: r.LogicalID, Environment: map[string]string{}}

	codeURI, ok := props["CodeUri"].(string)
	if !ok || codeURI == "" {
		return nil, errors.New("CodeUri must be a local path to run locally")
	}
	f.CodeURI = codeURI
	f.CodeDir = filepath.Join(dir, filepath.FromSlash(codeURI))

	var err error
	if f.Handler, err = stringProp(ev, props, "bootstrap", "Handler"); err != nil {
		return nil, err
	}
	if f.Runtime, err = stringProp(ev, props, "", "Runtime"); err != nil {
		return nil, err
	}
	// SAM's defaults: 3 seconds, 128 MB.
	timeout, err := intProp(ev, props, 3, "Timeout")
	if err != nil {
		return nil, err
	}
	f.Timeout = time.Duration(timeout) * time.Second
	if f.MemorySize, err = intProp(ev, props, 128, "MemorySize"); err != nil {
		return nil, err
	}
	if f.ReservedConcurrency, err = intProp(ev, props, 0, "ReservedConcurrentExecutions"); err != nil {
		return nil, err
	}
	if f.LogFormat, err = stringProp(ev, props, "Text", "LoggingConfig", "LogFormat"); err != nil {
		return nil, err
	}
	if f.LogFormat == "JSON" {
		// Lambda applies log levels only to JSON logs; INFO and WARN are its defaults.
		if f.ApplicationLogLevel, err = stringProp(ev, props, "INFO", "LoggingConfig", "ApplicationLogLevel"); err != nil {
			return nil, err
		}
		if f.SystemLogLevel, err = stringProp(ev, props, "INFO", "LoggingConfig", "SystemLogLevel"); err != nil {
			return nil, err
		}
	}

	// eval prefixes errors with the map keys, so a bad variable reads
	// "environment: Environment.Variables: FOO: unknown intrinsic function Fn::Bar".
	vars, ok, err := property(ev, props, "Environment", "Variables")
	if err != nil {
		return nil, fmt.Errorf("environment: %w", err)
	}
	if ok {
		m := mapOf(vars)
		if m == nil {
			return nil, errors.New("Environment.Variables is not a mapping")
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			s, err := scalarString(m[k])
			if err != nil {
				return nil, fmt.Errorf("environment variable %s: %w", k, err)
			}
			f.Environment[k] = s
		}
	}

	events := mapOf(props["Events"])
	for _, name := range slices.Sorted(maps.Keys(events)) {
		if err := parseEvent(ev, f, name, mapOf(events[name])); err != nil {
			return nil, fmt.Errorf("event %s: %w", name, err)
		}
	}
	return f, nil
}

func parseEvent(ev *evaluator, f *Function, name string, def map[string]any) error {
	typ, _ := def["Type"].(string)
	props := mapOf(def["Properties"])
	if props == nil {
		props = map[string]any{}
	}
	switch typ {
	case "HttpApi":
		return parseHTTPAPIEvent(ev, f, name, props)
	case "DynamoDB":
		return parseStreamEvent(ev, f, name, props)
	case "Schedule", "ScheduleV2":
		return parseScheduleEvent(ev, f, name, typ, props)
	}
	f.Ignored = append(f.Ignored, fmt.Sprintf("%s (%s)", name, typ))
	return nil
}

func parseHTTPAPIEvent(ev *evaluator, f *Function, name string, props map[string]any) error {
	path, err := stringProp(ev, props, "", "Path")
	if err != nil {
		return err
	}
	method, err := stringProp(ev, props, "", "Method")
	if err != nil {
		return err
	}
	version, err := stringProp(ev, props, "2.0", "PayloadFormatVersion")
	if err != nil {
		return err
	}
	if version != "2.0" {
		return fmt.Errorf("PayloadFormatVersion %s is not emulated (only 2.0)", version)
	}
	if path == "" && method == "" { // SAM's catch-all route
		path, method = "$default", ""
	} else if path == "" || method == "" {
		return errors.New("HttpApi event needs both Path and Method (or neither, for $default)")
	}
	rt, err := newRoute(f.LogicalID, name, method, path)
	if err != nil {
		return err
	}
	f.Routes = append(f.Routes, rt)
	return nil
}

func parseStreamEvent(ev *evaluator, f *Function, name string, props map[string]any) error {
	// The table is read from the unevaluated !GetAtt Table.StreamArn: the local poller needs the
	// table, not an ARN.
	streamName, streamArg, ok := intrinsicName(props["Stream"])
	args := asList(streamArg)
	if !ok || streamName != "Fn::GetAtt" || len(args) != 2 || args[1] != "StreamArn" {
		return errors.New("Stream must be !GetAtt <Table>.StreamArn to be emulated locally")
	}
	tableID, _ := args[0].(string)
	if r, ok := ev.resources[tableID]; !ok || r.Type != "AWS::DynamoDB::Table" {
		return fmt.Errorf("Stream: %s is not an AWS::DynamoDB::Table in this template", tableID)
	}
	s := StreamEvent{Function: f.LogicalID, Event: name, Table: tableID}
	var err error
	if s.StartingPosition, err = stringProp(ev, props, "TRIM_HORIZON", "StartingPosition"); err != nil {
		return err
	}
	if s.BatchSize, err = intProp(ev, props, 100, "BatchSize"); err != nil {
		return err
	}
	window, err := intProp(ev, props, 0, "MaximumBatchingWindowInSeconds")
	if err != nil {
		return err
	}
	s.BatchWindow = time.Duration(window) * time.Second
	if s.MaximumRetryAttempts, err = intProp(ev, props, -1, "MaximumRetryAttempts"); err != nil {
		return err
	}
	if s.BisectOnError, err = boolProp(ev, props, false, "BisectBatchOnFunctionError"); err != nil {
		return err
	}
	if s.Enabled, err = boolProp(ev, props, true, "Enabled"); err != nil {
		return err
	}
	types, _, err := property(ev, props, "FunctionResponseTypes")
	if err != nil {
		return err
	}
	for _, t := range asList(types) {
		if t == "ReportBatchItemFailures" {
			s.ReportBatchItemFailures = true
		}
	}
	filters, _, err := property(ev, props, "FilterCriteria", "Filters")
	if err != nil {
		return err
	}
	for i, fl := range asList(filters) {
		p, err := scalarString(mapOf(fl)["Pattern"])
		if err != nil {
			return fmt.Errorf("FilterCriteria.Filters[%d].Pattern: %w", i, err)
		}
		s.Filters = append(s.Filters, p)
	}
	f.Streams = append(f.Streams, s)
	return nil
}

func parseScheduleEvent(ev *evaluator, f *Function, name, typ string, props map[string]any) error {
	s := ScheduleEvent{Function: f.LogicalID, Event: name}
	var err error
	exprKey := "ScheduleExpression"
	if typ == "Schedule" {
		exprKey = "Schedule"
	}
	if s.Expression, err = stringProp(ev, props, "", exprKey); err != nil {
		return err
	}
	if s.Expression == "" {
		return fmt.Errorf("%s is required", exprKey)
	}
	if s.Timezone, err = stringProp(ev, props, "", "ScheduleExpressionTimezone"); err != nil {
		return err
	}
	if s.Input, err = stringProp(ev, props, "", "Input"); err != nil {
		return err
	}
	if s.Name, err = stringProp(ev, props, f.LogicalID+name, "Name"); err != nil {
		return err
	}
	state, err := stringProp(ev, props, "ENABLED", "State")
	if err != nil {
		return err
	}
	enabled, err := boolProp(ev, props, true, "Enabled")
	if err != nil {
		return err
	}
	s.Enabled = enabled && state != "DISABLED"
	f.Schedules = append(f.Schedules, s)
	return nil
}

// Function returns the function with the logical id, or nil.
func (t *Template) Function(logicalID string) *Function {
	for _, f := range t.Functions {
		if f.LogicalID == logicalID {
			return f
		}
	}
	return nil
}

// Table returns the table with the logical id, or nil.
func (t *Template) Table(logicalID string) *Table {
	for _, tb := range t.Tables {
		if tb.LogicalID == logicalID {
			return tb
		}
	}
	return nil
}

// Routes returns every HttpApi route of every function.
func (t *Template) Routes() []Route {
	var out []Route
	for _, f := range t.Functions {
		out = append(out, f.Routes...)
	}
	return out
}
