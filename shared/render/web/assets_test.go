package web

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// nhsukDist is where npm installs nhsuk-frontend, relative to this package.
const nhsukDist = "../../../node_modules/nhsuk-frontend/dist/nhsuk"

// vendored maps each vendored file (a name in Assets) to its source in the npm package.
func vendored(tb testing.TB) map[string]string {
	tb.Helper()
	files := map[string]string{
		"nhsuk-frontend.min.css": "nhsuk-frontend.min.css",
		"nhsuk-frontend.min.js":  "nhsuk-frontend.min.js",
		"manifest.json":          "assets/manifest.json",
	}
	images, err := fs.ReadDir(Assets(), "images")
	if err != nil {
		tb.Fatalf("read images: %v", err)
	}
	for _, img := range images {
		files["images/"+img.Name()] = "assets/images/" + img.Name()
	}
	return files
}

// TestVendoredAssets checks the committed copies are the npm package's files, byte for byte, and
// that every image the package ships is vendored. See assets/README.txt to refresh them.
func TestVendoredAssets(t *testing.T) {
	if _, err := os.Stat(nhsukDist); err != nil {
		t.Skipf("node_modules/nhsuk-frontend not installed (run npm ci at the repository root to compare the vendored assets): %v", err)
	}
	pkg, err := os.ReadFile(filepath.Join(nhsukDist, "../../package.json"))
	if err != nil {
		t.Fatalf("read package.json: %v", err)
	}
	var meta struct{ Version string }
	if err := json.Unmarshal(pkg, &meta); err != nil {
		t.Fatalf("parse package.json: %v", err)
	}
	readme, err := os.ReadFile("assets/README.txt")
	if err != nil {
		t.Fatalf("read README.txt: %v", err)
	}
	if !strings.Contains(string(readme), "version "+meta.Version) {
		t.Errorf("node_modules has nhsuk-frontend %s but assets/README.txt names another version: refresh the assets", meta.Version)
	}

	files := vendored(t)
	for name, src := range files {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(nhsukDist, src))
			if err != nil {
				t.Fatalf("read npm copy: %v", err)
			}
			got, err := fs.ReadFile(Assets(), name)
			if err != nil {
				t.Fatalf("read vendored copy: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("assets/%s differs from %s/%s: refresh it (assets/README.txt)", name, nhsukDist, src)
			}
		})
	}

	shipped, err := os.ReadDir(filepath.Join(nhsukDist, "assets/images"))
	if err != nil {
		t.Fatalf("read npm images: %v", err)
	}
	for _, img := range shipped {
		if _, ok := files["images/"+img.Name()]; !ok {
			t.Errorf("images/%s is in the npm package but not vendored", img.Name())
		}
	}
}

// TestAssetsAreComplete checks that what the CSS, the manifest and init.js refer to is in Assets,
// and that nothing else (the README, the source maps) is served.
func TestAssetsAreComplete(t *testing.T) {
	assets := Assets()
	css, err := fs.ReadFile(assets, "nhsuk-frontend.min.css")
	if err != nil {
		t.Fatal(err)
	}
	urls := regexp.MustCompile(`url\(([^)]*)\)`).FindAllStringSubmatch(string(css), -1)
	if len(urls) == 0 {
		t.Fatal("no url() in the CSS")
	}
	for _, u := range urls {
		ref := strings.Trim(u[1], `"'`)
		if strings.HasPrefix(ref, "https://assets.nhs.uk/fonts/") || strings.HasPrefix(ref, "data:") {
			continue // the Frutiger font: blocked by the CSP, the CSS falls back to Arial (README.txt)
		}
		name, ok := strings.CutPrefix(ref, AssetPrefix)
		if !ok {
			t.Errorf("CSS refers to %q, outside %s", ref, AssetPrefix)
			continue
		}
		if _, err := fs.Stat(assets, name); err != nil {
			t.Errorf("CSS refers to %q: %v", ref, err)
		}
	}

	manifest, err := fs.ReadFile(assets, "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Icons []struct{ Src string } }
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	for _, icon := range m.Icons {
		if _, err := fs.Stat(assets, icon.Src); err != nil {
			t.Errorf("manifest icon %q: %v", icon.Src, err)
		}
	}

	init, err := fs.ReadFile(assets, "init.js")
	if err != nil {
		t.Fatal(err)
	}
	js, err := fs.ReadFile(assets, "nhsuk-frontend.min.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"import { initAll } from './nhsuk-frontend.min.js'", "nhsuk-frontend-supported", "initAll()"} {
		if !bytes.Contains(init, []byte(want)) {
			t.Errorf("init.js does not contain %q", want)
		}
	}
	if !regexp.MustCompile(`export\{[^}]*\binitAll\b`).Match(js) {
		t.Errorf("nhsuk-frontend.min.js does not export initAll: check init.js against this version")
	}

	err = fs.WalkDir(assets, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(name, ".map") || strings.HasSuffix(name, ".txt") {
			t.Errorf("%s should not be served", name)
		}
		if ct := AssetContentType(name); ct == "application/octet-stream" {
			t.Errorf("%s has no content type", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAssetContentType(t *testing.T) {
	tests := []struct{ name, want string }{
		{"nhsuk-frontend.min.css", "text/css; charset=utf-8"},
		{"init.js", "text/javascript; charset=utf-8"},
		{"images/favicon.svg", "image/svg+xml"},
		{"images/nhsuk-icon-180.png", "image/png"},
		{"images/favicon.ico", "image/x-icon"},
		{"images/FAVICON.ICO", "image/x-icon"},
		{"manifest.json", "application/manifest+json"},
		{"data.json", "application/json"},
		{"nhsuk-frontend.min.js.map", "application/json"},
		{"README", "application/octet-stream"},
		{"evil.html", "application/octet-stream"},
	}
	for _, tt := range tests {
		if got := AssetContentType(tt.name); got != tt.want {
			t.Errorf("AssetContentType(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
