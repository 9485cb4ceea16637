package agent

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anomalyd/anomalyd/pkg/detect"
	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// Emit selects which anomalies a detection run sends to Kapacitor.
type Emit uint8

const (
	EmitNew Emit = iota // anomalies newer than the group's watermark
	EmitAll             // every anomaly of the analysed history, every time
)

func (e Emit) String() string {
	if e == EmitAll {
		return "all"
	}
	return "new"
}

// Output field names besides the analysed field.
const (
	FieldExpected = "expected"
	FieldScore    = "score"
)

// Limits of the duration options: a period under a second or over a year
// is certainly a mistake, and keeping it bounded keeps 14 × period and
// 2 × history far from overflow.
const (
	minPeriod = time.Second
	maxPeriod = 366 * 24 * time.Hour
)

// Options are the TICKscript options of one @anomaly() node.
type Options struct {
	Field   string
	Period  time.Duration // 0: derived from the data's step
	History time.Duration // 0: 14 × period
	Detect  detect.Params // MaxAnoms, Alpha, Direction, Threshold, Longterm, PiecewiseMedianPeriodWeeks
	Emit    Emit
}

// DefaultOptions returns the defaults of DESIGN.md (Field is required and
// left empty).
func DefaultOptions() Options {
	return Options{Detect: detect.DefaultParams(), Emit: EmitNew}
}

// Fingerprint identifies the options that give a group's history its
// meaning; a snapshot taken with another fingerprint is not restored.
func (o Options) Fingerprint() string {
	return fmt.Sprintf("field=%q period=%s history=%s", o.Field, o.Period, o.History)
}

// option describes one TICKscript option: its argument type and how to
// apply a value.
type option struct {
	name  string
	typ   udfpb.ValueType
	apply func(o *Options, v *udfpb.OptionValue) error
}

var optionTable = []option{
	{"field", udfpb.ValueType_STRING, func(o *Options, v *udfpb.OptionValue) error {
		s := v.GetStringValue()
		switch s {
		case "":
			return errors.New("must not be empty, e.g. .field('value')")
		case FieldExpected, FieldScore:
			return fmt.Errorf("'%s' would collide with the output field '%s'; rename it in the query (AS \"value\")", s, s)
		}
		o.Field = s
		return nil
	}},
	{"period", udfpb.ValueType_DURATION, func(o *Options, v *udfpb.OptionValue) error {
		d := time.Duration(v.GetDurationValue())
		if d < minPeriod || d > maxPeriod {
			return fmt.Errorf("%s is out of range, must be in [%s, %s], e.g. .period(1d)", fmtDur(d), fmtDur(minPeriod), fmtDur(maxPeriod))
		}
		o.Period = d
		return nil
	}},
	{"history", udfpb.ValueType_DURATION, func(o *Options, v *udfpb.OptionValue) error {
		d := time.Duration(v.GetDurationValue())
		if d < 2*minPeriod || d > 100*maxPeriod {
			return fmt.Errorf("%s is out of range, must be in [%s, %s], e.g. .history(14d)", fmtDur(d), fmtDur(2*minPeriod), fmtDur(100*maxPeriod))
		}
		o.History = d
		return nil
	}},
	{"maxAnoms", udfpb.ValueType_DOUBLE, func(o *Options, v *udfpb.OptionValue) error {
		x := v.GetDoubleValue()
		if !(x > 0 && x <= 0.49) {
			return fmt.Errorf("%v is out of range, must be in (0, 0.49]", x)
		}
		o.Detect.MaxAnoms = x
		return nil
	}},
	{"alpha", udfpb.ValueType_DOUBLE, func(o *Options, v *udfpb.OptionValue) error {
		x := v.GetDoubleValue()
		if !(x > 0 && x < 1) {
			return fmt.Errorf("%v is out of range, must be in (0, 1)", x)
		}
		o.Detect.Alpha = x
		return nil
	}},
	{"direction", udfpb.ValueType_STRING, func(o *Options, v *udfpb.OptionValue) error {
		d, err := detect.ParseDirection(v.GetStringValue())
		if err != nil {
			return fmt.Errorf("'%s' is not one of 'pos', 'neg', 'both'", v.GetStringValue())
		}
		o.Detect.Direction = d
		return nil
	}},
	{"threshold", udfpb.ValueType_STRING, func(o *Options, v *udfpb.OptionValue) error {
		t, err := detect.ParseThreshold(v.GetStringValue())
		if err != nil {
			return fmt.Errorf("'%s' is not one of 'none', 'med_max', 'p95', 'p99'", v.GetStringValue())
		}
		o.Detect.Threshold = t
		return nil
	}},
	{"longterm", udfpb.ValueType_BOOL, func(o *Options, v *udfpb.OptionValue) error {
		o.Detect.Longterm = v.GetBoolValue()
		return nil
	}},
	{"piecewiseMedianPeriodWeeks", udfpb.ValueType_INT, func(o *Options, v *udfpb.OptionValue) error {
		n := v.GetIntValue()
		if n < 2 || n > 520 {
			return fmt.Errorf("%d is out of range, must be in [2, 520]", n)
		}
		o.Detect.PiecewiseMedianPeriodWeeks = int(n)
		return nil
	}},
	{"emit", udfpb.ValueType_STRING, func(o *Options, v *udfpb.OptionValue) error {
		switch v.GetStringValue() {
		case "new":
			o.Emit = EmitNew
		case "all":
			o.Emit = EmitAll
		default:
			return fmt.Errorf("'%s' is not one of 'new', 'all'", v.GetStringValue())
		}
		return nil
	}},
}

// fmtDur formats d as a TICKscript duration literal where it can (1d, 2h,
// 30m, 10s), else as Go does.
func fmtDur(d time.Duration) string {
	for _, u := range []struct {
		d      time.Duration
		suffix string
	}{{7 * 24 * time.Hour, "w"}, {24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d != 0 && d%u.d == 0 {
			return fmt.Sprintf("%d%s", d/u.d, u.suffix)
		}
	}
	return d.String()
}

// optionInfo is the options map of the InfoResponse.
func optionInfo() map[string]*udfpb.OptionInfo {
	m := make(map[string]*udfpb.OptionInfo, len(optionTable))
	for _, o := range optionTable {
		m[o.name] = &udfpb.OptionInfo{ValueTypes: []udfpb.ValueType{o.typ}}
	}
	return m
}

// valueType returns the type of the value set in v's oneof, and false if
// the oneof is unset.
func valueType(v *udfpb.OptionValue) (udfpb.ValueType, bool) {
	switch v.GetValue().(type) {
	case *udfpb.OptionValue_BoolValue:
		return udfpb.ValueType_BOOL, true
	case *udfpb.OptionValue_IntValue:
		return udfpb.ValueType_INT, true
	case *udfpb.OptionValue_DoubleValue:
		return udfpb.ValueType_DOUBLE, true
	case *udfpb.OptionValue_StringValue:
		return udfpb.ValueType_STRING, true
	case *udfpb.OptionValue_DurationValue:
		return udfpb.ValueType_DURATION, true
	}
	return 0, false
}

// ParseOptions validates the options of an InitRequest and returns them
// with the defaults filled in. The error names every bad option and what
// it accepts.
func ParseOptions(opts []*udfpb.Option) (Options, error) {
	return ParseOptionsWith(DefaultOptions(), opts)
}

// ParseOptionsWith is ParseOptions starting from the given defaults (the
// daemon's [detect] section) instead of DefaultOptions.
func ParseOptionsWith(defaults Options, opts []*udfpb.Option) (Options, error) {
	o := defaults
	o.Field = ""
	var errs []string
	seen := make(map[string]bool, len(opts))
	for _, opt := range opts {
		name := opt.GetName()
		spec, ok := lookupOption(name)
		if !ok {
			errs = append(errs, fmt.Sprintf("unknown option '%s', known options are: %s", name, optionNames()))
			continue
		}
		if seen[name] {
			errs = append(errs, fmt.Sprintf("%s: given more than once, set it once", name))
			continue
		}
		seen[name] = true
		if n := len(opt.GetValues()); n != 1 {
			errs = append(errs, fmt.Sprintf("%s: takes exactly one %s argument, got %d", name, spec.typ, n))
			continue
		}
		v := opt.GetValues()[0]
		typ, set := valueType(v)
		switch {
		case v == nil || !set:
			errs = append(errs, fmt.Sprintf("%s: no value given (the argument is unset), expected a %s", name, spec.typ))
			continue
		case typ != spec.typ:
			errs = append(errs, fmt.Sprintf("%s: wrong type %s, expected %s", name, typ, spec.typ))
			continue
		}
		if err := spec.apply(&o, v); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", name, err))
		}
	}
	if !seen["field"] {
		errs = append(errs, "field: required, e.g. .field('value')")
	}
	if len(errs) == 0 {
		if err := o.checkSpans(); err != nil {
			msg := err.Error()
			if !seen["history"] {
				msg += " (the history is anomalyd's default, detect.history; set .history() in the task)"
			}
			errs = append(errs, msg)
		}
	}
	if len(errs) > 0 {
		return o, errors.New(strings.Join(errs, "; "))
	}
	return o, nil
}

// checkSpans checks that the history can hold the two periods S-H-ESD needs.
func (o Options) checkSpans() error {
	if o.History == 0 {
		return nil
	}
	p := o.Period
	if p == 0 {
		p = 24 * time.Hour // the shortest derived period
	}
	if o.History < 2*p {
		return fmt.Errorf("history: %s is shorter than two periods (2 × %s); S-H-ESD needs at least two, e.g. .history(%s)", fmtDur(o.History), fmtDur(p), fmtDur(14*p))
	}
	return nil
}

func lookupOption(name string) (option, bool) {
	for _, o := range optionTable {
		if o.name == name {
			return o, true
		}
	}
	return option{}, false
}

func optionNames() string {
	names := make([]string, len(optionTable))
	for i, o := range optionTable {
		names[i] = o.name
	}
	return strings.Join(names, ", ")
}
