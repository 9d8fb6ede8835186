package localstack

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// A template is decoded into plain Go values: map[string]any, []any, string and nil. Scalars stay
// strings (CloudFormation stringifies environment values anyway, and typed accessors parse numbers
// and booleans where a property needs them), and every intrinsic function, short or long form,
// becomes the long form: a one-key map such as {"Ref": "X"} or {"Fn::GetAtt": ["X", "Arn"]}.
// The evaluator then only has one shape to understand.

// DecodeTemplate decodes a CloudFormation/SAM template into plain values, as described above: the
// one reading of template.yaml that the local stack and the template's own tests share.
func DecodeTemplate(src []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	raw, err := decodeNode(&doc)
	if err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	root := mapOf(raw)
	if root == nil {
		return nil, fmt.Errorf("template is not a mapping")
	}
	return root, nil
}

// decodeNode converts a yaml.v3 node tree into plain values, turning short-form tags (!Ref, !Sub…)
// into their long forms.
func decodeNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decodeNode(n.Content[0])
	case yaml.AliasNode:
		return decodeNode(n.Alias)
	}

	if tag := n.Tag; strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		return decodeShortForm(n)
	}

	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := decodeNode(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			v, err := decodeNode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

// decodeShortForm turns `!Name value` into {"Fn::Name": value} ({"Ref": …} and {"Condition": …}
// for the two intrinsics without the Fn:: prefix).
func decodeShortForm(n *yaml.Node) (any, error) {
	name := strings.TrimPrefix(n.Tag, "!")
	inner := *n
	inner.Tag = ""
	if inner.Kind == yaml.ScalarNode {
		inner.Tag = "!!str"
	}
	v, err := decodeNode(&inner)
	if err != nil {
		return nil, err
	}
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		// The short form takes "Resource.Attribute"; attributes may contain dots themselves
		// (Endpoint.Address), so only the first dot separates.
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, s)
			}
			return map[string]any{"Fn::GetAtt": []any{res, attr}}, nil
		}
	}
	return map[string]any{"Fn::" + name: v}, nil
}

// intrinsicName reports whether v is an intrinsic function call ({"Ref": …}, {"Fn::X": …},
// {"Condition": …}) and returns its name and argument.
func intrinsicName(v any) (name string, arg any, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", nil, false
	}
	for k, a := range m {
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, a, true
		}
	}
	return "", nil, false
}

// mapOf returns v as a map, or nil when it is not one.
func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
