package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/iaxcrypt/iaxcrypt/config"
)

// upConfig is where the settings of `iaxcrypt up` came from: the command
// line, or the --config file for the flags the command line left alone
// (flags override the file).
type upConfig struct {
	file *config.File // nil without --config
	// fromFile holds the settings the file gave, by flag name.
	fromFile map[string]config.Setting
	errs     []error
}

// notFileKeys are flags without a top-level key: --config names the file,
// and --peer is `route = true` in a [[peer]] section.
var notFileKeys = []string{"config", "peer"}

// applyConfigFile reads the file and sets every flag it names that the
// command line did not set. Every mistake is collected, with its line.
func applyConfigFile(fs *pflag.FlagSet, path string) *upConfig {
	uc := &upConfig{fromFile: make(map[string]config.Setting)}
	if path == "" {
		return uc
	}
	f, err := config.Load(path)
	var errs config.Errors
	switch {
	case errors.As(err, &errs):
		for _, e := range errs {
			uc.errs = append(uc.errs, e)
		}
	case err != nil:
		uc.errs = append(uc.errs, err)
		return uc
	}
	if f == nil {
		return uc
	}
	uc.file = f
	var keys []string
	fs.VisitAll(func(fl *pflag.Flag) {
		if !slices.Contains(notFileKeys, fl.Name) {
			keys = append(keys, fl.Name)
		}
	})
	for _, s := range f.Settings {
		fl := fs.Lookup(s.Key)
		if fl == nil || slices.Contains(notFileKeys, s.Key) {
			uc.errs = append(uc.errs, f.Errorf(s.Key, "unknown key: the keys are the flags of iaxcrypt up (%s) and [[peer]] sections", strings.Join(keys, ", ")))
			continue
		}
		if want := wantType(fl.Value.Type(), s.Value); want != "" {
			uc.errs = append(uc.errs, f.Errorf(s.Key, "want %s, got %s", want, config.TypeName(s.Value)))
			continue
		}
		if fs.Changed(s.Key) {
			continue // the command line wins
		}
		if err := fs.Set(s.Key, s.String()); err != nil {
			uc.errs = append(uc.errs, f.Errorf(s.Key, "%q: %v", s.String(), err))
			continue
		}
		uc.fromFile[s.Key] = s
	}
	return uc
}

// wantType says what TOML type a flag of the given pflag type needs, or ""
// when v has it.
func wantType(flagType string, v any) string {
	switch flagType {
	case "bool":
		if _, ok := v.(bool); !ok {
			return "true or false"
		}
	case "string":
		if _, ok := v.(string); !ok {
			return "a string"
		}
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		if _, ok := v.(int64); !ok {
			return "an integer"
		}
	}
	return ""
}

// bad reports a wrong setting: at its line when it came from the file,
// as a command-line mistake otherwise. msg starts with the flag, as the
// command line shows it ("--listen ...").
func (uc *upConfig) bad(flag, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if _, ok := uc.fromFile[flag]; ok {
		// "--listen port 4569 is ..." becomes "FILE:LINE: listen: port 4569 is ...".
		msg = strings.TrimLeft(strings.TrimPrefix(msg, "--"+flag), " :")
		uc.errs = append(uc.errs, uc.file.Errorf(flag, "%s", msg))
		return
	}
	uc.errs = append(uc.errs, errors.New(msg))
}

// err returns the mistakes as one usage error, one per line.
func (uc *upConfig) err() error {
	if len(uc.errs) == 0 {
		return nil
	}
	line := func(err error) int {
		var ce *config.Error
		if errors.As(err, &ce) {
			return ce.Line
		}
		return 0 // command-line mistakes first
	}
	slices.SortStableFunc(uc.errs, func(a, b error) int { return line(a) - line(b) })
	return &usageError{errors.Join(uc.errs...)}
}
