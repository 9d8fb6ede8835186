// Package shared_test keeps shared/'s folder tree honest about its layers: dependencies point
// inward, edges → domain ← adapters, so the domain decides without knowing who stores or sends.
package shared_test

import (
	"go/build"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ipspc/referrals/"

// allowed lists, for each layer of shared/, the layers of shared/ its (non-test) code may import.
// Edges translate between the outside and everything else, so they may use every layer.
var allowed = map[string][]string{
	"domain":   {"domain", "lib"},
	"adapters": {"domain", "lib"},
	"render":   {"render", "domain", "lib"},
	"edges":    {"edges", "adapters", "render", "domain", "lib"},
	"lib":      {"lib"},
}

// layerOf returns the layer of an import path inside shared/ ("domain" for
// .../shared/domain/referral), or "" for a path outside shared/.
func layerOf(path string) string {
	rest, ok := strings.CutPrefix(path, module+"shared/")
	if !ok {
		return ""
	}
	layer, _, _ := strings.Cut(rest, "/")
	return layer
}

// violations lists each import of pkgs (import path → imports) that points the wrong way, or
// a package in no known layer.
func violations(pkgs map[string][]string) []string {
	var out []string
	for pkg, imports := range pkgs {
		layer := layerOf(pkg)
		may, known := allowed[layer]
		if !known {
			out = append(out, pkg+" is in no layer of shared/ ("+strings.Join(slices.Sorted(maps.Keys(allowed)), ", ")+")")
			continue
		}
		for _, imp := range imports {
			if l := layerOf(imp); l != "" && !slices.Contains(may, l) {
				out = append(out, pkg+" ("+layer+") imports "+imp+" ("+l+")")
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestLayersPointInward(t *testing.T) {
	pkgs := map[string][]string{}
	err := filepath.WalkDir(".", func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); dir != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(dir, 0)
		switch {
		case dir == ".":
			return nil // this test
		case err != nil && strings.Contains(err.Error(), "no buildable Go source files"):
			return nil // a folder of packages
		case err != nil:
			return err
		}
		pkgs[module+"shared/"+filepath.ToSlash(dir)] = p.Imports
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 20 {
		t.Fatalf("found %d packages under shared/, want the whole tree (at least 20)", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// The checker catches each kind of wrong-way import and passes the right ones.
func TestViolations(t *testing.T) {
	s := func(p string) string { return module + "shared/" + p }
	tests := []struct {
		name    string
		pkg     string
		imports []string
		want    int
	}{
		{"domain uses lib", s("domain/referral"), []string{s("lib/calendar"), "fmt"}, 0},
		{"domain imports an adapter", s("domain/referral"), []string{s("adapters/dynamo")}, 1},
		{"domain imports an edge and a renderer", s("domain/referral"), []string{s("edges/notify"), s("render/email")}, 2},
		{"adapter uses the domain", s("adapters/dynamo"), []string{s("domain/referral"), s("lib/calendar")}, 0},
		{"adapter imports an edge", s("adapters/dynamo"), []string{s("edges/notify")}, 1},
		{"adapter imports a renderer", s("adapters/ses"), []string{s("render/email")}, 1},
		{"adapter imports another technology's adapter", s("adapters/ses"), []string{s("adapters/dynamo")}, 1},
		{"renderer imports an edge", s("render/email"), []string{s("edges/notify")}, 1},
		{"renderer imports an adapter", s("render/web"), []string{s("adapters/dynamo")}, 1},
		{"lib imports the domain", s("lib/signedlink"), []string{s("domain/referral")}, 1},
		{"edge uses everything", s("edges/notify"), []string{s("adapters/ses"), s("render/email"), s("domain/referral"), s("lib/calendar")}, 0},
		{"a package in no layer", s("misc/things"), nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := violations(map[string][]string{tt.pkg: tt.imports}); len(got) != tt.want {
				t.Errorf("violations = %q, want %d", got, tt.want)
			}
		})
	}
}
