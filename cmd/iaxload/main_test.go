package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/internal/load"
)

func TestFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "usage"},
		{[]string{"frob"}, "unknown command"},
		{[]string{"call"}, "--to is required"},
		{[]string{"call", "--to", "host:1"}, "give IP:PORT"},
		{[]string{"call", "--to", "10.0.0.1:4569", "--calls", "40000"}, "15 bits"},
		{[]string{"answer", "--payload", "8"}, "payload of 8 bytes"},
		{[]string{"merge", "one.json"}, "usage: iaxload merge"},
	} {
		var out, errb bytes.Buffer
		if code := run(tt.args, &out, &errb); code == 0 || !strings.Contains(errb.String()+out.String(), tt.want) {
			t.Errorf("%v: exit %d, output %q; want an error saying %q", tt.args, code, errb.String(), tt.want)
		}
	}
}

func TestMergeCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r load.Report) string {
		b, _ := json.Marshal(r)
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	a := write("a.json", load.Report{Role: "caller", Sent: load.SentReport{Voice: 100}, Received: load.ReceivedReport{Frames: 90}})
	b := write("b.json", load.Report{Role: "callee", Sent: load.SentReport{Voice: 100}, Received: load.ReceivedReport{Frames: 99}})
	var out, errb bytes.Buffer
	if code := run([]string{"merge", "--json", a, b}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var p load.PathReport
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.CallerTo.Lost != 1 || p.CalleeTo.Lost != 10 || p.Both.Lost != 11 {
		t.Fatalf("%+v", p)
	}
	if code := run([]string{"merge", b, a}, &out, &errb); code == 0 {
		t.Fatal("merge of a callee's and a caller's report in the wrong order accepted")
	}
}
