package localstack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// samconfigLocalSection is where `sam local start-api` reads its parameter overrides; the local
// stack reads the same, so parameters without a default (SenderAddress…) get the same local values
// under both.
const samconfigLocalSection = "default.local_start_api.parameters"

// samconfigParameters returns the parameter_overrides of samconfig.toml's local start-api section
// in dir, or none when there is no file or no such section. It reads the subset of TOML that
// samconfig files use: [section] headers and key = "string" lines.
func samconfigParameters(dir string) (map[string]string, error) {
	src, err := os.ReadFile(filepath.Join(dir, "samconfig.toml"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[] ")
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if section != samconfigLocalSection || !ok || strings.TrimSpace(key) != "parameter_overrides" {
			continue
		}
		s, err := strconv.Unquote(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("samconfig.toml [%s] parameter_overrides: want one quoted string: %w", section, err)
		}
		return parseParameterOverrides(s)
	}
	return nil, sc.Err()
}

// parseParameterOverrides splits SAM's "Name=Value Name2=\"a value\"" form.
func parseParameterOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	for len(strings.TrimSpace(s)) > 0 {
		s = strings.TrimLeft(s, " \t")
		name, rest, ok := strings.Cut(s, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("parameter_overrides: want Name=Value, got %q", s)
		}
		var value string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("parameter_overrides: unterminated quote after %s=", name)
			}
			value, s = rest[1:1+end], rest[2+end:]
		} else {
			value, s, _ = strings.Cut(rest, " ")
		}
		out[name] = value
	}
	return out, nil
}
