package bench

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuShares is CPU time by process group over one run: where a referral's cost goes on this
// machine. Linux only (/proc); elsewhere it stays empty and the report leaves it out.
type cpuShares struct {
	Test      time.Duration // this process: the load generator, the local HTTP API and Runtime API
	Functions time.Duration // the function processes the stack started (children of this process)
	DynamoDB  time.Duration // DynamoDB Local's JVM
}

func (c cpuShares) total() time.Duration { return c.Test + c.Functions + c.DynamoDB }

func (c cpuShares) sub(d cpuShares) cpuShares {
	return cpuShares{Test: c.Test - d.Test, Functions: c.Functions - d.Functions, DynamoDB: c.DynamoDB - d.DynamoDB}
}

// clockTicks is USER_HZ, which is 100 on every Linux this runs on.
const clockTicks = 100

// sampleCPU reads the CPU time used so far by this process, its children and DynamoDB Local
// (the java process listening on endpoint's port). Exited children are not counted: sample while
// the stack runs.
func sampleCPU(endpoint string) cpuShares {
	var c cpuShares
	self := os.Getpid()
	port := ""
	if u, err := url.Parse(endpoint); err == nil {
		port = u.Port()
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(dir))
		ppid, used, ok := procStat(dir)
		if !ok {
			continue
		}
		switch {
		case pid == self:
			c.Test += used
		case ppid == self:
			c.Functions += used
		case port != "":
			cmd, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
			args := strings.Split(string(bytes.TrimRight(cmd, "\x00")), "\x00")
			if strings.Contains(string(cmd), "DynamoDB") && hasPair(args, "-port", port) {
				c.DynamoDB += used
			}
		}
	}
	return c
}

func hasPair(args []string, flag, value string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && args[i+1] == value {
			return true
		}
	}
	return false
}

// procStat returns a process's parent and its user+system CPU time from /proc/<pid>/stat.
func procStat(dir string) (int, time.Duration, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return 0, 0, false
	}
	// The command name is in parentheses and may hold spaces; fields follow the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, _ := strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, time.Duration(utime+stime) * time.Second / clockTicks, true
}

// per divides the run's CPU time by the referrals it accepted.
func (c cpuShares) per(n int) cpuShares {
	n = max(n, 1)
	div := func(d time.Duration) time.Duration { return d / time.Duration(n) }
	return cpuShares{Test: div(c.Test), Functions: div(c.Functions), DynamoDB: div(c.DynamoDB)}
}

// cpuText says where a referral's CPU time went in a throughput run ("" without /proc).
func (r throughputResult) cpuText() string {
	p := r.CPU.per(r.OK)
	if p.total() == 0 {
		return ""
	}
	return fmt.Sprintf("%s (DynamoDB Local %s, the function %s, the local HTTP API, Runtime API and load generator %s)",
		ms(p.total()), ms(p.DynamoDB), ms(p.Functions), ms(p.Test))
}

// loadAverage is the 1-minute load average (0 without /proc).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
