//go:build !unix

package localstack

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Outside Unix there are no process groups to manage: the process itself is all we can stop.
// The local stack is developed on Linux and macOS; this keeps the package compiling elsewhere.

func startInGroup(cmd *exec.Cmd) error { return cmd.Start() }

func signalGroup(cmd *exec.Cmd, _ syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}

func stopGroup(cmd *exec.Cmd, exited <-chan struct{}, _ time.Duration) {
	_ = signalGroup(cmd, syscall.SIGKILL)
	<-exited
}

func processAlive(pid int) bool {
	_, err := os.FindProcess(pid)
	return err == nil
}
