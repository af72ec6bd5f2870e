package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestLogFormat: --log-format picks the handler, and a wrong value is a
// usage error naming the flag.
func TestLogFormat(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "text", "json" or "" for a usage error
	}{
		{nil, "text"},
		{[]string{"--log-format", "text"}, "text"},
		{[]string{"--log-format", "json"}, "json"},
		{[]string{"--log-format", "xml"}, ""},
	} {
		o, err := parseUp(tc.args, &bytes.Buffer{})
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), "--log-format") {
				t.Errorf("%v: err %v, want a usage error naming --log-format", tc.args, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		var out bytes.Buffer
		newLogger(&out, o.logFormat, slog.LevelInfo).Info("iaxcrypt up", "tun", "iax0")
		newLogger(&out, o.logFormat, slog.LevelInfo).Debug("hidden")
		line := strings.TrimSpace(out.String())
		if strings.Contains(line, "\n") || strings.Contains(line, "hidden") {
			t.Errorf("%v: want one info line, got %q", tc.args, line)
		}
		var rec map[string]any
		isJSON := json.Unmarshal([]byte(line), &rec) == nil
		switch {
		case tc.want == "json" && (!isJSON || rec["msg"] != "iaxcrypt up" || rec["tun"] != "iax0"):
			t.Errorf("%v: want a JSON record with msg and tun, got %q", tc.args, line)
		case tc.want == "text" && (isJSON || !strings.Contains(line, `msg="iaxcrypt up" tun=iax0`)):
			t.Errorf("%v: want key=value text, got %q", tc.args, line)
		}
	}
}
