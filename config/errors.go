package config

import (
	"fmt"
	"strings"
)

// Error is one mistake in a configuration file, with its place.
type Error struct {
	File string
	// Line is 1-based; 0 when the mistake has no single line.
	Line int
	// Key is the setting at fault ("policy", "peer[2].identity"); empty
	// for syntax errors.
	Key string
	Msg string
}

func (e *Error) Error() string {
	var sb strings.Builder
	sb.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&sb, ":%d", e.Line)
	}
	sb.WriteString(": ")
	if e.Key != "" {
		sb.WriteString(e.Key + ": ")
	}
	sb.WriteString(e.Msg)
	return sb.String()
}

// Errors is every mistake found in a file, in the order of its lines.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}
