package localstack

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// noValue is what Ref AWS::NoValue evaluates to: the property (or list element) holding it is
// removed, as CloudFormation does.
type noValue struct{}

// evaluator resolves CloudFormation intrinsic functions against local stand-ins: parameters take
// their defaults or overrides, tables their local names, ARNs are local ARNs.
type evaluator struct {
	params     map[string]Parameter
	values     map[string]string // parameter values after overrides
	conditions map[string]any
	mappings   map[string]any
	resources  map[string]resource
	env        TemplateOptions

	condCache map[string]bool
	condBusy  map[string]bool // detects Condition cycles
}

func (e *evaluator) eval(v any) (any, error) {
	if name, arg, ok := intrinsicName(v); ok {
		return e.intrinsic(name, arg)
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			r, err := e.eval(x[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, el := range x {
			r, err := e.eval(el)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, drop := r.(noValue); !drop {
				out = append(out, r)
			}
		}
		return out, nil
	}
	return v, nil
}

func (e *evaluator) intrinsic(name string, arg any) (any, error) {
	switch name {
	case "Ref":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref: want a name, got %T", arg)
		}
		return e.ref(s)
	case "Condition":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Condition: want a condition name, got %T", arg)
		}
		return e.condition(s)
	case "Fn::GetAtt":
		return e.getAtt(arg)
	case "Fn::Sub":
		return e.sub(arg)
	case "Fn::Join":
		return e.join(arg)
	case "Fn::Select":
		return e.selectFn(arg)
	case "Fn::Split":
		return e.split(arg)
	case "Fn::If":
		return e.ifFn(arg)
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return e.boolFn(name, arg)
	case "Fn::FindInMap":
		return e.findInMap(arg)
	case "Fn::Base64":
		s, err := e.evalString(arg)
		if err != nil {
			return nil, fmt.Errorf("Fn::Base64: %w", err)
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::ImportValue", "Fn::GetAZs", "Fn::Cidr", "Fn::Transform", "Fn::Length",
		"Fn::ToJsonString", "Fn::ForEach":
		return nil, fmt.Errorf("intrinsic function %s cannot be emulated locally", name)
	}
	return nil, fmt.Errorf("unknown intrinsic function %s", name)
}

// ref resolves Ref: pseudo parameters, then parameters, then resources.
func (e *evaluator) ref(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return e.env.Region, nil
	case "AWS::AccountId":
		return e.env.AccountID, nil
	case "AWS::StackName":
		return e.env.StackName, nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/local", e.env.Region, e.env.AccountID, e.env.StackName), nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	case "AWS::NoValue":
		return noValue{}, nil
	}
	if p, ok := e.params[name]; ok {
		v, ok := e.values[name]
		if !ok {
			return nil, fmt.Errorf("parameter %s has no Default and no override", name)
		}
		if p.isList() {
			parts := strings.Split(v, ",")
			out := make([]any, len(parts))
			for i, s := range parts {
				out[i] = strings.TrimSpace(s)
			}
			return out, nil
		}
		return v, nil
	}
	if r, ok := e.resources[name]; ok {
		return e.resourceRef(r), nil
	}
	return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
}

// localName is the name a resource has in the local stack: the prefix keeps parallel test stacks
// apart in one DynamoDB Local.
func (e *evaluator) localName(logicalID string) string { return e.env.TablePrefix + logicalID }

// resourceRef is what Ref returns for a resource, by type, as close to the deployed value as a
// local stack can make it.
func (e *evaluator) resourceRef(r resource) string {
	reg, acct, name := e.env.Region, e.env.AccountID, e.localName(r.LogicalID)
	switch r.Type {
	case "AWS::DynamoDB::Table":
		return name
	case "AWS::Serverless::Function", "AWS::Lambda::Function":
		// Locally a function is invoked by its logical id (sam local does the same).
		return r.LogicalID
	case "AWS::SQS::Queue":
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", reg, acct, name)
	case "AWS::SNS::Topic", "AWS::SecretsManager::Secret":
		return e.arn(r)
	case "AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api":
		return localAPIID
	}
	return name
}

// arn makes a local ARN for a resource from its type: AWS::SQS::Queue → arn:aws:sqs:….
func (e *evaluator) arn(r resource) string {
	reg, acct, name := e.env.Region, e.env.AccountID, e.localName(r.LogicalID)
	switch r.Type {
	case "AWS::DynamoDB::Table":
		return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", reg, acct, name)
	case "AWS::Serverless::Function", "AWS::Lambda::Function":
		return functionARN(reg, acct, r.LogicalID)
	case "AWS::SQS::Queue", "AWS::SNS::Topic":
		svc := strings.ToLower(strings.Split(r.Type, "::")[1])
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", svc, reg, acct, name)
	case "AWS::SecretsManager::Secret":
		return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s", reg, acct, name)
	}
	svc := "local"
	if parts := strings.Split(r.Type, "::"); len(parts) == 3 {
		svc = strings.ToLower(parts[1])
	}
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", svc, reg, acct, name)
}

func functionARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name)
}

func (e *evaluator) getAtt(arg any) (any, error) {
	list, ok := arg.([]any)
	if !ok || len(list) != 2 {
		return nil, fmt.Errorf("Fn::GetAtt: want [Resource, Attribute]")
	}
	resName, ok := list[0].(string)
	if !ok {
		return nil, fmt.Errorf("Fn::GetAtt: resource name must be a string")
	}
	attr, err := e.evalString(list[1])
	if err != nil {
		return nil, fmt.Errorf("Fn::GetAtt %s: %w", resName, err)
	}
	r, ok := e.resources[resName]
	if !ok {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no such resource", resName, attr)
	}
	switch {
	case attr == "Arn":
		return e.arn(r), nil
	case r.Type == "AWS::DynamoDB::Table" && attr == "StreamArn":
		// A stand-in: DynamoDB Local makes up its own stream ARNs (region "ddblocal"), and the
		// stream poller looks the real one up by table, so this value is only ever displayed.
		return e.arn(r) + "/stream/local", nil
	case r.Type == "AWS::SQS::Queue" && attr == "QueueUrl":
		return e.resourceRef(r), nil
	case strings.HasSuffix(attr, "Name"):
		return e.localName(r.LogicalID), nil
	}
	return fmt.Sprintf("%s.%s", e.localName(r.LogicalID), attr), nil
}

// sub implements Fn::Sub: "${Param}", "${Resource.Attr}", "${!Literal}", with an optional map of
// extra variables.
func (e *evaluator) sub(arg any) (any, error) {
	var tmpl string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub: want a string or [string, {vars}]")
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub: template must be a string")
		}
		tmpl = s
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub: variables must be a map")
		}
		vars = m
	default:
		return nil, fmt.Errorf("Fn::Sub: want a string or [string, {vars}], got %T", arg)
	}

	var b strings.Builder
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			b.WriteString(tmpl)
			return b.String(), nil
		}
		b.WriteString(tmpl[:i])
		rest := tmpl[i+2:]
		j := strings.Index(rest, "}")
		if j < 0 {
			return nil, fmt.Errorf("Fn::Sub: unterminated ${ in %q", tmpl)
		}
		name := rest[:j]
		tmpl = rest[j+1:]
		if strings.HasPrefix(name, "!") { // ${!Literal} writes ${Literal}
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		val, err := e.subVar(strings.TrimSpace(name), vars)
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		b.WriteString(val)
	}
}

func (e *evaluator) subVar(name string, vars map[string]any) (string, error) {
	if v, ok := vars[name]; ok {
		return e.evalString(v)
	}
	if res, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
		return e.evalString(map[string]any{"Fn::GetAtt": []any{res, attr}})
	}
	return e.evalString(map[string]any{"Ref": name})
}

func (e *evaluator) join(arg any) (any, error) {
	list, ok := arg.([]any)
	if !ok || len(list) != 2 {
		return nil, fmt.Errorf("Fn::Join: want [delimiter, [values]]")
	}
	delim, ok := list[0].(string)
	if !ok {
		return nil, fmt.Errorf("Fn::Join: delimiter must be a string")
	}
	items, err := e.evalList(list[1])
	if err != nil {
		return nil, fmt.Errorf("Fn::Join: %w", err)
	}
	parts := make([]string, len(items))
	for i, it := range items {
		s, err := scalarString(it)
		if err != nil {
			return nil, fmt.Errorf("Fn::Join [%d]: %w", i, err)
		}
		parts[i] = s
	}
	return strings.Join(parts, delim), nil
}

func (e *evaluator) selectFn(arg any) (any, error) {
	list, ok := arg.([]any)
	if !ok || len(list) != 2 {
		return nil, fmt.Errorf("Fn::Select: want [index, [values]]")
	}
	is, err := e.evalString(list[0])
	if err != nil {
		return nil, fmt.Errorf("Fn::Select: %w", err)
	}
	idx, err := strconv.Atoi(is)
	if err != nil {
		return nil, fmt.Errorf("Fn::Select: index %q is not a number", is)
	}
	items, err := e.evalList(list[1])
	if err != nil {
		return nil, fmt.Errorf("Fn::Select: %w", err)
	}
	if idx < 0 || idx >= len(items) {
		return nil, fmt.Errorf("Fn::Select: index %d out of range (%d values)", idx, len(items))
	}
	return items[idx], nil
}

func (e *evaluator) split(arg any) (any, error) {
	list, ok := arg.([]any)
	if !ok || len(list) != 2 {
		return nil, fmt.Errorf("Fn::Split: want [delimiter, string]")
	}
	delim, ok := list[0].(string)
	if !ok {
		return nil, fmt.Errorf("Fn::Split: delimiter must be a string")
	}
	s, err := e.evalString(list[1])
	if err != nil {
		return nil, fmt.Errorf("Fn::Split: %w", err)
	}
	var out []any
	for _, p := range strings.Split(s, delim) {
		out = append(out, p)
	}
	return out, nil
}

func (e *evaluator) ifFn(arg any) (any, error) {
	list, ok := arg.([]any)
	if !ok || len(list) != 3 {
		return nil, fmt.Errorf("Fn::If: want [condition, valueIfTrue, valueIfFalse]")
	}
	name, ok := list[0].(string)
	if !ok {
		return nil, fmt.Errorf("Fn::If: condition must be a name")
	}
	c, err := e.condition(name)
	if err != nil {
		return nil, fmt.Errorf("Fn::If: %w", err)
	}
	if c {
		return e.eval(list[1])
	}
	return e.eval(list[2])
}

func (e *evaluator) boolFn(name string, arg any) (any, error) {
	list, ok := arg.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a list", name)
	}
	switch name {
	case "Fn::Equals":
		if len(list) != 2 {
			return nil, fmt.Errorf("Fn::Equals: want [a, b]")
		}
		a, err := e.evalString(list[0])
		if err != nil {
			return nil, fmt.Errorf("Fn::Equals: %w", err)
		}
		b, err := e.evalString(list[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Equals: %w", err)
		}
		return a == b, nil
	case "Fn::Not":
		if len(list) != 1 {
			return nil, fmt.Errorf("Fn::Not: want [condition]")
		}
		b, err := e.evalBool(list[0])
		return !b, err
	}
	// Fn::And / Fn::Or
	for _, el := range list {
		b, err := e.evalBool(el)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if name == "Fn::And" && !b {
			return false, nil
		}
		if name == "Fn::Or" && b {
			return true, nil
		}
	}
	return name == "Fn::And", nil
}

func (e *evaluator) findInMap(arg any) (any, error) {
	list, ok := arg.([]any)
	if !ok || len(list) < 3 {
		return nil, fmt.Errorf("Fn::FindInMap: want [map, topKey, secondKey]")
	}
	keys := make([]string, 3)
	for i := range 3 {
		s, err := e.evalString(list[i])
		if err != nil {
			return nil, fmt.Errorf("Fn::FindInMap: %w", err)
		}
		keys[i] = s
	}
	v := any(e.mappings)
	for _, k := range keys {
		m := mapOf(v)
		if m == nil {
			return nil, fmt.Errorf("Fn::FindInMap %s: no such key", strings.Join(keys, "."))
		}
		if v, ok = m[k]; !ok {
			return nil, fmt.Errorf("Fn::FindInMap %s: no such key", strings.Join(keys, "."))
		}
	}
	return e.eval(v)
}

// condition evaluates a named condition once and caches it.
func (e *evaluator) condition(name string) (bool, error) {
	if b, ok := e.condCache[name]; ok {
		return b, nil
	}
	def, ok := e.conditions[name]
	if !ok {
		return false, fmt.Errorf("no such condition %s", name)
	}
	if e.condBusy[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	e.condBusy[name] = true
	defer delete(e.condBusy, name)
	b, err := e.evalBool(def)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	e.condCache[name] = b
	return b, nil
}

func (e *evaluator) evalBool(v any) (bool, error) {
	r, err := e.eval(v)
	if err != nil {
		return false, err
	}
	switch b := r.(type) {
	case bool:
		return b, nil
	case string:
		if p, err := strconv.ParseBool(b); err == nil {
			return p, nil
		}
	}
	return false, fmt.Errorf("want a condition, got %v", r)
}

func (e *evaluator) evalString(v any) (string, error) {
	r, err := e.eval(v)
	if err != nil {
		return "", err
	}
	return scalarString(r)
}

func (e *evaluator) evalList(v any) ([]any, error) {
	r, err := e.eval(v)
	if err != nil {
		return nil, err
	}
	list, ok := r.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list, got %T", r)
	}
	return list, nil
}

// scalarString renders an evaluated scalar the way CloudFormation stringifies it.
func scalarString(v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case bool:
		return strconv.FormatBool(s), nil
	case nil:
		return "", fmt.Errorf("value is empty")
	case noValue:
		return "", fmt.Errorf("value is AWS::NoValue")
	}
	return "", fmt.Errorf("want a string, got %T", v)
}
