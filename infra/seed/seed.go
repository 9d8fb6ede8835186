// Package seed loads directory files into a directory table: `make local` and the end-to-end
// tests seed through it, so both see the same areas, prefixes and demo people.
package seed

import (
	"context"
	"fmt"
	"os"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/directory"
)

// Directory parses each file (later files add to earlier ones) and imports the merge into table.
func Directory(ctx context.Context, client dynamo.DirectoryAPI, table string, paths ...string) error {
	files := make([]directory.File, 0, len(paths))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("seed directory: %w", err)
		}
		parsed, err := directory.Parse(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("seed directory from %s: %w", p, err)
		}
		files = append(files, parsed)
	}
	merged := directory.Merge(files...)
	if err := merged.Validate(); err != nil {
		return fmt.Errorf("seed directory: %w", err)
	}
	if err := dynamo.NewDirectory(client, table).Import(ctx, merged); err != nil {
		return fmt.Errorf("seed directory into %s: %w", table, err)
	}
	return nil
}
