package asterisktest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultBindPort is chan_iax2's port when Config.BindPort is zero.
const DefaultBindPort = 4569

// DefaultIAXGeneral is what [general] of iax.conf holds, after bindport,
// when Config.IAXGeneral is nil: the settings of the PBX-to-PBX captures in
// ../shared/captures/asterisk22 (G.711 µ-law only, no jitter buffer, trunk
// frames every 20 ms).
var DefaultIAXGeneral = []string{"disallow=all", "allow=ulaw", "jitterbuffer=no", "trunkfreq=20"}

// modules are the modules an instance loads: those scripts/asterisk-build.sh
// builds. Those marked required stop Asterisk from booting if they fail to
// load, so a broken build shows at start rather than as a failed call.
var modules = []struct {
	name     string
	required bool
}{
	{"res_timing_timerfd.so", true}, // IAX2 trunking needs a timing module
	{"res_crypto.so", false},
	{"chan_iax2.so", true},
	{"pbx_config.so", true},
	{"app_dial.so", true},
	{"app_echo.so", false},
	{"app_playback.so", false},
	{"codec_ulaw.so", true},
	{"codec_alaw.so", false},
	{"format_wav.so", false},
	{"format_pcm.so", false},
	{"bridge_simple.so", true}, // Dial bridges the two channels
	{"bridge_builtin_features.so", false},
}

// Section is one [name] of a configuration file, with its lines in order
// ("key=value", or "exten => ..." in extensions.conf).
type Section struct {
	Name  string
	Lines []string
}

// Config is what a PBX instance is configured with beyond the fixed parts
// (directories, modules, logging).
type Config struct {
	// Name labels the instance in messages and file names ("pbxA").
	Name string
	// BindPort is chan_iax2's UDP port; 0 means DefaultBindPort.
	BindPort int
	// IAXGeneral is [general] of iax.conf after bindport; nil means
	// DefaultIAXGeneral.
	IAXGeneral []string
	// IAX are the other sections of iax.conf: peers, users, friends.
	IAX []Section
	// Dialplan are the contexts of extensions.conf.
	Dialplan []Section
}

func (c Config) bindPort() int {
	if c.BindPort == 0 {
		return DefaultBindPort
	}
	return c.BindPort
}

// files returns the configuration files of an instance whose scratch
// folder is dir, by name, for the Asterisk in.
func (c Config) files(in Install, dir string) map[string]string {
	general := c.IAXGeneral
	if general == nil {
		general = DefaultIAXGeneral
	}
	iax := append([]Section{{Name: "general", Lines: append([]string{fmt.Sprintf("bindport=%d", c.bindPort()), "bindaddr=0.0.0.0"}, general...)}}, c.IAX...)
	return map[string]string{
		"asterisk.conf":   asteriskConf(in, dir),
		"modules.conf":    modulesConf(),
		"logger.conf":     loggerConf(),
		"iax.conf":        renderSections(iax),
		"extensions.conf": renderSections(append([]Section{{Name: "general", Lines: []string{"static=yes", "writeprotect=yes"}}}, c.Dialplan...)),
	}
}

// asteriskConf points every directory but the modules and binaries into
// the instance's scratch folder, so instances share nothing.
func asteriskConf(in Install, dir string) string {
	var b strings.Builder
	b.WriteString("[directories]\n")
	for _, d := range []struct{ key, path string }{
		{"astcachedir", filepath.Join(dir, "cache")},
		{"astetcdir", filepath.Join(dir, "etc")},
		{"astmoddir", in.ModuleDir()},
		{"astvarlibdir", filepath.Join(dir, "lib")},
		{"astdbdir", filepath.Join(dir, "lib")},
		{"astkeydir", filepath.Join(dir, "lib")},
		{"astdatadir", filepath.Join(dir, "lib")},
		{"astagidir", filepath.Join(dir, "lib", "agi-bin")},
		{"astspooldir", filepath.Join(dir, "spool")},
		{"astrundir", filepath.Join(dir, "run")},
		{"astlogdir", filepath.Join(dir, "log")},
		{"astsbindir", filepath.Join(in.Prefix, "sbin")},
	} {
		fmt.Fprintf(&b, "%s => %s\n", d.key, d.path)
	}
	b.WriteString("\n[options]\nverbose = 3\nnocolor = yes\ncache_record_files = no\n")
	return b.String()
}

func modulesConf() string {
	var b strings.Builder
	b.WriteString("[modules]\nautoload = no\n")
	for _, m := range modules {
		verb := "load"
		if m.required {
			verb = "require"
		}
		fmt.Fprintf(&b, "%s => %s\n", verb, m.name)
	}
	return b.String()
}

// loggerConf logs everything up to verbose level to log/full (read by
// PBX.Log), with milliseconds, to line up with captures and daemon logs.
func loggerConf() string {
	return "[general]\ndateformat = %F %T.%3q\n\n[logfiles]\nfull => notice,warning,error,verbose\n"
}

func renderSections(sections []Section) string {
	var b strings.Builder
	for i, s := range sections {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[%s]\n", s.Name)
		for _, l := range s.Lines {
			b.WriteString(l)
			b.WriteString("\n")
		}
	}
	return b.String()
}

// writeFiles creates the instance's folders and writes its configuration.
func (c Config) writeFiles(in Install, dir string) error {
	for _, sub := range []string{"cache", "etc", "lib", "lib/agi-bin", "spool", "run", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	for name, text := range c.files(in, dir) {
		if err := os.WriteFile(filepath.Join(dir, "etc", name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}
