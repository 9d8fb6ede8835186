package localstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// buildParallelism bounds concurrent `go build`s: each is itself parallel, and more than two at
// once only makes them fight over the CPU and the build cache lock.
const buildParallelism = 2

// BuildError is a failed `go build` of one function, with the compiler's output.
type BuildError struct {
	Function string
	Package  string
	Output   string
	Err      error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("build %s (%s): %v\n%s", e.Function, e.Package, e.Err, strings.TrimSpace(e.Output))
}

func (e *BuildError) Unwrap() error { return e.Err }

// FindModuleRoot returns the nearest directory at or above dir holding go.mod.
func FindModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod at or above %s", dir)
		}
	}
}

// BuildFunctions builds each function's bootstrap into outDir/<LogicalId>/bootstrap, as sam build
// does, but for the host's OS and architecture so the binary can run here. It returns logical id →
// binary path, and every failed build's output.
func BuildFunctions(ctx context.Context, moduleRoot, outDir string, fns []*Function) (map[string]string, error) {
	var (
		mu   sync.Mutex
		bins = map[string]string{}
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, buildParallelism)
	)
	for _, f := range fns {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				errs = append(errs, fmt.Errorf("build %s: %w", f.LogicalID, ctx.Err()))
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			bin, err := buildFunction(ctx, moduleRoot, outDir, f)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			bins[f.LogicalID] = bin
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return bins, nil
}

func buildFunction(ctx context.Context, moduleRoot, outDir string, f *Function) (string, error) {
	rel, err := filepath.Rel(moduleRoot, f.CodeDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("build %s: CodeUri %s is outside the module at %s", f.LogicalID, f.CodeURI, moduleRoot)
	}
	pkg := "./" + filepath.ToSlash(rel)
	bin := filepath.Join(outDir, f.LogicalID, "bootstrap")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", f.LogicalID, err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "lambda.norpc", "-o", bin, pkg)
	cmd.Dir = moduleRoot
	// The caller's GOOS/GOARCH (say, arm64 for a sam build in the same shell) must not leak in:
	// the binary runs on this machine.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", &BuildError{Function: f.LogicalID, Package: pkg, Output: out.String(), Err: err}
	}
	return bin, nil
}
