package main

import (
	"encoding"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/pflag"
)

// envPrefix starts every environment variable of the configuration.
const envPrefix = "ANOMALYD_"

// envConfigFile names the configuration file when --config is not given.
const envConfigFile = envPrefix + "CONFIG"

// ConfigError lists every problem found while loading a configuration.
type ConfigError struct {
	Problems []error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *ConfigError) Unwrap() []error { return e.Problems }

// loader layers a Config (see config.go) and remembers where each key's
// value came from, to say so in errors.
type loader struct {
	cfg      Config
	origin   map[string]string // "agent.max_groups" → "environment ANOMALYD_AGENT_MAX_GROUPS"
	problems []error
}

// loadConfig returns the configuration in effect: the defaults, then the
// file (file, or $ANOMALYD_CONFIG when file is ""), then env (KEY=VALUE
// strings, as os.Environ returns), then the flags of fs that the user set,
// whose values are read from flagCfg (the Config the flags are bound to,
// see addConfigFlags). It validates the result. Every problem is reported
// in one *ConfigError.
func loadConfig(file string, env []string, fs *pflag.FlagSet, flagCfg *Config) (Config, error) {
	l := &loader{cfg: DefaultConfig(), origin: make(map[string]string)}
	if file == "" {
		file = lookupEnv(env, envConfigFile)
	}
	if file != "" {
		l.file(file)
	}
	l.env(env)
	if fs != nil {
		l.flags(fs, flagCfg)
	}
	for _, err := range unjoin(l.cfg.Validate()) {
		l.problem(keyOf(err), err)
	}
	if len(l.problems) > 0 {
		return l.cfg, &ConfigError{Problems: l.problems}
	}
	return l.cfg, nil
}

// problem records err, prefixed with the origin of key's value if it did
// not come from the defaults.
func (l *loader) problem(key string, err error) {
	if o, ok := l.origin[key]; ok {
		err = fmt.Errorf("%s: %w", o, err)
	}
	l.problems = append(l.problems, err)
}

// keyOf returns the "section.key" an error of Config.Validate starts with.
func keyOf(err error) string {
	k, _, _ := strings.Cut(err.Error(), ": ")
	return k
}

// file decodes a TOML file key by key, so that every bad key is reported,
// not only the first.
func (l *loader) file(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		l.problems = append(l.problems, fmt.Errorf("config file: %w", err))
		return
	}
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(b), &top)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			err = fmt.Errorf("line %d: %s", perr.Position.Line, perr.Message)
		}
		l.problems = append(l.problems, fmt.Errorf("%s: %w", path, err))
		return
	}
	secs := make(map[string]section)
	for _, s := range sections(&l.cfg) {
		secs[s.name] = s
	}
	reported := make(map[string]bool)
	for _, name := range sortedKeys(top) {
		s, ok := secs[name]
		if !ok {
			l.problems = append(l.problems, fmt.Errorf("%s: unknown section [%s]; the sections are %s", path, name, sectionNames(&l.cfg)))
			reported[name] = true
			continue
		}
		var keys map[string]toml.Primitive
		if err := md.PrimitiveDecode(top[name], &keys); err != nil {
			l.problems = append(l.problems, fmt.Errorf("%s: %s: not a section; write [%s] above its keys", path, name, name))
			reported[name] = true
			continue
		}
		for _, k := range sortedKeys(keys) {
			key := name + "." + k
			f, ok := field(s.v, k)
			if !ok {
				l.problems = append(l.problems, fmt.Errorf("%s: unknown key %s; the keys of [%s] are %s", path, key, name, keyNames(s.v)))
				reported[key] = true
				continue
			}
			l.origin[key] = path
			if err := md.PrimitiveDecode(keys[k], f.Addr().Interface()); err != nil {
				l.problem(key, fmt.Errorf("%s: %s", key, tomlReason(err)))
				reported[key] = true
			}
		}
	}
	// Anything left undecoded sits below a key (a table where a value
	// belongs).
	for _, k := range md.Undecoded() {
		key := k.String()
		if reported[key] || len(k) > 0 && reported[k[0]] || len(k) > 1 && reported[k[0]+"."+k[1]] {
			continue
		}
		l.problems = append(l.problems, fmt.Errorf("%s: unknown key %s", path, key))
	}
}

// lastKey is the part of the TOML decoder's messages that repeats the key.
var lastKey = regexp.MustCompile(` \(last key "[^"]*"\)`)

// tomlReason shortens the TOML decoder's type errors: "line 6:
// incompatible types: TOML value has type string; destination has type
// integer".
func tomlReason(err error) string {
	return lastKey.ReplaceAllString(strings.TrimPrefix(err.Error(), "toml: "), "")
}

// env applies ANOMALYD_<SECTION>_<KEY> variables. A variable under a
// known section's prefix that names no key is an error (a typo would
// otherwise be ignored); other ANOMALYD_ variables are left alone.
func (l *loader) env(env []string) {
	vars := make(map[string]string)
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, envPrefix) {
			vars[k] = v
		}
	}
	for _, name := range sortedKeys(vars) {
		rest := strings.TrimPrefix(name, envPrefix)
		for _, s := range sections(&l.cfg) {
			prefix := strings.ToUpper(s.name) + "_"
			if !strings.HasPrefix(rest, prefix) {
				continue
			}
			k := strings.ToLower(strings.TrimPrefix(rest, prefix))
			key := s.name + "." + k
			f, ok := field(s.v, k)
			if !ok {
				l.problems = append(l.problems, fmt.Errorf("environment %s: unknown key %s; the keys of [%s] are %s", name, key, s.name, keyNames(s.v)))
				break
			}
			l.origin[key] = "environment " + name
			if err := setString(f, vars[name]); err != nil {
				l.problem(key, fmt.Errorf("%s: %w", key, err))
			}
			break
		}
	}
}

// flags copies the value of every flag the user set from flagCfg.
func (l *loader) flags(fs *pflag.FlagSet, flagCfg *Config) {
	fs.Visit(func(f *pflag.Flag) {
		keys := f.Annotations[keyAnnotation]
		if len(keys) != 1 {
			return // not a configuration flag (--config, --timeout…)
		}
		dst, ok1 := lookupKey(&l.cfg, keys[0])
		src, ok2 := lookupKey(flagCfg, keys[0])
		if !ok1 || !ok2 {
			panic("flag --" + f.Name + " bound to unknown key " + keys[0]) // a programming error, caught by tests
		}
		dst.Set(src)
		l.origin[keys[0]] = "flag --" + f.Name
	})
}

// lookupKey returns the field of c for "section.key".
func lookupKey(c *Config, key string) (reflect.Value, bool) {
	sec, k, ok := strings.Cut(key, ".")
	if !ok {
		return reflect.Value{}, false
	}
	for _, s := range sections(c) {
		if s.name == sec {
			return field(s.v, k)
		}
	}
	return reflect.Value{}, false
}

// field returns the field of struct v whose TOML key is k.
func field(v reflect.Value, k string) (reflect.Value, bool) {
	for i := range v.NumField() {
		if tomlName(v.Type().Field(i)) == k {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// keyNames lists the keys of a section, for error messages.
func keyNames(v reflect.Value) string {
	var names []string
	for i := range v.NumField() {
		if n := tomlName(v.Type().Field(i)); n != "" {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

func sectionNames(c *Config) string {
	var names []string
	for _, s := range sections(c) {
		names = append(names, "["+s.name+"]")
	}
	return strings.Join(names, ", ")
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// setString parses s into the field f, for environment variables.
func setString(f reflect.Value, s string) error {
	if f.Addr().Type().Implements(textUnmarshalerType) {
		return f.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	}
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("'%s' is not a duration such as 10s or 1m30s", s)
		}
		f.SetInt(int64(d))
		return nil
	case f.Kind() == reflect.String:
		f.SetString(s)
		return nil
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("'%s' is not true or false", s)
		}
		f.SetBool(b)
		return nil
	case f.CanInt():
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("'%s' is not an integer", s)
		}
		f.SetInt(n)
		return nil
	case f.CanUint():
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("'%s' is not a non-negative integer", s)
		}
		f.SetUint(n)
		return nil
	case f.CanFloat():
		x, err := strconv.ParseFloat(strings.TrimSpace(s), f.Type().Bits())
		if err != nil {
			return fmt.Errorf("'%s' is not a number", s)
		}
		f.SetFloat(x)
		return nil
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v := reflect.MakeSlice(f.Type(), len(items), len(items))
		for i, item := range items {
			v.Index(i).SetString(item)
		}
		f.Set(v)
		return nil
	}
	return fmt.Errorf("cannot be set from the environment (type %s)", f.Type())
}

func lookupEnv(env []string, name string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeConfig writes c as TOML, the format of the configuration file.
func writeConfig(w io.Writer, c Config) error {
	if _, err := fmt.Fprintln(w, "# anomalyd configuration in effect (defaults < --config file < ANOMALYD_* environment < flags)"); err != nil {
		return err
	}
	enc := toml.NewEncoder(w)
	enc.Indent = ""
	return enc.Encode(c)
}
