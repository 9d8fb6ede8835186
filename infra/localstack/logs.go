package localstack

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// syncWriter serialises whole lines from many processes onto one writer, so lines never
// interleave mid-way.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) writeLine(prefix string, line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, "%s%s\n", prefix, line)
}

// lineWriter prefixes each line a process writes (with the function's logical id, as sam local
// shows them). Partial lines are held until their newline or Close.
type lineWriter struct {
	out    *syncWriter
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func newLineWriter(out *syncWriter, prefix string) *lineWriter {
	return &lineWriter{out: out, prefix: prefix}
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.out.writeLine(l.prefix, bytes.TrimSuffix(l.buf[:i], []byte("\r")))
		l.buf = l.buf[i+1:]
	}
	// A process that never ends its line must not grow the buffer without bound.
	if len(l.buf) > 64<<10 {
		l.out.writeLine(l.prefix, l.buf)
		l.buf = nil
	}
	return len(p), nil
}

// Close writes any unterminated last line.
func (l *lineWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.out.writeLine(l.prefix, l.buf)
		l.buf = nil
	}
	return nil
}
