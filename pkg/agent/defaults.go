package agent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/anomalyd/anomalyd/pkg/detect"
	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// DetectConfig holds the daemon-wide defaults of the TICKscript options
// (the [detect] section of the configuration file). A task's own options
// override them; Field has no default. Zero Period and History keep their
// usual meaning: derived from the data's step, and 14 × period.
type DetectConfig struct {
	Period                     Duration `toml:"period"`
	History                    Duration `toml:"history"`
	MaxAnoms                   float64  `toml:"max_anoms"`
	Alpha                      float64  `toml:"alpha"`
	Direction                  string   `toml:"direction"`
	Threshold                  string   `toml:"threshold"`
	Longterm                   bool     `toml:"longterm"`
	PiecewiseMedianPeriodWeeks int      `toml:"piecewise_median_period_weeks"`
	Emit                       string   `toml:"emit"`
}

// DefaultDetectConfig returns the defaults of DESIGN.md, the same as
// DefaultOptions.
func DefaultDetectConfig() DetectConfig {
	p := detect.DefaultParams()
	return DetectConfig{
		MaxAnoms:                   p.MaxAnoms,
		Alpha:                      p.Alpha,
		Direction:                  p.Direction.String(),
		Threshold:                  "none",
		PiecewiseMedianPeriodWeeks: p.PiecewiseMedianPeriodWeeks,
		Emit:                       EmitNew.String(),
	}
}

// Validate reports every invalid default, with the reasons Init gives for
// the same TICKscript option; each error starts with the key.
func (c DetectConfig) Validate() error {
	_, err := c.Options()
	return err
}

// Options checks the defaults and returns them as Options (Field empty),
// for Config.Defaults.
func (c DetectConfig) Options() (Options, error) {
	o := DefaultOptions()
	var errs []error
	set := func(key, option string, v *udfpb.OptionValue) {
		spec, _ := lookupOption(option)
		if err := spec.apply(&o, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	if c.Period != 0 {
		set("period", "period", &udfpb.OptionValue{Value: &udfpb.OptionValue_DurationValue{DurationValue: int64(c.Period)}})
	}
	if c.History != 0 {
		set("history", "history", &udfpb.OptionValue{Value: &udfpb.OptionValue_DurationValue{DurationValue: int64(c.History)}})
	}
	set("max_anoms", "maxAnoms", &udfpb.OptionValue{Value: &udfpb.OptionValue_DoubleValue{DoubleValue: c.MaxAnoms}})
	set("alpha", "alpha", &udfpb.OptionValue{Value: &udfpb.OptionValue_DoubleValue{DoubleValue: c.Alpha}})
	set("direction", "direction", &udfpb.OptionValue{Value: &udfpb.OptionValue_StringValue{StringValue: c.Direction}})
	set("threshold", "threshold", &udfpb.OptionValue{Value: &udfpb.OptionValue_StringValue{StringValue: c.Threshold}})
	set("longterm", "longterm", &udfpb.OptionValue{Value: &udfpb.OptionValue_BoolValue{BoolValue: c.Longterm}})
	set("piecewise_median_period_weeks", "piecewiseMedianPeriodWeeks", &udfpb.OptionValue{Value: &udfpb.OptionValue_IntValue{IntValue: int64(c.PiecewiseMedianPeriodWeeks)}})
	set("emit", "emit", &udfpb.OptionValue{Value: &udfpb.OptionValue_StringValue{StringValue: c.Emit}})
	if len(errs) == 0 {
		if err := o.checkSpans(); err != nil {
			errs = append(errs, err) // starts with "history: "
		}
	}
	return o, errors.Join(errs...)
}

// Duration is a time.Duration written as in TICKscript ("1d", "2w", "90m")
// or as Go writes it ("36h", "1h30m"); in TOML it is a string. It is a flag
// value too (String, Set, Type).
type Duration time.Duration

// String writes d as a TICKscript literal where one fits (1d, 2h, 30s),
// else as Go does; zero is "0s".
func (d Duration) String() string { return fmtDur(time.Duration(d)) }

// Set parses "N" followed by d or w, or anything time.ParseDuration takes.
func (d *Duration) Set(s string) error {
	if n, unit := strings.TrimRight(s, "dw"), strings.TrimLeft(s, "+-0123456789"); n != s && (unit == "d" || unit == "w") {
		v, err := strconv.ParseInt(n, 10, 32)
		if err == nil {
			day := 24 * time.Hour
			if unit == "w" {
				day *= 7
			}
			*d = Duration(time.Duration(v) * day)
			return nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("'%s' is not a duration such as 1d, 12h or 90m", s)
	}
	*d = Duration(v)
	return nil
}

// Type names the flag's value type in help output.
func (d *Duration) Type() string { return "duration" }

// MarshalText writes d as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses d as Set does.
func (d *Duration) UnmarshalText(b []byte) error { return d.Set(string(b)) }
