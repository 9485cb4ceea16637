package detect

import (
	"fmt"
	"time"
)

// Direction selects which deviations the ESD test looks for.
type Direction uint8

const (
	Pos  Direction = iota // values above the expected ones (R's default)
	Neg                   // values below
	Both                  // either side, two-sided test
)

var directionNames = [...]string{Pos: "pos", Neg: "neg", Both: "both"}

func (d Direction) String() string {
	if int(d) < len(directionNames) {
		return directionNames[d]
	}
	return fmt.Sprintf("Direction(%d)", d)
}

// ParseDirection accepts "pos", "neg" or "both".
func ParseDirection(s string) (Direction, error) {
	for i, n := range directionNames {
		if s == n {
			return Direction(i), nil
		}
	}
	return 0, &ParamError{Param: "direction", Msg: "direction options are: pos | neg | both."}
}

// Threshold filters anomalies by the maxima of the series' days (Ts) or
// periods (Vec): only anomalies at or above the threshold are kept.
type Threshold uint8

const (
	ThresholdNone Threshold = iota
	MedMax                  // median of the maxima
	P95                     // 95th percentile (type 7) of the maxima
	P99                     // 99th percentile (type 7) of the maxima
)

var thresholdNames = [...]string{ThresholdNone: "None", MedMax: "med_max", P95: "p95", P99: "p99"}

func (t Threshold) String() string {
	if int(t) < len(thresholdNames) {
		return thresholdNames[t]
	}
	return fmt.Sprintf("Threshold(%d)", t)
}

// ParseThreshold accepts R's names ("None", "med_max", "p95", "p99") and
// "none" for "None".
func ParseThreshold(s string) (Threshold, error) {
	if s == "none" {
		return ThresholdNone, nil
	}
	for i, n := range thresholdNames {
		if s == n {
			return Threshold(i), nil
		}
	}
	return 0, &ParamError{Param: "threshold", Msg: "threshold options are: None | med_max | p95 | p99."}
}

// OnlyLast keeps only the anomalies of the last day or hour (Ts).
type OnlyLast uint8

const (
	OnlyLastNone OnlyLast = iota
	OnlyLastDay
	OnlyLastHour
)

var onlyLastNames = [...]string{OnlyLastNone: "", OnlyLastDay: "day", OnlyLastHour: "hr"}

func (o OnlyLast) String() string {
	if int(o) < len(onlyLastNames) {
		return onlyLastNames[o]
	}
	return fmt.Sprintf("OnlyLast(%d)", o)
}

// ParseOnlyLast accepts "", "day" or "hr".
func ParseOnlyLast(s string) (OnlyLast, error) {
	for i, n := range onlyLastNames {
		if s == n {
			return OnlyLast(i), nil
		}
	}
	return 0, &ParamError{Param: "only_last", Msg: "only_last must be either 'day' or 'hr'"}
}

// Params are the parameters of Ts, named after R's AnomalyDetectionTs.
type Params struct {
	// Period is the length of one seasonal cycle. Zero derives it from the
	// step between the two last timestamps, as R does for 1-minute, 1-hour
	// and 1-day steps (1440, 24 and 7 observations); for other steps it is
	// one day of observations (one week for steps of a day or more), where R
	// would use 1440 observations for 5-minute data (five days).
	Period time.Duration

	// MaxAnoms is the upper bound on the share of anomalies, in [0, 0.49].
	// Values below 1/N are raised to 1/N.
	MaxAnoms float64

	// Alpha is the significance level of the ESD test. R never checks it;
	// neither does Ts.
	Alpha float64

	Direction Direction
	Threshold Threshold

	// Longterm analyses the series in windows of
	// PiecewiseMedianPeriodWeeks weeks instead of all at once.
	Longterm                   bool
	PiecewiseMedianPeriodWeeks int

	OnlyLast OnlyLast
}

// DefaultParams returns R's defaults: max_anoms 0.10, alpha 0.05, direction
// pos, no threshold, no longterm (2 weeks when enabled).
func DefaultParams() Params {
	return Params{
		MaxAnoms:                   0.10,
		Alpha:                      0.05,
		Direction:                  Pos,
		PiecewiseMedianPeriodWeeks: 2,
	}
}

// VecParams are the parameters of Vec, named after R's AnomalyDetectionVec.
type VecParams struct {
	Period    int // observations per seasonal cycle; required
	MaxAnoms  float64
	Alpha     float64
	Direction Direction
	Threshold Threshold

	// LongtermPeriod, when positive, analyses the series in windows of this
	// many observations.
	LongtermPeriod int

	// OnlyLast keeps only the anomalies of the last period.
	OnlyLast bool
}

// DefaultVecParams returns R's defaults for the given period.
func DefaultVecParams(period int) VecParams {
	return VecParams{Period: period, MaxAnoms: 0.10, Alpha: 0.05, Direction: Pos}
}

// Anomaly is one anomalous observation.
type Anomaly struct {
	// Index is the 0-based position of the observation in the input.
	Index int
	// Time is the observation's timestamp in Unix nanoseconds (Ts only).
	Time int64
	// Value is the observed value.
	Value float64
	// Expected is trunc(trend + seasonal) of the STL decomposition at this
	// observation: R's e_value. Unlike R, every anomaly carries its own
	// expected value, also when longterm windows report anomalies out of
	// time order.
	Expected float64
	// Score is the ESD test statistic when the observation was removed:
	// its deviation from the median of the remaining residuals divided by
	// their MAD.
	Score float64
}
