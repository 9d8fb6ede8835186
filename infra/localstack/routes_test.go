package localstack

import (
	"maps"
	"testing"
)

func TestRouterMatch(t *testing.T) {
	decl := []struct{ method, path string }{
		{"GET", "/"},
		{"POST", "/referrals"},
		{"GET", "/referrals/{id}"},
		{"POST", "/referrals/{id}/contact"},
		{"ANY", "/referrals/{id}/close"},
		{"POST", "/referrals/{id}/close"},
		{"GET", "/referrals/export"},
		{"GET", "/assets/{proxy+}"},
		{"ANY", "/{proxy+}"},
	}
	var routes []Route
	for _, d := range decl {
		r, err := newRoute("Fn", d.method+d.path, d.method, d.path)
		if err != nil {
			t.Fatalf("newRoute(%s %s): %v", d.method, d.path, err)
		}
		routes = append(routes, r)
	}
	rt, err := newRouter(routes)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		method, path string
		wantKey      string // "" means no match
		wantParams   map[string]string
	}{
		{"GET", "/", "GET /", nil},
		{"POST", "/referrals", "POST /referrals", nil},
		{"GET", "/referrals/R-7K3M9QX2", "GET /referrals/{id}", map[string]string{"id": "R-7K3M9QX2"}},
		{"GET", "/referrals/export", "GET /referrals/export", nil}, // literal beats {id}
		{"POST", "/referrals/R-1/contact", "POST /referrals/{id}/contact", map[string]string{"id": "R-1"}},
		{"POST", "/referrals/R-1/close", "POST /referrals/{id}/close", map[string]string{"id": "R-1"}}, // method beats ANY
		{"DELETE", "/referrals/R-1/close", "ANY /referrals/{id}/close", map[string]string{"id": "R-1"}},
		{"GET", "/assets/css/nhsuk.min.css", "GET /assets/{proxy+}", map[string]string{"proxy": "css/nhsuk.min.css"}},
		{"GET", "/assets/a%20b.png", "GET /assets/{proxy+}", map[string]string{"proxy": "a b.png"}},
		{"GET", "/referrals/a%2Fb", "GET /referrals/{id}", map[string]string{"id": "a/b"}}, // an escaped slash stays in its segment
		{"POST", "/assets/x", "ANY /{proxy+}", map[string]string{"proxy": "assets/x"}},     // GET-only route, so the greedy ANY
		{"GET", "/referrals/", "ANY /{proxy+}", map[string]string{"proxy": "referrals/"}},  // an empty {id} does not match
		{"PUT", "/referrals", "ANY /{proxy+}", map[string]string{"proxy": "referrals"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r, params, ok := rt.match(tt.method, tt.path)
			if !ok {
				t.Fatalf("no match, want %s", tt.wantKey)
			}
			if r.RouteKey() != tt.wantKey {
				t.Errorf("route = %s, want %s", r.RouteKey(), tt.wantKey)
			}
			if !maps.Equal(params, tt.wantParams) {
				t.Errorf("params = %v, want %v", params, tt.wantParams)
			}
		})
	}
}

func TestRouterNoMatchAndDefault(t *testing.T) {
	mk := func(method, path string) Route {
		t.Helper()
		r, err := newRoute("Fn", "E", method, path)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name    string
		routes  []Route
		method  string
		path    string
		wantKey string
	}{
		{"unmatched path", []Route{mk("GET", "/a")}, "GET", "/b", ""},
		{"unmatched method", []Route{mk("GET", "/a")}, "POST", "/a", ""},
		{"greedy needs a segment", []Route{mk("GET", "/assets/{proxy+}")}, "GET", "/assets/", ""},
		{"greedy needs the prefix", []Route{mk("GET", "/assets/{proxy+}")}, "GET", "/assets", ""},
		{"HEAD is not GET", []Route{mk("GET", "/a")}, "HEAD", "/a", ""},
		{"$default catches the rest", []Route{mk("GET", "/a"), mk("", "$default")}, "POST", "/b", "$default"},
		{"$default loses to a match", []Route{mk("", "$default"), mk("GET", "/a")}, "GET", "/a", "GET /a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := newRouter(tt.routes)
			if err != nil {
				t.Fatal(err)
			}
			r, _, ok := rt.match(tt.method, tt.path)
			switch {
			case tt.wantKey == "" && ok:
				t.Errorf("matched %s, want no match", r.RouteKey())
			case tt.wantKey != "" && (!ok || r.RouteKey() != tt.wantKey):
				t.Errorf("matched %q (%v), want %s", r.RouteKey(), ok, tt.wantKey)
			}
		})
	}
}

func TestRouterDuplicate(t *testing.T) {
	a, _ := newRoute("A", "E1", "GET", "/x")
	b, _ := newRoute("B", "E2", "get", "/x")
	if _, err := newRouter([]Route{a, b}); err == nil {
		t.Fatal("newRouter accepted GET /x twice")
	}
}
