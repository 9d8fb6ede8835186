package localstack

import (
	"fmt"
	"net/url"
	"strings"
)

// Route is an HttpApi event: METHOD /path → function.
type Route struct {
	Function string
	Event    string
	Method   string // upper case; "ANY" matches every method; "" for $default
	Path     string // "/referrals/{id}", "/assets/{proxy+}" or "$default"
	segments []segment
}

type segmentKind int

// Ordered by precedence: a literal segment beats a parameter, which beats a greedy parameter.
const (
	literalSegment segmentKind = iota
	paramSegment
	greedySegment
)

type segment struct {
	kind  segmentKind
	value string // the literal, or the parameter name
}

// RouteKey is the route key API Gateway puts in the event: "POST /referrals", "$default".
func (r Route) RouteKey() string {
	if r.Path == "$default" {
		return "$default"
	}
	return r.Method + " " + r.Path
}

func newRoute(function, event, method, path string) (Route, error) {
	r := Route{Function: function, Event: event, Method: strings.ToUpper(method), Path: path}
	if path == "$default" {
		return r, nil
	}
	if !strings.HasPrefix(path, "/") {
		return Route{}, fmt.Errorf("route path %q must start with /", path)
	}
	parts := strings.Split(path[1:], "/")
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
			if i != len(parts)-1 {
				return Route{}, fmt.Errorf("route path %q: a greedy parameter must be the last segment", path)
			}
			r.segments = append(r.segments, segment{greedySegment, p[1 : len(p)-2]})
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			r.segments = append(r.segments, segment{paramSegment, p[1 : len(p)-1]})
		case strings.ContainsAny(p, "{}"):
			return Route{}, fmt.Errorf("route path %q: a parameter must be a whole segment", path)
		default:
			r.segments = append(r.segments, segment{literalSegment, p})
		}
	}
	return r, nil
}

// router picks the route for a request the way API Gateway HTTP APIs do: the most specific path
// wins (literal segments before {param} before {proxy+}), a method beats ANY, and $default catches
// whatever is left.
type router struct {
	routes []Route
}

func newRouter(routes []Route) (*router, error) {
	seen := map[string]Route{}
	for _, r := range routes {
		if prev, dup := seen[r.RouteKey()]; dup {
			return nil, fmt.Errorf("route %q is declared by both %s.%s and %s.%s",
				r.RouteKey(), prev.Function, prev.Event, r.Function, r.Event)
		}
		seen[r.RouteKey()] = r
	}
	return &router{routes: routes}, nil
}

// match returns the route for method and escapedPath with its path parameters.
func (rt *router) match(method, escapedPath string) (Route, map[string]string, bool) {
	reqSegs := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	var (
		best       Route
		bestParams map[string]string
		bestScore  []int
		found      bool
		fallback   *Route
	)
	for i := range rt.routes {
		r := rt.routes[i]
		if r.Path == "$default" {
			fallback = &rt.routes[i]
			continue
		}
		if r.Method != "ANY" && r.Method != method {
			continue
		}
		params, ok := r.matchPath(reqSegs)
		if !ok {
			continue
		}
		score := r.score()
		if !found || lessScore(score, bestScore) {
			best, bestParams, bestScore, found = r, params, score, true
		}
	}
	if found {
		return best, bestParams, true
	}
	if fallback != nil {
		return *fallback, nil, true
	}
	return Route{}, nil, false
}

// matchPath matches request segments (still escaped) against the route's, returning decoded
// parameter values.
func (r Route) matchPath(req []string) (map[string]string, bool) {
	var params map[string]string
	set := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, s := range r.segments {
		if s.kind == greedySegment {
			rest := strings.Join(req[i:], "/")
			if i >= len(req) || rest == "" {
				return nil, false // {proxy+} needs at least one character
			}
			v, err := url.PathUnescape(rest)
			if err != nil {
				return nil, false
			}
			set(s.value, v)
			return params, true
		}
		if i >= len(req) {
			return nil, false
		}
		v, err := url.PathUnescape(req[i])
		if err != nil {
			return nil, false
		}
		switch s.kind {
		case literalSegment:
			if v != s.value {
				return nil, false
			}
		case paramSegment:
			if v == "" {
				return nil, false
			}
			set(s.value, v)
		}
	}
	if len(req) != len(r.segments) {
		return nil, false
	}
	return params, true
}

// score ranks a matching route: lower is more specific, compared element by element.
func (r Route) score() []int {
	s := make([]int, 0, len(r.segments)+1)
	for _, seg := range r.segments {
		s = append(s, int(seg.kind))
	}
	method := 0
	if r.Method == "ANY" {
		method = 1
	}
	// The method only breaks ties between equally specific paths, so it goes after a sentinel
	// that sorts below every segment kind.
	return append(s, -1, method)
}

func lessScore(a, b []int) bool {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}
